"""The record serializers of the changes API: changes, change tasks, notes, governance
templates, maintenance windows and change freezes. (The action inputs live in
``changes/api/serializers.py``, beside the action table that names them.)

Serializers only shape and validate input; every rule lives in ``changes.services`` /
``changes.workflows`` and the models' ``clean()``, which every door shares.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from changes import schedule, services
from changes.models import (
    CabDecision,
    Change,
    ChangeFreeze,
    ChangeTask,
    GovernanceTemplate,
    MaintenanceWindow,
    PirOutcome,
    RiskLevel,
)
from itsm.api.serializers import PolicySerializer
from itsm.api.tasks import TaskSerializer, task_fields

CHANGE_FIELDS = [
    "id", "number", "short_description", "description", "state", "priority", "change_type",
    "planned_start", "planned_end", "actual_start", "actual_end",
    "implementation_plan", "backout_plan", "test_plan", "justification",
    "source_type", "problem", "incident", "hosts", "host_groups",
    "assignment_group", "assignee", "requester", "organisation",
    "governance_template", "gate_status", "notice_override_reason",
    "cab_decision", "cab_notes", "decided_by", "decided_at", "routing_reason",
    "risk_score", "risk_level", "risk_factors", "impact_summary", "impact_computed_at",
    "pir_required", "pir_due_at", "pir_outcome", "pir_lessons", "pir_follow_ups", "pir_recorded_at",
    "linked_ticket_resolved_on_rejection",
    "opened_at", "updated_at", "closed_at", "version",
]  # fmt: skip


class ConflictSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    short_description = serializers.CharField()
    state = serializers.CharField()
    change_type = serializers.CharField()
    planned_start = serializers.DateTimeField()
    planned_end = serializers.DateTimeField()


class ChangeSerializer(PolicySerializer):
    """A change. Its state moves only through the actions (``submit/``, ``approve/``…); the risk
    (``risk_score``, ``risk_level``, ``risk_factors``) is recomputed by the server on every write;
    ``conflicts`` (other open changes on the same hosts in an overlapping planned window) comes
    with a single change, not in lists."""

    # Blank until set (the schema's enums then include ""): what the CAB, the scoring and the
    # review write, never the client.
    cab_decision = serializers.ChoiceField(choices=CabDecision.choices, allow_blank=True, read_only=True)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, allow_blank=True, read_only=True)
    pir_outcome = serializers.ChoiceField(choices=PirOutcome.choices, allow_blank=True, read_only=True)
    conflicts = serializers.SerializerMethodField()

    class Meta:
        model = Change
        fields = [*CHANGE_FIELDS, "conflicts"]

    def get_fields(self):
        fields = super().get_fields()
        if not self.context.get("with_conflicts"):
            fields.pop("conflicts", None)
        return fields

    @extend_schema_field(ConflictSerializer(many=True))
    def get_conflicts(self, change) -> list:
        return ConflictSerializer(schedule.conflicts(change), many=True).data

    def create(self, validated_data):
        return services.change_create(actor=self._user(), data=validated_data)

    def update(self, instance, validated_data):
        return services.change_update(
            change=instance, actor=self._user(), data=validated_data, expected_version=self._if_match()
        )


class ChangeTaskSerializer(TaskSerializer):
    class Meta:
        model = ChangeTask
        fields = task_fields("change")


# --- Reference data -------------------------------------------------------------------------


def _gate_list(help_text: str):
    return serializers.ListField(
        child=serializers.CharField(max_length=80),
        required=False,
        max_length=50,
        help_text=help_text,
    )


class GovernanceTemplateSerializer(PolicySerializer):
    """A governance template: the gates a change must pass before CAB approves it, the minimum
    notice, the auto-approval policy of its standard changes and whether a PIR is required."""

    required_gates = _gate_list("Gates every change on this template completes before approval.")
    optional_gates = _gate_list("Gates offered but not required.")
    auto_approve_risk_levels = serializers.ListField(
        child=serializers.ChoiceField(choices=RiskLevel.choices),
        required=False,
        max_length=len(RiskLevel.choices),
        help_text="Risk levels a standard change may have and still be auto-approved (empty: any).",
    )

    class Meta:
        model = GovernanceTemplate
        fields = [
            "id", "name", "description", "maturity_level", "min_notice_hours", "required_gates",
            "optional_gates", "auto_approve_max_risk", "auto_approve_risk_levels", "pir_required", "active",
        ]  # fmt: skip


class MaintenanceWindowSerializer(PolicySerializer):
    class Meta:
        model = MaintenanceWindow
        fields = ["id", "name", "description", "start", "end", "host_groups", "created_by"]

    def system_values(self) -> dict:
        return {"created_by": self._user()}


class ChangeFreezeSerializer(PolicySerializer):
    class Meta:
        model = ChangeFreeze
        fields = ["id", "name", "reason", "start", "end", "created_by"]

    def system_values(self) -> dict:
        return {"created_by": self._user()}
