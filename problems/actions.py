"""What may be done to a problem beyond a plain edit: the one table the API's actions, the
desk's action forms and the admin's bulk actions are made from (``itsm.actions``).

Each action's desk form (problems/forms.py) has the function's keyword arguments as fields.
Linking is in the table for the desk; the API has its own link/unlink endpoints, which answer the
linking report rather than the problem."""

from __future__ import annotations

from itsm.actions import Action, ActionTable
from problems import forms, services, workflows
from problems.api import serializers as s


def _assigned(problem) -> str:
    if problem.assignee is None and problem.assignment_group is None:
        return f"{problem.number} is unassigned."
    who = str(problem.assignee) if problem.assignee else "nobody in particular"
    group = f" in {problem.assignment_group}" if problem.assignment_group else ""
    return f"{problem.number} is assigned to {who}{group}."


def _linked(report) -> str:
    said = [f"{len(report['linked'])} incident(s) linked"]
    if report["already_linked"]:
        said.append(f"{len(report['already_linked'])} already linked")
    if report["unknown"]:
        said.append(f"not found: {', '.join(map(str, report['unknown']))}")
    return "; ".join(said) + "."


def _unlinked(report) -> str:
    said = [f"{len(report['unlinked'])} incident(s) unlinked"]
    if report["not_linked"]:
        said.append(f"{len(report['not_linked'])} were not linked")
    if report["unknown"]:
        said.append(f"not found: {', '.join(map(str, report['unknown']))}")
    return "; ".join(said) + "."


def _approved(problem) -> str:
    count = problem.changes.count()
    return f"The RCA of {problem.number} is approved: it is a known error, with {count} change(s) raised."


w = workflows
ACTIONS = ActionTable(
    record="problem",
    transitions=workflows.TRANSITIONS,
    actions=[
        Action("start", w.problem_start, label="Start investigating", done="{number} is being investigated.",
               form=forms.NoInputForm, admin="Start investigating the selected problems", past="Started"),
        Action("submit-rca", w.problem_submit_rca, label="Submit RCA", done="The RCA of {number} is submitted for review.",
               input=s.SubmitRcaInput, form=forms.SubmitRcaForm,
               doc="Submit the root-cause analysis: a summary (10+ characters), a confidence from 0.0 to 1.0 "
                   "and the corrective plan (items with a title and an optional description)."),
        Action("approve-rca", w.problem_approve_rca, label="Approve RCA", done=_approved, form=forms.NoInputForm,
               doc="Approve the RCA (problem managers, not its submitter): one normal draft change per "
                   "corrective item; the problem becomes a known error. An RCA without items is refused."),
        Action("reject-rca", w.problem_reject_rca, label="Reject RCA", done="The RCA of {number} is sent back.",
               input=s.RejectRcaInput, form=forms.RejectRcaForm, danger=True, doc="Send the RCA back with review notes (problem managers, not its submitter)."),
        Action("verify", w.problem_verify, label="Verify", done="{number} is verified.", input=s.VerifyInput, form=forms.VerifyForm,
               doc="Confirm the corrective changes fixed the problem (notes of 10+ characters)."),
        Action("close", w.problem_close, label="Close", done="{number} is closed.", form=forms.NoInputForm,
               admin="Close the selected verified problems", past="Closed"),
        Action("cancel", w.problem_cancel, label="Cancel problem", done="{number} is cancelled.",
               form=forms.NoInputForm, danger=True),
        Action("assign", services.problem_assign, label="Assign", done=_assigned, input=s.ProblemAssignInput,
               form=forms.AssignForm),
        Action("link-incidents", services.problem_link_incidents, label="Link incidents", done=_linked,
               form=forms.LinkIncidentsForm, permission="link_incidents"),
        Action("unlink-incidents", services.problem_unlink_incidents, label="Unlink incidents", done=_unlinked,
               form=forms.LinkIncidentsForm, permission="link_incidents"),
    ],
)  # fmt: skip
