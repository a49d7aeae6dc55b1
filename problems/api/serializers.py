from rest_framework import serializers

from incidents.models import NOTE_MAX, Incident
from itsm import policy
from itsm.api import bulk
from itsm.api.serializers import PolicySerializer
from itsm.api.tasks import TaskSerializer, task_fields
from itsm.models import AssignmentGroup, User
from problems import services, workflows
from problems.models import Problem, ProblemNote, ProblemTask


class ProblemSerializer(PolicySerializer):
    """A problem; linked incidents and changes are ids (read-only here: link with
    ``link-incidents/``; changes come from an approved RCA)."""

    incidents = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    changes = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    from_incident = serializers.IntegerField(
        write_only=True, required=False, min_value=1, max_value=2**63 - 1,
        help_text="On creation: raise the problem from this incident (linked; its text, category, impact, "
        "urgency and hosts fill what the body leaves out).",
    )  # fmt: skip

    class Meta:
        model = Problem
        fields = [
            "id", "number", "short_description", "description", "state", "priority", "impact", "urgency",
            "category", "symptoms", "root_cause", "workaround", "assignment_group", "assignee", "requester",
            "requested_for", "organisation", "hosts", "host_groups", "is_known_error", "incident_count",
            "affected_host_count", "incidents", "changes", "rca_summary", "rca_confidence", "corrective_plan",
            "rca_submitted_by", "rca_submitted_at", "rca_reviewed_by", "rca_reviewed_at", "review_notes",
            "verification_notes", "verified_at", "opened_at", "updated_at", "closed_at", "version",
            "from_incident",
        ]  # fmt: skip

    def to_internal_value(self, data):
        if hasattr(data, "keys") and "from_incident" in data:
            if self.instance is not None:
                raise serializers.ValidationError({"from_incident": ["Only when the problem is raised."]})
            source = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
            try:
                self._from_incident = source.run_validation(data["from_incident"])
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"from_incident": exc.detail}) from exc
            data = {k: v for k, v in data.items() if k != "from_incident"}
            if "short_description" in self.fields:
                self.fields["short_description"].required = False  # the incident's, unless given
        return super().to_internal_value(data)

    def create(self, validated_data):
        incident = None
        pk = getattr(self, "_from_incident", None)
        if pk is not None:
            incident = policy.readable(self._user(), Incident).filter(pk=pk).first()
            if incident is None:
                raise serializers.ValidationError({"from_incident": [f"No incident {pk} you may read."]})
        return services.problem_create(actor=self._user(), data=validated_data, incident=incident)

    def update(self, instance, validated_data):
        return services.problem_update(
            problem=instance, actor=self._user(), data=validated_data, expected_version=self._if_match()
        )


class ProblemTaskSerializer(TaskSerializer):
    class Meta:
        model = ProblemTask
        fields = task_fields("problem")


# --- Action inputs (validated here, ruled on by the workflows and services) --------------------


class CorrectiveItemInput(serializers.Serializer):
    title = serializers.CharField(max_length=workflows.ITEM_TITLE_MAX)
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class SubmitRcaInput(serializers.Serializer):
    rca_summary = serializers.CharField(min_length=workflows.RCA_MIN, max_length=8000)
    rca_confidence = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=0,
        max_value=1,
        required=False,
        allow_null=True,
        default=None,
    )
    corrective_plan = CorrectiveItemInput(
        many=True, required=False, max_length=workflows.PLAN_MAX, default=list
    )


class RejectRcaInput(serializers.Serializer):
    review_notes = serializers.CharField(max_length=8000)


class VerifyInput(serializers.Serializer):
    verification_notes = serializers.CharField(min_length=workflows.RCA_MIN, max_length=8000)


class ProblemAssignInput(serializers.Serializer):
    """Both given: assign to the user within the group; one null: clear that part; both null: unassign."""

    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False, default=None
    )
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=AssignmentGroup.objects.all(), allow_null=True, required=False, default=None
    )


class IncidentIdsInput(serializers.Serializer):
    incidents = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=services.LINK_MAX,
    )


class LinkResultSerializer(serializers.Serializer):
    linked = serializers.ListField(child=serializers.IntegerField(), required=False)
    already_linked = serializers.ListField(child=serializers.IntegerField(), required=False)
    unlinked = serializers.ListField(child=serializers.IntegerField(), required=False)
    not_linked = serializers.ListField(child=serializers.IntegerField(), required=False)
    unknown = serializers.ListField(child=serializers.IntegerField())
    incident_count = serializers.IntegerField()
    affected_host_count = serializers.IntegerField()


class ProblemNoteSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ProblemNote
        fields = ["id", "author", "body", "created_at", "updated_at"]
        read_only_fields = ["id", "author", "created_at", "updated_at"]
        extra_kwargs = {"body": {"max_length": NOTE_MAX}}


class ProblemNoteEditInput(serializers.Serializer):
    body = serializers.CharField(max_length=NOTE_MAX)


class ProblemTimelineItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    type = serializers.CharField()
    actor = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    field = serializers.CharField(allow_blank=True)
    old_value = serializers.CharField(allow_blank=True)
    new_value = serializers.CharField(allow_blank=True)


class ProblemBulkInput(bulk.BulkInput):
    """Which bulk action to take on which problems (up to 100), and with what."""

    action = serializers.ChoiceField(choices=services.BULK.names)
