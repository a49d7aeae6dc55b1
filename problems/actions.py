"""What may be done to a problem beyond a plain edit: the one table the API's actions, the
desk's action forms and the admin's bulk actions are made from (``itsm.actions``).

The desk forms (``form=``) come with the desk pages (problems/forms.py); until then the desk
offers no form for these actions."""

from __future__ import annotations

from itsm.actions import Action, ActionTable
from problems import services, workflows
from problems.api import serializers as s


def _assigned(problem) -> str:
    if problem.assignee is None and problem.assignment_group is None:
        return f"{problem.number} is unassigned."
    who = str(problem.assignee) if problem.assignee else "nobody in particular"
    group = f" in {problem.assignment_group}" if problem.assignment_group else ""
    return f"{problem.number} is assigned to {who}{group}."


def _approved(problem) -> str:
    count = problem.changes.count()
    return f"The RCA of {problem.number} is approved: it is a known error, with {count} change(s) raised."


w = workflows
ACTIONS = ActionTable(
    record="problem",
    transitions=workflows.TRANSITIONS,
    actions=[
        Action("start", w.problem_start, label="Start investigating", done="{number} is being investigated.",
               admin="Start investigating the selected problems", past="Started"),
        Action("submit-rca", w.problem_submit_rca, label="Submit RCA", done="The RCA of {number} is submitted for review.",
               input=s.SubmitRcaInput,
               doc="Submit the root-cause analysis: a summary (10+ characters), a confidence from 0.0 to 1.0 "
                   "and the corrective plan (items with a title and an optional description)."),
        Action("approve-rca", w.problem_approve_rca, label="Approve RCA", done=_approved,
               doc="Approve the RCA (problem managers, not its submitter): one normal draft change per "
                   "corrective item; the problem becomes a known error. An RCA without items is refused."),
        Action("reject-rca", w.problem_reject_rca, label="Reject RCA", done="The RCA of {number} is sent back.",
               input=s.RejectRcaInput, doc="Send the RCA back with review notes (problem managers, not its submitter)."),
        Action("verify", w.problem_verify, label="Verify", done="{number} is verified.", input=s.VerifyInput,
               doc="Confirm the corrective changes fixed the problem (notes of 10+ characters)."),
        Action("close", w.problem_close, label="Close", done="{number} is closed.",
               admin="Close the selected verified problems", past="Closed"),
        Action("cancel", w.problem_cancel, label="Cancel problem", done="{number} is cancelled."),
        Action("assign", services.problem_assign, label="Assign", done=_assigned, input=s.ProblemAssignInput),
    ],
)  # fmt: skip
