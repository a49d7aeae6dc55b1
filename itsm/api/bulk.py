"""The API's side of a queue's bulk actions (``itsm.bulk_actions``): the body every kind's
``POST /api/v1/<kind>/bulk/`` takes and the answer it gives. A kind subclasses ``BulkInput`` with
its ``action`` choices (and any input of its own); its viewset's ``bulk`` action hands the
validated body to the kind's bulk service."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.response import Response

from itsm.api.serializers import PolicyRelatedField
from itsm.bulk_actions import BULK_MAX, COMMENT_MAX, BulkActions
from itsm.errors import NotAllowed
from itsm.models import AssignmentGroup, User


class BulkInput(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1, max_length=BULK_MAX,
        help_text="The records to act on; one you may not read is answered as not found.",
    )
    comment = serializers.CharField(
        max_length=COMMENT_MAX, required=False, allow_blank=True, default="",
        help_text="A work note on each record.",
    )  # fmt: skip
    assignee = PolicyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, default=None,
        help_text="assign: the agent (a member of the group, if one is given).",
    )  # fmt: skip
    assignment_group = PolicyRelatedField(
        queryset=AssignmentGroup.objects.filter(is_active=True), required=False, allow_null=True, default=None,
        help_text="assign: the group.",
    )  # fmt: skip


class BulkRefusalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    requested = serializers.IntegerField()
    affected = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    refused = BulkRefusalSerializer(many=True, help_text="Each record left unchanged, and why.")


def answer(request, body: type[BulkInput], bulk: BulkActions) -> Response:
    """A kind's ``POST bulk/``, the same for every kind: someone the policy lets take none of the
    kind's bulk actions is refused (403) before the body is read; then the body is checked (400
    naming the field) and the kind's bulk actions run (``BulkActions.run``)."""
    if not bulk.offered(request.user):
        raise NotAllowed("Bulk actions are for the service desk.")
    data = body(data=request.data)
    data.is_valid(raise_exception=True)
    return Response(bulk.run(actor=request.user, **data.validated_data))
