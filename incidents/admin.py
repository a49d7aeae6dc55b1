"""Incident admin pages. Every permission comes from the policy; actions call the workflows;
notes, time and CSAT are shown read-only because they are written through the services."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction

from incidents import services
from incidents.actions import ACTIONS
from incidents.models import (
    CsatResponse,
    Incident,
    IncidentNote,
    IncidentState,
    IncidentTask,
    PriorityMatrix,
    TimeEntry,
)
from itsm import audit, policy
from itsm.admin_base import WORK_PICKERS, PolicyModelAdmin


class ReadOnlyInline(admin.TabularInline):
    """An incident's child rows, for reading: they are written by the incident services, which
    the admin's inline formsets would bypass. ``read_action`` is the policy action that shows them."""

    extra = 0
    can_delete = False
    show_change_link = False
    read_action = "read"

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, self.read_action, obj if obj is not None else Incident)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class NoteInline(ReadOnlyInline):
    model = IncidentNote
    fields = ["created_at", "kind", "author", "body"]
    verbose_name = "note"

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("author")
        if "work_journal" in policy.hidden_fields(request.user, Incident):
            queryset = queryset.exclude(kind=IncidentNote.Kind.WORK_NOTE)
        return queryset


class TimeEntryInline(ReadOnlyInline):
    model = TimeEntry
    fields = ["date", "author", "minutes", "billable", "note"]
    read_action = "read_time"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class CsatInline(ReadOnlyInline):
    model = CsatResponse
    fields = ["updated_at", "actor", "rating", "comment"]
    read_action = "read_csat"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class StateFilter(admin.SimpleListFilter):
    """Every incident state with its label, not only the values present in the table."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return IncidentState.choices

    def queryset(self, request, queryset):
        if self.value() in IncidentState.values:
            return queryset.filter(state=self.value())
        return queryset


@admin.register(Incident)
class IncidentAdmin(PolicyModelAdmin):
    """Incidents: list, search and filters over the rows and fields the user may read; delete
    only where the policy allows (ITSM administrators); close and acknowledge as actions."""

    list_display = [
        "number",
        "short_description",
        "state",
        "priority",
        "assignment_group",
        "assignee",
        "requester",
        "opened_at",
    ]
    list_filter = [StateFilter, "priority", "major_incident", "assignment_group", "opened_at"]
    list_select_related = ["assignment_group", "assignee", "requester"]
    search_fields = ["number", "short_description"]
    autocomplete_fields = [*WORK_PICKERS, "major_incident_manager", "collaborators"]
    raw_id_fields = ["related_incidents"]
    inlines = [NoteInline, TimeEntryInline, CsatInline]
    action_table = ACTIONS  # close and acknowledge as bulk actions

    def get_inline_instances(self, request, obj=None):
        # The inlines are read-only: a save has nothing in them to bind or validate.
        if request.method == "POST":
            return []
        return super().get_inline_instances(request, obj)

    def create_record(self, request, data):
        return services.incident_create(actor=request.user, data=data)

    def update_record(self, request, obj, data, expected_version):
        return services.incident_update(
            incident=obj, actor=request.user, data=data, expected_version=expected_version
        )


@admin.register(IncidentTask)
class IncidentTaskAdmin(PolicyModelAdmin):
    list_display = ["number", "short_description", "incident", "state", "assignee", "opened_at"]
    list_filter = ["state"]
    list_select_related = ["incident", "assignee"]
    search_fields = ["number", "short_description"]
    autocomplete_fields = WORK_PICKERS
    raw_id_fields = ["incident"]
    parent_field = "incident"


@admin.register(PriorityMatrix)
class PriorityMatrixAdmin(admin.ModelAdmin):
    """The impact × urgency → priority matrix: configuration, for holders of ``itsm.configure``.
    Every edit is journaled."""

    list_display = ["impact", "urgency", "priority"]
    list_editable = ["priority"]
    list_display_links = ["impact"]
    list_filter = ["impact", "urgency", "priority"]

    def _may_configure(self, request) -> bool:
        return policy.has_permission(request.user, "itsm.configure")

    def has_module_permission(self, request):
        return self._may_configure(request)

    def has_view_permission(self, request, obj=None):
        return self._may_configure(request)

    def has_add_permission(self, request):
        return self._may_configure(request)

    def has_change_permission(self, request, obj=None):
        return self._may_configure(request)

    def has_delete_permission(self, request, obj=None):
        return self._may_configure(request)

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            audit.log_changes(
                obj,
                request.user,
                [(name, form.initial.get(name), getattr(obj, name)) for name in form.changed_data],
            )
        else:
            audit.log_create(obj, request.user)

    @transaction.atomic
    def delete_model(self, request, obj):
        audit.log_delete(obj, request.user)
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit.log_delete(obj, request.user)
        super().delete_queryset(request, queryset)
