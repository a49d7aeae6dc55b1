"""``/api/v1/escalation-policies/``: ordered stages that escalate an incident nobody handles.

ITSM administrators (itsm.configure) write them; agents read them. ``stages`` is written whole
by ``escalation.policies``; the serializer only parses.
"""

from __future__ import annotations

from django.db.models import Prefetch
from rest_framework import serializers

from escalation import policies
from escalation.models import MAX_STAGES, EscalationPolicy, EscalationStage
from itsm.api.serializers import NestedPolicySerializer, PolicyRelatedField, WholeItemSerializer
from itsm.api.views import JournalMixin, PolicyViewSet
from itsm.models import User


class EscalationStageSerializer(WholeItemSerializer):
    serializer_related_field = PolicyRelatedField
    users = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=User.objects.filter(is_active=True),
        help_text="People told (and, for a single on-call person, assigned) when the stage starts.",
    )

    class Meta:
        model = EscalationStage
        fields = [
            "order",
            "timeout_minutes",
            "requires_acknowledgment",
            "users",
            "assignment_group",
            "schedule",
        ]


class EscalationPolicySerializer(NestedPolicySerializer):
    NESTED = ("stages",)

    stages = EscalationStageSerializer(
        many=True,
        required=False,
        max_length=MAX_STAGES,
        help_text="The stages, run from the lowest order up; each order once. Written whole: what "
        "you send replaces every stage.",
    )

    class Meta:
        model = EscalationPolicy
        fields = ["id", "name", "description", "organisation", "is_default", "is_active", "stages"]
        validators = []  # one default per organisation: checked by the service, naming is_default

    def create(self, validated_data):
        data, nested = self.split(validated_data)
        return policies.policy_create(actor=self._user(), data=data, stages=nested.get("stages"))

    def update(self, instance, validated_data):
        data, nested = self.split(validated_data)
        return policies.policy_update(
            policy_row=instance, actor=self._user(), data=data, stages=nested.get("stages")
        )


class EscalationPolicyViewSet(JournalMixin, PolicyViewSet):
    """Escalation policies: the organisation's default, else the account-wide default, is given
    to new incidents; the sweep moves an incident on when a stage times out."""

    queryset = EscalationPolicy.objects.all()
    serializer_class = EscalationPolicySerializer
    select_related = ("organisation",)
    prefetch_related = (
        Prefetch(
            "stages",
            queryset=EscalationStage.objects.order_by("order").prefetch_related(
                Prefetch("users", queryset=User.objects.order_by("pk").only("pk"))
            ),
        ),
    )
    filterset_fields = ["organisation", "is_default", "is_active"]
    search_fields = ["name", "description"]
    ordering_fields = ["name"]
    ordering = ["name", "id"]
