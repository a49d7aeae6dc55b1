"""Problem admin pages. Every permission comes from the policy; adds and edits go through the
problem services, actions through the workflows (``problems.actions``); notes are shown read-only
because they are written through the services."""

from __future__ import annotations

from django.contrib import admin

from itsm import policy
from itsm.admin_base import WORK_PICKERS, PolicyModelAdmin
from problems import services
from problems.actions import ACTIONS
from problems.models import Problem, ProblemNote, ProblemState, ProblemTask


class NoteInline(admin.TabularInline):
    model = ProblemNote
    fields = ["created_at", "author", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "note"

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, "read", obj if obj is not None else Problem)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class StateFilter(admin.SimpleListFilter):
    """Every problem state with its label, not only the values present in the table."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return ProblemState.choices

    def queryset(self, request, queryset):
        if self.value() in ProblemState.values:
            return queryset.filter(state=self.value())
        return queryset


@admin.register(Problem)
class ProblemAdmin(PolicyModelAdmin):
    """Problems: adds and edits through ``problems.services``; start and close as bulk actions."""

    list_display = [
        "number",
        "short_description",
        "state",
        "priority",
        "is_known_error",
        "incident_count",
        "assignment_group",
        "assignee",
        "opened_at",
    ]
    list_filter = [StateFilter, "priority", "is_known_error", "assignment_group"]
    list_select_related = ["assignment_group", "assignee"]
    search_fields = ["number", "short_description"]
    autocomplete_fields = WORK_PICKERS
    raw_id_fields = ["hosts", "host_groups"]
    show_full_result_count = False
    inlines = [NoteInline]
    action_table = ACTIONS  # start and close as bulk actions

    def get_inline_instances(self, request, obj=None):
        # The inline is read-only: a save has nothing in it to bind or validate.
        if request.method == "POST" or obj is None:
            return []
        return super().get_inline_instances(request, obj)

    def create_record(self, request, data):
        return services.problem_create(actor=request.user, data=data)

    def update_record(self, request, obj, data, expected_version):
        return services.problem_update(
            problem=obj, actor=request.user, data=data, expected_version=expected_version
        )


@admin.register(ProblemTask)
class ProblemTaskAdmin(PolicyModelAdmin):
    list_display = ["number", "short_description", "problem", "state", "assignee", "opened_at"]
    list_filter = ["state"]
    list_select_related = ["problem", "assignee"]
    search_fields = ["number", "short_description"]
    autocomplete_fields = WORK_PICKERS
    raw_id_fields = ["problem"]
    parent_field = "problem"
