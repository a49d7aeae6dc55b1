"""Desk forms for on-call pages. They only shape input (times typed on the schedule's wall
clock, participants by username in order); the services rule on it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms

from itsm import policy
from itsm.errors import ItsmError
from itsm.models import AssignmentGroup, User
from itsm.wallclock import Weekday, offered_time_zone_choices, time_zone_names
from oncall.models import Rotation, Schedule

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def wall_clock(value: datetime, tz: ZoneInfo) -> datetime:
    """A time typed without a zone, read on the schedule's wall clock."""
    return value.replace(tzinfo=None).replace(tzinfo=tz)


def show_errors(form: forms.Form, exc: ItsmError) -> None:
    """Put a service's refusal on the form: each named field under its input, the rest on top."""
    for name, messages in exc.fields.items():
        for message in messages if isinstance(messages, list | tuple) else [messages]:
            if name in form.fields:
                form.add_error(name, message)
            else:
                form.add_error(None, f"{name.replace('_', ' ').capitalize()}: {message}")
    if not exc.fields:
        form.add_error(None, exc.message)


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    time_zone = forms.ChoiceField(choices=offered_time_zone_choices, initial="UTC")
    rotation = forms.ChoiceField(choices=Rotation.choices, initial=Rotation.WEEKLY)
    handoff_day = forms.TypedChoiceField(
        choices=[("", "—"), *Weekday.choices],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="Weekly rotations only.",
    )
    handoff_time = forms.TimeField(
        initial="09:00", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Daily and weekly rotations, on the schedule's local clock.",
    )  # fmt: skip
    custom_rotation_hours = forms.IntegerField(
        required=False, min_value=1, help_text="Custom rotations only: hours per shift."
    )
    start = forms.DateTimeField(widget=LOCAL_INPUT, help_text="On the schedule's local clock.")
    participants = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="Usernames, one per line, in rotation order: the first is on call first.",
    )
    assignment_groups = forms.ModelMultipleChoiceField(
        queryset=AssignmentGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Incidents routed to these groups go to whoever is on call.",
    )

    def __init__(self, *args, user, current_time_zone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        current = current_time_zone or (self.initial or {}).get("time_zone", "")
        self.fields["time_zone"].choices = offered_time_zone_choices(current)
        self.fields["assignment_groups"].queryset = policy.readable(user, AssignmentGroup).filter(
            is_active=True
        )

    @classmethod
    def initial_for(cls, schedule: Schedule) -> dict:
        return {
            "name": schedule.name,
            "description": schedule.description,
            "time_zone": schedule.time_zone,
            "rotation": schedule.rotation,
            "handoff_day": schedule.handoff_day,
            "handoff_time": schedule.handoff_time,
            "custom_rotation_hours": schedule.custom_rotation_hours,
            "start": schedule.start.astimezone(schedule.tz).replace(tzinfo=None),
            "participants": "\n".join(row.user.get_username() for row in schedule.participant_rows.all()),
            "assignment_groups": [link.group_id for link in schedule.group_links.all()],
        }

    def clean_participants(self) -> list:
        names = [line.strip() for line in self.cleaned_data["participants"].splitlines() if line.strip()]
        found = {u.get_username(): u for u in User.objects.filter(username__in=names)}
        missing = [name for name in names if name not in found]
        if missing:
            raise forms.ValidationError(f"No such user: {', '.join(missing)}.")
        return [found[name] for name in names]

    def clean(self):
        data = super().clean()
        zone, start = data.get("time_zone"), data.get("start")
        if zone in time_zone_names() and start is not None:
            data["start"] = wall_clock(start, ZoneInfo(zone))
        return data


class OverrideForm(forms.Form):
    """Someone covers the schedule: a participant, or anyone else by username."""

    participant = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Who covers")
    username = forms.CharField(required=False, label="…or someone else (username)")
    start = forms.DateTimeField(widget=LOCAL_INPUT)
    end = forms.DateTimeField(widget=LOCAL_INPUT)
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, schedule: Schedule, people: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.schedule = schedule
        self.fields["participant"].choices = [("", "—"), *((u.pk, display_name(u)) for u in people)]
        self.people = {u.pk: u for u in people}
        tz_name = schedule.time_zone
        self.fields["start"].help_text = self.fields["end"].help_text = (
            f"On the schedule's clock ({tz_name})."
        )

    def clean(self):
        data = super().clean()
        chosen, username = data.get("participant"), (data.get("username") or "").strip()
        if chosen is not None and username:
            self.add_error("username", "Choose a participant or give a username, not both.")
        elif chosen is not None:
            data["user"] = self.people.get(chosen)
        elif username:
            data["user"] = User.objects.filter(username=username).first()
            if data["user"] is None:
                self.add_error("username", f"No such user: {username}.")
        else:
            self.add_error("participant", "Say who covers.")
        for name in ("start", "end"):
            if data.get(name) is not None:
                data[name] = wall_clock(data[name], self.schedule.tz)
        return data

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("user", "start", "end", "reason")}
