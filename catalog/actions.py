"""What may be done to a request beyond a plain edit: the one table the API's actions, the desk's
and the portal's action forms and the admin's bulk actions are made from (``itsm.actions``).

Each action's input (a DRF serializer, the API body) and form (the desk's and portal's) are
declared here, with the function's keyword arguments as fields; the rules are the workflows'.
"""

from __future__ import annotations

from django import forms
from rest_framework import serializers

from catalog import services, workflows
from catalog.models import NOTE_MAX
from itsm.actions import Action, ActionTable
from itsm.errors import ItsmError
from itsm.forms import ActionForm
from itsm.forms import AssignForm as BaseAssignForm
from itsm.models import AssignmentGroup, User

TEXT_MAX = workflows.TEXT_MAX


# --- API inputs -------------------------------------------------------------------------------


class ApproveInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX, default="")


class RejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=TEXT_MAX, help_text="Why the request is rejected (required).")


class CompleteInput(serializers.Serializer):
    completion_notes = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX, default="")


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX, default="")


class AssignInput(serializers.Serializer):
    """Both given: assign to the agent within the group; one null: clear that part; both null: unassign."""

    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False, default=None
    )
    assignment_group = serializers.PrimaryKeyRelatedField(
        queryset=AssignmentGroup.objects.all(), allow_null=True, required=False, default=None
    )


# --- Page forms -------------------------------------------------------------------------------


class _Form(ActionForm):
    def add_service_error(self, exc: ItsmError) -> None:
        """Put a service's field messages on the form's fields (the page shows its main message)."""
        for name, problems in exc.fields.items():
            if name in self.fields:
                self.add_error(name, problems)


class NoInputForm(_Form):
    """Fulfil: the button is the whole form."""


class ApproveForm(_Form):
    comment = forms.CharField(
        label="Comment", required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: kept with your decision.",
    )  # fmt: skip


class RejectForm(_Form):
    reason = forms.CharField(
        label="Reason", max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The requester is told why.",
    )  # fmt: skip


class CompleteForm(_Form):
    completion_notes = forms.CharField(
        label="Completion notes", required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class CancelForm(_Form):
    reason = forms.CharField(
        label="Reason", required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: added to the conversation.",
    )  # fmt: skip


class AssignForm(_Form, BaseAssignForm):
    """An agent, a group, or both; leaving both empty unassigns."""


class NoteForm(forms.Form):
    body = forms.CharField(label="Note", max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 4}))


def _assigned(request) -> str:
    if request.assignee is None and request.assignment_group is None:
        return f"{request.number} is unassigned."
    who = str(request.assignee) if request.assignee else "nobody in particular"
    group = f" in {request.assignment_group}" if request.assignment_group else ""
    return f"{request.number} is assigned to {who}{group}."


def _approved(request) -> str:
    if request.state == "approved":
        return f"{request.number} is approved."
    return f"Your approval of {request.number} is recorded."


w = workflows
ACTIONS = ActionTable(
    record="request",
    transitions=workflows.TRANSITIONS,
    actions=[
        Action("approve", w.request_approve, label="Approve", done=_approved, input=ApproveInput, form=ApproveForm,
               doc="Approve the current approval level: as one of its approvers, or for the whole level "
                   "(service_requests.manage). Nobody approves a request they raised."),
        Action("reject", w.request_reject, label="Reject", done="{number} is rejected.", input=RejectInput,
               form=RejectForm, danger=True,
               doc="Reject with a reason (required): one rejection rejects the request."),
        Action("fulfil", w.request_fulfil, label="Fulfil", done="{number} is in fulfilment; its tasks are created.",
               form=NoInputForm,
               doc="Start fulfilment of an approved request (service_requests.manage): one task per task "
                   "template of the item, for its group."),
        Action("complete", w.request_complete, label="Mark complete", done="{number} is completed.",
               input=CompleteInput, form=CompleteForm,
               doc="Complete an approved or in-fulfilment request whose tasks are all closed or cancelled "
                   "(service_requests.manage)."),
        Action("cancel", w.request_cancel, label="Cancel request", done="{number} is cancelled.", input=CancelInput,
               form=CancelForm, danger=True,
               doc="Cancel before fulfilment: the requester, or an agent."),
        Action("assign", services.request_assign, label="Assign", done=_assigned, input=AssignInput,
               form=AssignForm, doc="Assign to an agent, a group, or both; both null unassigns."),
    ],
)  # fmt: skip
