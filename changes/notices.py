"""Who is told what about a change (SPEC §5, issue 14), through ``notifications.services.send``:

- submitted to the CAB (by hand, or a standard change its template's policy routes there):
  every holder of ``changes.approve`` who may decide on it (not its requester or assignee);
- decided (approved or rejected): the requester and the assignee;
- sent back for a new decision (an approved change's plan was edited): the approvers again;
- an emergency change raised from an incident: the CAB (holders of ``changes.approve``);
- a post-implementation review overdue: the assignee, else the assignment group's leads.

Never the person who acted. In-app rows are written in the caller's transaction, e-mails after it
commits. The actor's name travels as ``actor`` and a routing reason as ``routing`` (not ``by`` or
``reason``, which the notifications service reads as escalation details and drops for records
without escalation).
"""

from __future__ import annotations

from collections.abc import Iterable

from itsm import policy
from notifications import services as notify
from notifications.models import Kind

Message = notify.Message
APPROVE = "changes.approve"


def _name(user) -> str:
    return user.get_username() if user is not None else "The system"


def _approvers(change, actor):
    """Holders of changes.approve who may decide on ``change`` (one query)."""
    barred = {pk for pk in (getattr(actor, "pk", None), change.requester_id, change.assignee_id) if pk}
    return policy.users_with_permission(APPROVE).exclude(pk__in=barred)


def submitted(change, *, actor, reason: str = "") -> None:
    """The CAB is asked to decide (``reason``: why a standard change was not auto-approved)."""
    extra = {"actor": _name(actor), "routing": reason}
    notify.send(Message(person, Kind.CHANGE_SUBMITTED, change, extra) for person in _approvers(change, actor))


def decided(change, *, actor) -> None:
    """The requester and the assignee learn the CAB's decision."""
    kind = Kind.CHANGE_APPROVED if change.cab_decision == "approved" else Kind.CHANGE_REJECTED
    people = [p for p in (change.requester, change.assignee) if p is not None and p != actor]
    notify.send(Message(person, kind, change, {"actor": _name(actor)}) for person in people)


def sent_back(change, *, actor, what: Iterable[str]) -> None:
    """The approvers learn an approved change was edited and needs their decision again."""
    extra = {"actor": _name(actor), "what": ", ".join(what)}
    notify.send(Message(person, Kind.CHANGE_SENT_BACK, change, extra) for person in _approvers(change, actor))


def emergency_raised(change, *, actor, incident) -> None:
    """The CAB learns of an emergency change approved as it was raised."""
    extra = {"actor": _name(actor), "incident_number": incident.number}
    people = policy.users_with_permission(APPROVE).exclude(pk=getattr(actor, "pk", None))
    notify.send(Message(person, Kind.EMERGENCY_CHANGE, change, extra) for person in people)


def pir_overdue(changes, *, people: dict | None = None) -> int:
    """Each change's assignee (else its group's leads) learns its PIR is overdue; one call per
    sweep batch: the leads of every group are read in one query."""
    changes = list(changes)
    leads = notify.group_leads([c.assignment_group_id for c in changes if c.assignee_id is None and c.assignment_group_id])
    messages = []
    for change in changes:
        recipients = [change.assignee] if change.assignee is not None else leads.get(change.assignment_group_id, [])
        messages += [Message(person, Kind.PIR_OVERDUE, change) for person in recipients]
    return notify.send(messages, people=people)
