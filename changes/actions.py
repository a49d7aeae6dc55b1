"""What may be done to a change beyond a plain edit: the one table the API's actions, the desk's
action forms and the admin's bulk actions are made from (``itsm.actions``).

Each action's desk form (changes/forms.py) and API input (changes/api/serializers.py) has the
function's keyword arguments as fields. ``impact`` computes and stores the impact analysis (the
API's GET on ``impact/`` reads the stored one).
"""

from __future__ import annotations

from changes import forms, services, workflows
from changes.api import serializers as s
from itsm.actions import Action, ActionTable


def _assigned(change) -> str:
    if change.assignee is None and change.assignment_group is None:
        return f"{change.number} is unassigned."
    who = str(change.assignee) if change.assignee else "nobody in particular"
    group = f" in {change.assignment_group}" if change.assignment_group else ""
    return f"{change.number} is assigned to {who}{group}."


def _completed(change) -> str:
    return f"{change.number} is complete: " + (
        "its post-implementation review is due." if change.state == "review" else "it is closed."
    )


def _impact(change) -> str:
    summary = change.impact_summary or {}
    return (
        f"Impact of {change.number}: {summary.get('group_count', 0)} group(s), "
        f"{summary.get('host_count', 0)} host(s), risk {summary.get('risk_level', 'unknown')}."
    )


w = workflows
ACTIONS = ActionTable(
    record="change",
    transitions=workflows.TRANSITIONS,
    actions=[
        Action("submit", w.change_submit, label="Submit to CAB", done="{number} is submitted to the CAB.",
               form=forms.NoInputForm, doc="Submit a draft to the CAB (agents); its risk is scored afresh and "
               "the holders of changes.approve are told."),
        Action("approve", w.change_approve, label="Approve", done="{number} is approved.", input=s.ApproveInput,
               form=forms.ApproveForm,
               doc="The CAB approves (changes.approve; not the requester or assignee): needs the planned window, "
                   "the template's required gates and the notice hours (48 by default) or a notice_override_reason."),
        Action("reject", w.change_reject, label="Reject", done="{number} is rejected.", input=s.RejectInput,
               form=forms.RejectForm, danger=True,
               doc="The CAB rejects with cab_notes (changes.approve; not the requester or assignee); "
                   "resolve_linked_ticket also resolves the open incident the change was raised for."),
        Action("rework", w.change_rework, label="Rework", done="{number} is back in draft.", form=forms.NoInputForm,
               doc="Back to draft: clears the CAB decision, risk and gate status; reopens an incident resolved "
                   "on the rejection."),
        Action("start", w.change_start, label="Start", done="{number} is in progress.", form=forms.NoInputForm,
               admin="Start the selected approved changes", past="Started",
               doc="Start the work of an approved change (sets actual_start)."),
        Action("complete", w.change_complete, label="Complete", done=_completed, form=forms.NoInputForm,
               doc="Finish the work (sets actual_end): to review when a PIR is required, else closed."),
        Action("pir", w.change_record_pir, label="Record PIR", done="The review of {number} is recorded; it is closed.",
               input=s.PirInput, form=forms.PirForm,
               doc="Record the post-implementation review (outcome, lessons, follow-ups); the change closes."),
        Action("cancel", w.change_cancel, label="Cancel change", done="{number} is cancelled.", input=s.CancelInput,
               form=forms.ReasonForm, danger=True, doc="Cancel a change before its work starts."),
        Action("assign", services.change_assign, label="Assign", done=_assigned, input=s.ChangeAssignInput,
               form=forms.AssignForm),
        Action("complete-gate", services.change_complete_gate, label="Complete gate",
               done="The gate is complete on {number}.", input=s.CompleteGateInput, form=forms.CompleteGateForm,
               doc="Complete one of the template's gates, with a note (agents)."),
        Action("impact", services.change_compute_impact, label="Analyse impact", done=_impact,
               form=forms.NoInputForm,
               doc="Compute the impact analysis (host-group dependencies) and store it on the change."),
    ],
)  # fmt: skip
