"""SLA admin pages: business calendars with their working periods and holidays (managed by the
ITSM administrator), and SLA clocks (read-only: only ``sla.clocks`` and the sweeps move them).

Permissions come from the policy; the calendar and each inline row are saved through
``itsm.services`` so the journal records every change. ``PolicyInline`` and
``ServiceInlinesMixin`` are shared with the escalation admin.
"""

from __future__ import annotations

from django.contrib import admin

from itsm import policy, services
from itsm.admin_base import PolicyModelAdmin
from sla.models import BusinessCalendar, Holiday, SlaClock, SlaClockEvent, SlaStatus, WorkingPeriod


class PolicyInline(admin.TabularInline):
    """Inline rows whose permissions come from the policy of the inline's own record type."""

    extra = 0

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, "read", self.model)

    def has_add_permission(self, request, obj=None):
        return policy.can(request.user, "create", self.model)

    def has_change_permission(self, request, obj=None):
        return policy.can(request.user, "update", self.model)

    def has_delete_permission(self, request, obj=None):
        return policy.can(request.user, "delete", self.model)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = policy.limit_choices(request.user, db_field.name, field.queryset)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = policy.limit_choices(request.user, db_field.name, field.queryset)
        return field


class ServiceInlinesMixin:
    """For a ``PolicyModelAdmin`` with ``PolicyInline`` rows: each added, changed or deleted row
    goes through ``itsm.services`` (policy-checked, validated, journaled), not a raw save.

    The forms catch what they can; a refusal only the service can see (e.g. a row another
    administrator added meanwhile) rolls the whole save back and comes back as a message on
    the page, never a 500."""

    def save_formset(self, request, form, formset, change):
        parent = formset.instance
        fk_name = formset.fk.name
        # What the admin's history message reads (formset.save would have set them).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            obj = row.instance
            if formset.can_delete and formset._should_delete_form(row):
                if obj.pk is not None:
                    services.record_delete(obj=type(obj)._default_manager.get(pk=obj.pk), actor=request.user)
                    formset.deleted_objects.append(obj)
                continue
            if obj.pk is None and not row.has_changed():
                continue
            names = [
                n for n in row.changed_data if n in row.cleaned_data and n not in ("id", fk_name, "DELETE")
            ]
            data = {name: row.cleaned_data[name] for name in names}
            if obj.pk is None:
                saved = services.record_create(
                    model=formset.model, actor=request.user, data={**data, fk_name: parent}
                )
                obj.pk = saved.pk
                formset.new_objects.append(saved)
            elif data:
                services.record_update(obj=obj, actor=request.user, data=data)
                formset.changed_objects.append((obj, names))


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
