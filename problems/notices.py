"""Who is told what about a problem (SPEC §5, issue 13), through ``notifications.services.send``:
the assignee and the group's leads when it is assigned; holders of problems.approve_rca when an
RCA is submitted; the submitter when it is approved or rejected. Never the person who acted.
In-app rows are written in the caller's transaction, e-mails after it commits."""

from __future__ import annotations

from itsm import policy
from notifications import services as notify
from notifications.models import Kind

Message = notify.Message


def _name(user) -> str:
    return user.get_username() if user is not None else "The system"


def assigned(problem, *, actor) -> None:
    """The assignee and the assignment group's leads learn the problem is theirs."""
    people = [problem.assignee] if problem.assignee is not None else []
    if problem.assignment_group_id is not None:
        people += notify.group_leads([problem.assignment_group_id]).get(problem.assignment_group_id, [])
    extra = {
        "actor": _name(actor),
        "assignee": str(problem.assignee or ""),
        "group": str(problem.assignment_group or ""),
    }
    notify.send(
        Message(person, Kind.PROBLEM_ASSIGNED, problem, extra) for person in people if person != actor
    )


def rca_submitted(problem) -> None:
    """Holders of problems.approve_rca (problem managers) are asked to review it."""
    submitter = problem.rca_submitted_by
    managers = policy.users_with_permission("problems.approve_rca").exclude(pk=getattr(submitter, "pk", None))
    notify.send(Message(person, Kind.RCA_SUBMITTED, problem, {"actor": _name(submitter)}) for person in managers)


def rca_reviewed(problem, *, approved: bool) -> None:
    """The RCA's submitter learns whether it was approved or sent back."""
    submitter = problem.rca_submitted_by
    if submitter is None:
        return
    kind = Kind.RCA_APPROVED if approved else Kind.RCA_REJECTED
    extra = {"actor": _name(problem.rca_reviewed_by)}
    if approved:
        extra["changes"] = problem.changes.count()
    notify.send([Message(submitter, kind, problem, extra)])
