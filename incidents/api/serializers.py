from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents import selectors, services
from incidents.models import (
    NOTE_MAX,
    CsatResponse,
    Incident,
    IncidentNote,
    IncidentTask,
    ResolutionCode,
    TimeEntry,
)
from itsm import policy
from itsm.api import bulk
from itsm.api.serializers import PolicySerializer
from itsm.api.tasks import TaskSerializer, task_fields
from itsm.bulk_actions import COMMENT_MAX
from itsm.models import AssignmentGroup, User
from itsm.validators import validate_date
from sla.clocks import live_status
from sla.models import SlaStatus


class LiveSlaStatusField(serializers.ChoiceField):
    """The stored SLA status, shown as breached as soon as a due time passes (before the sweep
    records it). Named ``sla_status``, so the policy drops it for readers it is hidden from."""

    def __init__(self, **kwargs):
        super().__init__(choices=SlaStatus.choices, allow_blank=True, read_only=True, **kwargs)

    def get_attribute(self, instance):
        return live_status(instance)


class WorkaroundSerializer(serializers.Serializer):
    problem = serializers.CharField(help_text="The problem's number.")
    workaround = serializers.CharField()


class IncidentSerializer(PolicySerializer):
    sla_status = LiveSlaStatusField(
        help_text="in_progress, at_risk (75 % of a target used), breached, met or paused; empty "
        "without SLA clocks."
    )
    workarounds = serializers.SerializerMethodField(
        help_text="The workaround of each problem the incident is linked to (agents only)."
    )

    class Meta:
        model = Incident
        fields = [
            "id", "number", "short_description", "description", "state", "priority", "impact", "urgency",
            "classification", "category", "subcategory", "service", "source", "assignment_group", "assignee",
            "requester", "requested_for", "organisation", "major_incident", "major_incident_review",
            "major_incident_manager", "resolution_code", "resolution_notes", "resolution_message", "customer_replied_at",
            "sla_status", "sla_due_at", "sla_definition", "escalation_level",
            "escalation_policy", "escalation_stage", "escalation_stage_started_at", "escalation_acknowledged_at",
            "escalation_next_at", "collaborators",
            "hosts", "related_configuration_items", "related_incidents", "related_problems", "workarounds",
            "changes_required", "opened_at", "acknowledged_at", "resolved_at", "updated_at", "closed_at", "version",
        ]  # fmt: skip

    @extend_schema_field(WorkaroundSerializer(many=True))
    def get_workarounds(self, incident) -> list[dict]:
        """The workaround of each problem the incident is linked to that the reader may read."""
        return [
            {"problem": problem.number, "workaround": problem.workaround}
            for problem in selectors.problem_workarounds(self._user(), incident)
        ]

    def create(self, validated_data):
        return services.incident_create(actor=self._user(), data=validated_data)

    def update(self, instance, validated_data):
        return services.incident_update(
            incident=instance, actor=self._user(), data=validated_data, expected_version=self._if_match()
        )


class IncidentTaskSerializer(TaskSerializer):
    class Meta:
        model = IncidentTask
        fields = task_fields("incident")


# --- Action inputs (validated here, ruled on by the workflows) --------------------------------


class CommentInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class ResolveInput(serializers.Serializer):
    resolution_code = serializers.ChoiceField(choices=ResolutionCode.choices)
    resolution_notes = serializers.CharField(max_length=8000, help_text="What was done (the desk's; hidden from customers).")
    resolution_message = serializers.CharField(
        max_length=NOTE_MAX, required=False, allow_blank=True, default="",
        help_text="Optional: what the customer is told (the portal and the resolved e-mail show it).",
    )  # fmt: skip


class ReopenInput(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class AssignInput(serializers.Serializer):
    """Both given: assign to the user within the group; one null: clear that part; both null: unassign."""

    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False, default=None
    )
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=AssignmentGroup.objects.all(), allow_null=True, required=False, default=None
    )


class AuthorField(serializers.CharField):
    """A note's author as ``policy.person_name`` names it to the reader (``request`` and the
    ``incident`` in the context): a customer reads agents as "Service desk"."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def get_attribute(self, instance):
        return instance

    def to_representation(self, note):
        request = self.context["request"]
        incident = self.context.get("incident") or note.incident
        return policy.person_name(request.user, note.author, incident, nobody=None)


class NoteSerializer(serializers.ModelSerializer):
    author = AuthorField(help_text="Username; customers read agents as \"Service desk\".")

    class Meta:
        model = IncidentNote
        fields = ["id", "kind", "author", "body", "created_at", "updated_at"]
        read_only_fields = ["id", "author", "created_at", "updated_at"]
        extra_kwargs = {"body": {"max_length": NOTE_MAX}}


class NoteEditInput(serializers.Serializer):
    body = serializers.CharField(max_length=NOTE_MAX)


class TimeEntrySerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    minutes = serializers.IntegerField(min_value=1, max_value=1440)
    date = serializers.DateField(required=False)

    class Meta:
        model = TimeEntry
        fields = ["id", "author", "minutes", "billable", "date", "note", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class TimeTotalsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    billable = serializers.IntegerField()
    non_billable = serializers.IntegerField()
    entries = serializers.IntegerField()


class TimeOverviewSerializer(serializers.Serializer):
    totals = TimeTotalsSerializer()
    entries = TimeEntrySerializer(many=True)


class CsatSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    rating = serializers.IntegerField(min_value=1, max_value=5)

    class Meta:
        model = CsatResponse
        fields = ["id", "actor", "rating", "comment", "created_at", "updated_at"]
        read_only_fields = ["id", "actor", "created_at", "updated_at"]
        extra_kwargs = {"comment": {"max_length": 4000}}


class CsatSummarySerializer(serializers.Serializer):
    average = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()
    breakdown = serializers.DictField(child=serializers.IntegerField())
    responses = CsatSerializer(many=True)


class TimelineItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    type = serializers.CharField()
    actor = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    field = serializers.CharField(allow_blank=True)
    old_value = serializers.CharField(allow_blank=True)
    new_value = serializers.CharField(allow_blank=True)


class BulkInput(bulk.BulkInput):
    action = serializers.ChoiceField(choices=services.BULK.names)
    comment = serializers.CharField(
        max_length=COMMENT_MAX, required=False, allow_blank=True, default="",
        help_text="A work note on each incident; needed to acknowledge or resolve.",
    )  # fmt: skip
    resolution_code = serializers.ChoiceField(
        choices=ResolutionCode.choices, required=False, default="resolved"
    )


class AutoCloseInput(serializers.Serializer):
    stale_hours = serializers.IntegerField(min_value=1, max_value=720, default=48)
    dry_run = serializers.BooleanField(default=False)


class AutoCloseResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    stale_hours = serializers.IntegerField()
    eligible = serializers.ListField(child=serializers.IntegerField(), required=False)
    closed = serializers.ListField(child=serializers.IntegerField(), required=False)


class ReportInput(serializers.Serializer):
    start = serializers.DateField(validators=[validate_date])
    end = serializers.DateField(validators=[validate_date])
    period = serializers.ChoiceField(choices=["day", "week", "month"], default="month")

    def validate(self, attrs):
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": ["The end date is before the start date."]})
        if (attrs["end"] - attrs["start"]).days > 366:
            raise serializers.ValidationError({"end": ["A report covers at most 366 days."]})
        return attrs


class TimeReportInput(ReportInput):
    group_by = serializers.ChoiceField(choices=["user", "organisation"], default="user")
