"""On-call schedules: a rotation over ordered participants, overrides laid over it, the
assignment groups routed to it, and the secret links of its calendar feeds.

What the rotation means is written once, in ``oncall/rotation.py``.
"""

from __future__ import annotations

import secrets
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from itsm import policy
from itsm.validators import date_error
from itsm.wallclock import Weekday, time_zone_names
from oncall import rotation

MAX_CUSTOM_HOURS = 24 * 366  # a shift of at most a (leap) year
MAX_PARTICIPANTS = 500


def instant_error(value: datetime | None) -> str | None:
    """Why an instant cannot be used, or None."""
    if value is None:
        return None
    if value.tzinfo is None:
        return "Give a time zone (e.g. 2026-03-15T14:00:00Z)."
    return date_error(value)


class Rotation(models.TextChoices):
    DAILY = rotation.DAILY, "Daily"
    WEEKLY = rotation.WEEKLY, "Weekly"
    CUSTOM = rotation.CUSTOM, "Custom (every N hours)"


class Schedule(models.Model):
    """Who is on call, in turn. Only weekly rotations have a handoff day, only custom ones a
    number of hours per shift; daily and weekly hand off at ``handoff_time`` local time."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="An IANA time zone, e.g. Europe/London."
    )
    rotation = models.CharField(max_length=10, choices=Rotation.choices, default=Rotation.WEEKLY)
    handoff_day = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=Weekday.choices, help_text="Weekly rotations: 0 = Monday … 6 = Sunday."
    )
    handoff_time = models.TimeField(default=time(9, 0), help_text="Daily and weekly rotations, local time.")
    custom_rotation_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="Custom rotations: hours per shift, counted from the start."
    )
    start = models.DateTimeField(help_text="When the rotation begins; participant 1 is on call first.")
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ScheduleParticipant", related_name="oncall_schedules", blank=True
    )
    assignment_groups = models.ManyToManyField(
        "itsm.AssignmentGroup",
        through="GroupSchedule",
        related_name="oncall_schedules",
        blank=True,
        help_text="Incidents routed to these groups are assigned to whoever is on call.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(handoff_day__isnull=True) | Q(handoff_day__gte=0, handoff_day__lte=6),
                name="oncall_handoff_day_0_6",
            ),
            models.CheckConstraint(
                condition=Q(custom_rotation_hours__isnull=True) | Q(custom_rotation_hours__gte=1),
                name="oncall_custom_hours_positive",
            ),
            models.CheckConstraint(
                condition=~Q(rotation="weekly") | Q(handoff_day__isnull=False),
                name="oncall_weekly_has_handoff_day",
            ),
            models.CheckConstraint(
                condition=~Q(rotation="custom") | Q(custom_rotation_hours__isnull=False),
                name="oncall_custom_has_hours",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors: dict[str, str] = {}
        if self.time_zone not in time_zone_names():
            errors["time_zone"] = "Choose an IANA time zone, e.g. Europe/London or UTC."
        if self.rotation == Rotation.WEEKLY and self.handoff_day is None:
            errors["handoff_day"] = "A weekly rotation needs a handoff day (0 = Monday … 6 = Sunday)."
        if self.rotation != Rotation.WEEKLY and self.handoff_day is not None:
            errors["handoff_day"] = "Only weekly rotations have a handoff day."
        if self.rotation == Rotation.CUSTOM:
            hours = self.custom_rotation_hours
            if hours is None:
                errors["custom_rotation_hours"] = "A custom rotation needs its hours per shift (1 or more)."
            elif not 1 <= hours <= MAX_CUSTOM_HOURS:
                errors["custom_rotation_hours"] = f"Give between 1 and {MAX_CUSTOM_HOURS} hours."
        elif self.custom_rotation_hours is not None:
            errors["custom_rotation_hours"] = "Only custom rotations have hours per shift."
        problem = instant_error(self.start)
        if problem:
            errors["start"] = problem
        if errors:
            raise ValidationError(errors)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def rotation_spec(self, participants=None) -> rotation.RotationSpec:
        """The rotation as ``oncall.rotation`` computes it; ``participants`` defaults to the
        users in order (use ``prefetch_related("participant_rows__user")``)."""
        if participants is None:
            participants = [row.user for row in self.participant_rows.all()]
        return rotation.RotationSpec(
            kind=self.rotation,
            tz=self.tz,
            start=self.start,
            participants=tuple(participants),
            handoff_time=self.handoff_time,
            handoff_day=self.handoff_day,
            hours=self.custom_rotation_hours,
        )


class ScheduleParticipant(models.Model):
    """A participant's place in the rotation: position 0 is on call first."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="participant_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["schedule", "position"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "position"], name="oncall_unique_position"),
            models.UniqueConstraint(fields=["schedule", "user"], name="oncall_unique_participant"),
        ]

    def __str__(self) -> str:
        return f"{self.user} #{self.position + 1} in {self.schedule}"


class Override(models.Model):
    """Someone covers a stretch of the schedule. Overrides always win over the rotation;
    among overlapping overrides the most recently created wins."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="oncall_override_ends_after_start")
        ]
        indexes = [
            models.Index(fields=["schedule", "start", "end"], name="oncall_override_span"),
            models.Index(fields=["schedule", "end"], name="oncall_override_end"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.user} on call for {self.schedule_id and self.schedule} from {self.start:%Y-%m-%d %H:%M}"
        )

    def clean(self):
        errors: dict[str, str] = {}
        for name in ("start", "end"):
            problem = instant_error(getattr(self, name))
            if problem:
                errors[name] = problem
        if not errors and self.start is not None and self.end is not None and self.end <= self.start:
            errors["end"] = "The override must end after it starts."
        user = self.user if self.user_id is not None else None
        if user is not None and not (user.is_active and policy.has_permission(user, "incidents.manage")):
            errors["user"] = "Only active service-desk agents can be on call."
        if errors:
            raise ValidationError(errors)

    @property
    def rank(self) -> tuple:
        """Precedence among overlapping overrides: the most recently created wins."""
        return (self.created_at, self.pk)

    def span(self) -> rotation.OverrideSpan:
        return rotation.OverrideSpan(self.pk, self.user, self.start, self.end, self.rank)


class GroupSchedule(models.Model):
    """An assignment group routed to a schedule: its incidents go to whoever is on call."""

    group = models.OneToOneField("itsm.AssignmentGroup", on_delete=models.CASCADE, related_name="oncall_link")
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="group_links")

    class Meta:
        ordering = ["group"]
        verbose_name = "group routing"
        verbose_name_plural = "group routings"

    def __str__(self) -> str:
        return f"{self.group} → {self.schedule}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


class FeedToken(models.Model):
    """The secret in a calendar feed's link: of one schedule, or of one person's own shifts.
    Resetting it replaces the secret, so the old link stops working."""

    schedule = models.OneToOneField(
        Schedule, null=True, blank=True, on_delete=models.CASCADE, related_name="feed"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="oncall_feed"
    )
    token = models.CharField(max_length=64, default=new_token)
    reset_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(schedule__isnull=False, user__isnull=True)
                | Q(schedule__isnull=True, user__isnull=False),
                name="oncall_feed_of_schedule_or_person",
            )
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.schedule or self.user}"
