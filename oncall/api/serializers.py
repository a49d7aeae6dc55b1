"""On-call API shapes. Input is only parsed here; the services and the policy rule on it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.api.serializers import PolicyRelatedField, PolicySerializer, WallClockTimeField
from itsm.models import AssignmentGroup, User
from itsm.validators import validate_date
from oncall import feeds, services
from oncall.models import Override, Schedule
from oncall.rotation import NONE, OVERRIDE, ROTATION


class OrderedParticipantsField(serializers.ManyRelatedField):
    """Participant ids in rotation order (index 0 is on call first)."""

    def get_attribute(self, instance):
        return [row.user for row in instance.participant_rows.all()]


class RoutedGroupsField(serializers.ManyRelatedField):
    """Ids of the assignment groups routed to the schedule."""

    def get_attribute(self, instance):
        return [link.group for link in instance.group_links.all()]


class ScheduleSerializer(PolicySerializer):
    handoff_time = WallClockTimeField(
        required=False, help_text="Daily and weekly rotations: the handoff time on the schedule's clock."
    )
    participants = OrderedParticipantsField(
        child_relation=PolicyRelatedField(queryset=User.objects.all()),
        required=False,
        help_text="User ids in rotation order: the first is on call first.",
    )
    assignment_groups = RoutedGroupsField(
        child_relation=PolicyRelatedField(queryset=AssignmentGroup.objects.all()),
        required=False,
        help_text="Assignment groups whose incidents go to whoever is on call.",
    )
    feed_url = serializers.SerializerMethodField(help_text="The schedule's calendar (iCalendar) feed.")

    class Meta:
        model = Schedule
        fields = [
            "id", "name", "description", "time_zone", "rotation", "handoff_day", "handoff_time",
            "custom_rotation_hours", "start", "participants", "assignment_groups", "feed_url", "version",
            "created_at", "updated_at",
        ]  # fmt: skip

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_feed_url(self, schedule) -> str | None:
        token = getattr(schedule, "feed", None)
        if token is None:
            return None
        request = self.context.get("request")
        path = feeds.feed_path(token)
        return request.build_absolute_uri(path) if request is not None else path

    def create(self, validated_data):
        return services.schedule_create(actor=self._user(), data=validated_data)

    def update(self, instance, validated_data):
        return services.schedule_update(
            schedule=instance, actor=self._user(), data=validated_data, expected_version=self._if_match()
        )


class OverrideSerializer(serializers.ModelSerializer):
    user = PolicyRelatedField(queryset=User.objects.all(), help_text="Who is on call instead.")
    created_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Override
        fields = ["id", "schedule", "user", "start", "end", "reason", "created_by", "created_at"]
        read_only_fields = ["schedule", "created_by", "created_at"]


@extend_schema_field({"type": "string", "enum": [ROTATION, OVERRIDE, NONE]})
class BlockSourceField(serializers.CharField):
    """Where a block comes from (an inline enum: "source" is taken by the incidents' enum)."""


class BlockSerializer(serializers.Serializer):
    start = serializers.DateTimeField(allow_null=True, help_text="Null: nobody has been on call, ever.")
    end = serializers.DateTimeField(allow_null=True, help_text="Null: nobody will be on call, ever after.")
    user = serializers.SerializerMethodField()
    user_display = serializers.SerializerMethodField()
    source = BlockSourceField(
        help_text="rotation, override, or none (nobody on call, e.g. before the start)."
    )
    override = serializers.IntegerField(allow_null=True, help_text="The override's id, for override blocks.")

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_user(self, block) -> int | None:
        return block.user.pk if block.user is not None else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_user_display(self, block) -> str | None:
        return feeds.display_name(block.user) if block.user is not None else None


class WhoSerializer(BlockSerializer):
    at = serializers.DateTimeField(help_text="The instant asked about.")


class WhoInput(serializers.Serializer):
    at = serializers.DateTimeField(
        required=False, validators=[validate_date], help_text="The instant (ISO 8601); default now."
    )


class RangeInput(serializers.Serializer):
    start = serializers.DateTimeField(
        required=False, validators=[validate_date], help_text="ISO 8601; default now."
    )
    end = serializers.DateTimeField(
        required=False,
        validators=[validate_date],
        help_text="ISO 8601; default 14 days after start. At most 90 days after start.",
    )


class FeedLinkSerializer(serializers.Serializer):
    feed_url = serializers.CharField(allow_null=True, help_text="Null when you reset someone else's link.")


class FeedResetInput(serializers.Serializer):
    user = PolicyRelatedField(
        queryset=User.objects.all(), required=False, help_text="Whose link (managers); default your own."
    )
