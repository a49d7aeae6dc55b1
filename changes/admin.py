"""Change admin pages. Every permission comes from the policy (``changes/rules.py``); adds and
edits of changes go through ``changes.services`` (the same functions the API and the desk call,
so the freeze, risk and re-approval rules hold here too), actions through the action table
(``changes.actions``); notes are shown read-only because they are written through the services.
Templates, windows and freezes save through ``itsm.services`` (policy-checked, validated by the
models' ``clean()``, journaled)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from changes import services
from changes.actions import ACTIONS
from changes.models import (
    Change,
    ChangeFreeze,
    ChangeNote,
    ChangeState,
    ChangeTask,
    GovernanceTemplate,
    MaintenanceWindow,
    RiskLevel,
)
from itsm import policy
from itsm.admin_base import WORK_PICKERS, PolicyModelAdmin


class NoteInline(admin.TabularInline):
    model = ChangeNote
    fields = ["created_at", "author", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "note"

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, "read", obj if obj is not None else Change)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class StateFilter(admin.SimpleListFilter):
    """Every change state with its label, not only the values present in the table."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return ChangeState.choices

    def queryset(self, request, queryset):
        if self.value() in ChangeState.values:
            return queryset.filter(state=self.value())
        return queryset


# What the services and workflows set: shown on the change page, never typed.
DERIVED = [
    "source_type", "problem", "incident", "risk_score", "risk_level", "risk_factors", "routing_reason",
    "cab_decision", "cab_notes", "decided_by", "decided_at", "gate_status", "actual_start", "actual_end",
    "pir_required", "pir_due_at", "pir_outcome", "pir_lessons", "pir_follow_ups", "pir_recorded_at",
    "impact_computed_at",
]  # fmt: skip


@admin.register(Change)
class ChangeAdmin(PolicyModelAdmin):
    """Changes: adds and edits through ``changes.services``; the action table's admin entries
    (e.g. submit, start) as bulk actions."""

    list_display = [
        "number", "short_description", "change_type", "state", "risk_level", "planned_start",
        "assignment_group", "assignee", "opened_at",
    ]  # fmt: skip
    list_filter = [StateFilter, "change_type", "risk_level", "assignment_group"]
    list_select_related = ["assignment_group", "assignee"]
    search_fields = ["number", "short_description"]
    autocomplete_fields = WORK_PICKERS
    raw_id_fields = ["hosts", "host_groups"]
    readonly_fields = DERIVED
    show_full_result_count = False
    inlines = [NoteInline]
    action_table = ACTIONS

    def get_readonly_fields(self, request, obj=None):
        if obj is None:  # nothing is derived yet on the add form
            return [n for n in super().get_readonly_fields(request, obj) if n not in DERIVED]
        return super().get_readonly_fields(request, obj)

    def get_inline_instances(self, request, obj=None):
        # The inline is read-only: a save has nothing in it to bind or validate.
        if request.method == "POST" or obj is None:
            return []
        return super().get_inline_instances(request, obj)

    def create_record(self, request, data):
        return services.change_create(actor=request.user, data=data)

    def update_record(self, request, obj, data, expected_version):
        return services.change_update(change=obj, actor=request.user, data=data, expected_version=expected_version)


@admin.register(ChangeTask)
class ChangeTaskAdmin(PolicyModelAdmin):
    list_display = ["number", "short_description", "change", "state", "assignee", "opened_at"]
    list_filter = ["state"]
    list_select_related = ["change", "assignee"]
    search_fields = ["number", "short_description"]
    autocomplete_fields = WORK_PICKERS
    raw_id_fields = ["change"]
    parent_field = "change"


# --- Governance templates -------------------------------------------------------------------


class GateListField(forms.CharField):
    """Gate names, one a line (commas also separate), edited as text instead of raw JSON."""

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "One gate a line, e.g. “Security review”.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [name.strip() for line in text.splitlines() for name in line.split(",") if name.strip()]

    def has_changed(self, initial, data):
        return (initial or []) != self.to_python(data)


class GovernanceTemplateForm(forms.ModelForm):
    required_gates = GateListField(label="Required gates")
    optional_gates = GateListField(label="Optional gates")
    auto_approve_risk_levels = forms.MultipleChoiceField(
        choices=RiskLevel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Auto-approve at risk levels",
        help_text="A standard change at another level goes to the CAB. None ticked: any level.",
    )

    class Meta:
        model = GovernanceTemplate
        fields = [
            "name", "description", "maturity_level", "min_notice_hours", "required_gates", "optional_gates",
            "auto_approve_max_risk", "auto_approve_risk_levels", "pir_required", "active",
        ]  # fmt: skip

    def clean_auto_approve_risk_levels(self):
        chosen = set(self.cleaned_data.get("auto_approve_risk_levels") or [])
        return [level for level in RiskLevel.values if level in chosen]  # in the scale's order


@admin.register(GovernanceTemplate)
class GovernanceTemplateAdmin(PolicyModelAdmin):
    form = GovernanceTemplateForm
    list_display = [
        "name", "maturity_level", "min_notice_hours", "auto_approve_max_risk", "pir_required", "active",
    ]  # fmt: skip
    list_filter = ["active", "maturity_level", "pir_required"]
    search_fields = ["name"]


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(PolicyModelAdmin):
    list_display = ["name", "start", "end", "created_by"]
    list_select_related = ["created_by"]
    search_fields = ["name"]
    date_hierarchy = "start"
    filter_horizontal = ["host_groups"]

    def creation_values(self, request):
        return {"created_by": request.user}


@admin.register(ChangeFreeze)
class ChangeFreezeAdmin(PolicyModelAdmin):
    list_display = ["name", "start", "end", "created_by"]
    list_select_related = ["created_by"]
    search_fields = ["name"]
    date_hierarchy = "start"

    def creation_values(self, request):
        return {"created_by": request.user}
