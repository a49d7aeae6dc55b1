"""The change API's serializers.

Action inputs (below) are validated here and ruled on by ``changes.workflows`` and
``changes.services``: their fields are the functions' keyword arguments (``changes.actions``).
"""

from __future__ import annotations

from rest_framework import serializers

from changes import services
from changes.models import PirOutcome
from incidents.models import NOTE_MAX
from itsm.api import bulk
from itsm.models import AssignmentGroup, User

TEXT_MAX = 10_000

# --- Action inputs (validated here, ruled on by the workflows and services) --------------------


class ApproveInput(serializers.Serializer):
    cab_notes = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX, default="")


class RejectInput(serializers.Serializer):
    cab_notes = serializers.CharField(max_length=TEXT_MAX, help_text="Why the CAB rejects the change.")
    resolve_linked_ticket = serializers.BooleanField(
        required=False, default=False,
        help_text="Also resolve the open incident the change was raised for (rework reopens it).",
    )  # fmt: skip


class PirInput(serializers.Serializer):
    pir_outcome = serializers.ChoiceField(choices=PirOutcome.choices)
    pir_lessons = serializers.CharField(max_length=TEXT_MAX)
    pir_follow_ups = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX, default="")


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX, default="")


class ChangeAssignInput(serializers.Serializer):
    """Both given: assign to the user within the group; one null: clear that part; both null: unassign."""

    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False, default=None
    )
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=AssignmentGroup.objects.all(), allow_null=True, required=False, default=None
    )


class CompleteGateInput(serializers.Serializer):
    gate = serializers.CharField(max_length=100, help_text="One of the change's template's gates.")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ChangeNoteEditInput(serializers.Serializer):
    body = serializers.CharField(max_length=NOTE_MAX)


class ChangeBulkInput(bulk.BulkInput):
    """Which bulk action to take on which changes (up to 100), and with what."""

    action = serializers.ChoiceField(choices=services.BULK.names)
