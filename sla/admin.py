"""SLA admin pages: business calendars with their working periods and holidays (managed by the
ITSM administrator), and SLA clocks (read-only: only ``sla.clocks`` and the sweeps move them).

Permissions come from the policy; the calendar and each inline row are saved through
``itsm.services`` (``itsm.admin_base.ServiceInlinesMixin``) so the journal records every change.
"""

from __future__ import annotations

from django.contrib import admin

from itsm import policy
from itsm.admin_base import PolicyInline, PolicyModelAdmin, ServiceInlinesMixin
from sla.models import BusinessCalendar, Holiday, SlaClock, SlaClockEvent, SlaStatus, WorkingPeriod


class WorkingPeriodInline(PolicyInline):
    model = WorkingPeriod
    fields = ["weekday", "start", "end"]
    extra = 0


class HolidayInline(PolicyInline):
    model = Holiday
    fields = ["name", "date", "recurring"]
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ServiceInlinesMixin, PolicyModelAdmin):
    """When SLA clocks run: 24×7 or weekly working periods in a time zone, minus holidays."""

    list_display = ["name", "time_zone", "always_open", "hours"]
    list_filter = ["always_open", "time_zone"]
    search_fields = ["name", "description"]
    fields = ["name", "description", "time_zone", "always_open"]
    inlines = [WorkingPeriodInline, HolidayInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("periods")

    @admin.display(description="working hours")
    def hours(self, obj) -> str:
        return obj.hours_summary()


class ClockEventInline(admin.TabularInline):
    """What happened to the clock, oldest first: read-only."""

    model = SlaClockEvent
    fields = ["at", "kind", "elapsed", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, "read", SlaClock)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BreachedFilter(admin.SimpleListFilter):
    title = "breached"
    parameter_name = "breached"

    def lookups(self, request, model_admin):
        return [("yes", "Breached"), ("no", "Not breached")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(breached_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(breached_at__isnull=True)
        return queryset


@admin.register(SlaClock)
class SlaClockAdmin(PolicyModelAdmin):
    """SLA clocks, for reading: ``sla.clocks`` and the sweeps are the only writers."""

    list_display = [
        "work_number",
        "target",
        "priority",
        "state",
        "status",
        "due_at",
        "breached_at",
        "is_current",
    ]
    list_filter = ["target", "state", "priority", "is_current", BreachedFilter]
    list_select_related = ["work"]
    search_fields = ["work__number"]
    inlines = [ClockEventInline]
    fields = [
        "work", "definition", "calendar", "target", "priority", "target_duration", "state", "is_current",
        "started_at", "running_since", "elapsed", "due_at", "warn_at", "warned_at", "breached_at",
        "stopped_at",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="work", ordering="work__number")
    def work_number(self, obj) -> str:
        return obj.work.number

    @admin.display(description="status")
    def status(self, obj) -> str:
        value = obj.status()
        return SlaStatus(value).label if value else "—"
