"""On-call admin pages. Permissions come from the policy; saves go through the services
(schedules with their ordered participants and routed groups, overrides, group routing)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count

from itsm import policy
from itsm.admin_base import PolicyModelAdmin
from itsm.errors import ItsmError
from itsm.models import AssignmentGroup, User
from itsm.wallclock import offered_time_zone_choices
from oncall import services
from oncall.models import GroupSchedule, Override, Schedule

PLAIN_FIELDS = [
    "name", "description", "time_zone", "rotation", "handoff_day", "handoff_time",
    "custom_rotation_hours", "start",
]  # fmt: skip


class ScheduleAdminForm(forms.ModelForm):
    """The schedule with its participants as usernames in rotation order."""

    time_zone = forms.ChoiceField(choices=offered_time_zone_choices, initial="UTC")
    participant_usernames = forms.CharField(
        label="Participants",
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text="Usernames, one per line, in rotation order: the first is on call first.",
    )
    routed_groups = forms.ModelMultipleChoiceField(
        label="Routed assignment groups",
        queryset=AssignmentGroup.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Incidents routed to these groups go to whoever is on call.",
    )

    class Meta:
        model = Schedule
        fields = PLAIN_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = offered_time_zone_choices(self.instance.time_zone or "")
        if self.instance.pk is not None:
            rows = self.instance.participant_rows.select_related("user")
            self.initial["participant_usernames"] = "\n".join(row.user.get_username() for row in rows)
            self.initial["routed_groups"] = list(self.instance.group_links.values_list("group_id", flat=True))

    def clean_participant_usernames(self) -> list:
        names = [n.strip() for n in self.cleaned_data["participant_usernames"].splitlines() if n.strip()]
        found = {u.get_username(): u for u in User.objects.filter(username__in=names)}
        missing = [n for n in names if n not in found]
        if missing:
            raise forms.ValidationError(f"No such user: {', '.join(missing)}.")
        users = [found[n] for n in names]
        problems = services.participant_errors(users)
        if problems:
            raise forms.ValidationError(problems)
        return users

    def clean_routed_groups(self):
        groups = self.cleaned_data["routed_groups"]
        problems = services.group_errors(groups, self.instance if self.instance.pk else None)
        if problems:
            raise forms.ValidationError(problems)
        return groups


@admin.action(description="Give the selected schedules' feeds a new link")
def reset_feed_links(modeladmin, request, queryset):
    done = 0
    for schedule in queryset:
        try:
            services.feed_reset(actor=request.user, schedule=schedule)
        except ItsmError as exc:
            modeladmin.message_user(request, f"{schedule}: {exc.message}", messages.WARNING)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{done} feed link(s) changed; the old links no longer work.")


@admin.register(Schedule)
class ScheduleAdmin(PolicyModelAdmin):
    form = ScheduleAdminForm
    fields = [*PLAIN_FIELDS, "participant_usernames", "routed_groups"]
    list_display = ["name", "rotation", "time_zone", "participant_count", "updated_at"]
    list_filter = ["rotation"]
    search_fields = ["name", "description"]
    actions = [reset_feed_links]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(participant_total=Count("participant_rows"))

    @admin.display(description="participants", ordering="participant_total")
    def participant_count(self, obj) -> int:
        return obj.participant_total

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            readonly = [*readonly, "participant_usernames", "routed_groups"]
        return readonly

    @staticmethod
    def _service_data(data: dict) -> dict:
        """The form's participant and group fields under the names the service (and API) use."""
        data = dict(data)
        if "participant_usernames" in data:
            data["participants"] = data.pop("participant_usernames")
        if "routed_groups" in data:
            data["assignment_groups"] = list(data.pop("routed_groups"))
        return data

    def create_record(self, request, data):
        return services.schedule_create(actor=request.user, data=self._service_data(data))

    def update_record(self, request, obj, data, expected_version):
        return services.schedule_update(
            schedule=obj, actor=request.user, data=self._service_data(data), expected_version=expected_version
        )

    def save_related(self, request, form, formsets, change):
        """Participants and routed groups were written by the service."""

    def delete_record(self, request, obj):
        services.schedule_delete(schedule=obj, actor=request.user)


@admin.register(Override)
class OverrideAdmin(PolicyModelAdmin):
    list_display = ["schedule", "user", "start", "end", "reason", "created_by", "created_at"]
    list_filter = ["schedule"]
    list_select_related = ["schedule", "user", "created_by"]
    search_fields = ["reason", "user__username", "schedule__name"]
    date_hierarchy = "start"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "schedule" and field is not None:
            field.queryset = policy.readable(request.user, Schedule)
        return field

    def create_record(self, request, data):
        data = dict(data)
        return services.override_create(schedule=data.pop("schedule"), actor=request.user, data=data)

    def delete_record(self, request, obj):
        services.override_delete(override=obj, actor=request.user)


@admin.register(GroupSchedule)
class GroupScheduleAdmin(PolicyModelAdmin):
    list_display = ["group", "schedule"]
    list_select_related = ["group", "schedule"]
    search_fields = ["group__name", "schedule__name"]
