"""The request state machine (issue 15): submitted → pending_approval → approved / rejected →
in_fulfilment → completed, and cancelled before fulfilment.

This module is the only place that changes a request's ``state`` or its approvals. Each
transition is one function: atomic, on a locked row, checked against the policy and the table
below, journaled.

- Creation is the submission (``catalog.services.request_create``), which then calls ``begin``:
  an item without approval levels approves the request at once (``auto-approve``); otherwise
  the request waits for its first level (``await-approval``).
- Levels are decided in order. When a level starts, its approvers are its users and the active
  members of its group, less the requester (recorded as ``skipped``): each gets a pending
  ``RequestApproval`` and a django-guardian ``approve_request`` grant on the request (kept after
  deciding, so they can still read what they decided). An "any" level is decided by one
  approval, an "every" level by all its approvers'. Holders of ``service_requests.manage`` may
  decide the current level of any request for everyone (``decided_by``: them); a level left
  with no approver waits for them. One rejection rejects the request. Nobody approves or
  rejects a request they raised, agents included. Every decision is journaled with who made it.
- Fulfil creates one request task per task template of the item, in order, for the template's
  group or else the item's fulfilment group. Complete needs every task closed or cancelled.
- The SLA clocks start at creation, stand still while the request waits for approval, and stop
  when it is completed or rejected; cancelling cancels them.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from catalog import notices
from catalog.models import (
    ApprovalLevel,
    ApprovalMode,
    Decision,
    Request,
    RequestApproval,
    RequestNote,
    RequestState,
    RequestTask,
    TaskTemplate,
)
from itsm import audit, policy, services
from itsm.errors import InvalidInput, NotAllowed
from itsm.models import TaskState
from itsm.roles import load_roles
from itsm.workflow import Lifecycle, Transition, checked, register, task_lifecycle, transition
from sla import clocks

S = RequestState
MANAGE_REQUESTS = "service_requests.manage"
APPROVE_PERMISSION = "catalog.approve_request"
TEXT_MAX = 10_000

TRANSITIONS: dict[str, Transition] = {
    # The services' own, at creation (no policy action names them).
    "await-approval": Transition(frozenset({S.SUBMITTED}), S.PENDING_APPROVAL),
    "auto-approve": Transition(frozenset({S.SUBMITTED}), S.APPROVED),
    # A decision: the last level's approval approves the request; an earlier one moves it on.
    "approve": Transition(frozenset({S.PENDING_APPROVAL}), S.APPROVED),
    "reject": Transition(frozenset({S.PENDING_APPROVAL}), S.REJECTED),
    "fulfil": Transition(frozenset({S.APPROVED}), S.IN_FULFILMENT),
    "complete": Transition(frozenset({S.APPROVED, S.IN_FULFILMENT}), S.COMPLETED),
    "cancel": Transition(frozenset({S.SUBMITTED, S.PENDING_APPROVAL, S.APPROVED}), S.CANCELLED),
}
# An approval that does not finish the last level: the request stays pending.
APPROVE_STAYS = {**TRANSITIONS, "approve": Transition(frozenset({S.PENDING_APPROVAL}), None)}

LIFECYCLE = register(
    Lifecycle(
        model=Request,
        states=RequestState,
        initial=S.SUBMITTED,
        transitions=TRANSITIONS,
        unanswered=frozenset({S.SUBMITTED, S.PENDING_APPROVAL}),
        paused=frozenset({S.PENDING_APPROVAL}),
        finished=frozenset({S.COMPLETED, S.REJECTED, S.CANCELLED}),
        escalating=frozenset(),
        desk_page="desk:request-detail",
        portal_page="portal:request-detail",
    )
)
DONE_TASK = frozenset({TaskState.CLOSED, TaskState.CANCELLED})


def _text(value, name: str, *, required: str = "") -> str:
    """A text input, stripped; a 400 naming ``name`` when it is not text, too long, or blank
    while ``required`` (the message)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput("Give text.", fields={name: ["Give text."]})
    text = value.strip()
    if required and not text:
        raise InvalidInput(required, fields={name: [required]})
    if len(text) > TEXT_MAX:
        raise InvalidInput(
            "The text is too long.", fields={name: [f"At most {TEXT_MAX} characters (it has {len(text)})."]}
        )
    return text


# The journal field approval decisions are written under (hidden from customers: catalog.rules).
DECISIONS = "approval_decisions"


def _name(user) -> str:
    return user.get_username() if user is not None else "the system"


# --- Approval levels ---------------------------------------------------------------------------


def level_approvers(level: ApprovalLevel) -> list:
    """A level's approvers: its users and the active members of its group (active people only),
    in a stable order."""
    User = get_user_model()
    people = User.objects.filter(is_active=True).filter(pk__in=level.users.values("pk"))
    if level.group_id is not None:
        people = people | User.objects.filter(is_active=True, group_memberships__group_id=level.group_id)
    people = list(people.distinct().order_by("username"))
    load_roles(people)  # the policy asks about each when they are told: one query for all
    return people


def _next_level(request: Request, after: int | None) -> ApprovalLevel | None:
    levels = ApprovalLevel.objects.filter(item_id=request.catalog_item_id).select_related("item").order_by("position")
    if after is not None:
        levels = levels.filter(position__gt=after)
    return levels.first()


def _start_level(request: Request, level: ApprovalLevel, actor) -> Request:
    """Open ``level``: a pending approval and a grant per approver (the requester skipped), the
    level's number on the request, the approvers told."""
    rows, approvers = [], []
    now = timezone.now()
    for person in level_approvers(level):
        if person.pk == request.requester_id:
            rows.append(
                RequestApproval(
                    request=request, level=level.position, approver=person, decision=Decision.SKIPPED,
                    reason="Nobody approves a request they raised.", decided_at=now,
                )
            )  # fmt: skip
            continue
        rows.append(RequestApproval(request=request, level=level.position, approver=person))
        approvers.append(person)
    RequestApproval.objects.bulk_create(rows, ignore_conflicts=True)
    if approvers:  # one insert for every grant
        assign_perm(APPROVE_PERMISSION, approvers, request)
    old = request.approval_level
    Request.objects.filter(pk=request.pk).update(approval_level=level.position)
    request.approval_level = level.position
    audit.change_entry(
        request, actor, "approval_level", old, level.position,
        note=f"Level {level.position} ({level.get_mode_display().lower()}) awaits "
        + (f"{len(approvers)} approver{'s' if len(approvers) != 1 else ''}." if approvers else "the service desk."),
    ).save()  # fmt: skip
    notices.level_started(request, approvers=approvers, level=level, actor=actor)
    return request


def begin(*, request: Request, actor) -> Request:
    """Right after creation, inside the creating transaction (``catalog.services.request_create``),
    on the row it has just written (nobody else sees it yet, so it is not locked again): start
    the SLA clocks, then wait for the first approval level (the clocks start paused) or, with
    none, approve at once."""
    level = _next_level(request, None)
    if level is None:
        clocks.start(request)
        request = transition(
            TRANSITIONS, request, actor, "auto-approve", skip_policy=True, locked=True,
            note="No approval needed for this item.",
        )  # fmt: skip
        notices.approved(request, actor=actor)
        return request
    clocks.start(request, paused="waiting for approval")
    request = transition(TRANSITIONS, request, actor, "await-approval", skip_policy=True, locked=True)
    return _start_level(request, level, actor)


def _closing() -> dict:
    """Completed and rejected requests are closed records: they get their closing time."""
    return {"closed_at": timezone.now()}


def _decision_checks(request: Request, actor, name: str) -> Request:
    """Lock; 404 if unreadable; 400 if the state forbids it; 403 for the requester, whoever
    they are (nobody decides on a request they raised, agents included: said plainly, before
    the policy's general refusal); 403 if the policy refuses (``itsm.workflow.checked``)."""

    def raised_it(obj: Request) -> str | None:
        return f"You raised this request: someone else must {name} it." if obj.requester_id == actor.pk else None

    return checked(TRANSITIONS, request, actor, name, refuse=raised_it)


def _level_rows(request: Request):
    return RequestApproval.objects.select_for_update().filter(request=request, level=request.approval_level)


def _record(request: Request, actor, decision: str, reason: str = "") -> tuple[bool, bool]:
    """Record ``actor``'s decision on the current level. Returns (as_approver, for_the_level):
    whether the actor decided as one of the level's approvers, and whether an agent decided the
    whole level. Refuses an actor with no decision to make here."""
    now = timezone.now()
    rows = list(_level_rows(request).order_by("id"))
    mine = next((r for r in rows if r.approver_id == actor.pk and r.decision == Decision.PENDING), None)
    if mine is not None:
        mine.decision, mine.reason, mine.decided_at, mine.decided_by = decision, reason, now, actor
        mine.save(update_fields=["decision", "reason", "decided_at", "decided_by"])
        return True, False
    if not policy.has_permission(actor, MANAGE_REQUESTS):
        if any(r.approver_id == actor.pk for r in rows):
            raise NotAllowed("You have already decided on this request.")
        raise NotAllowed("This request is not waiting for your decision.")
    # An agent decides the level for everyone: the others' pending decisions are skipped.
    for row in rows:
        if row.decision == Decision.PENDING:
            row.decision, row.decided_at, row.decided_by = Decision.SKIPPED, now, actor
            row.reason = "Decided for the whole level by the service desk."
            row.save(update_fields=["decision", "reason", "decided_at", "decided_by"])
    RequestApproval.objects.update_or_create(
        request=request, level=request.approval_level, approver=actor,
        defaults={"decision": decision, "reason": reason, "decided_at": now, "decided_by": actor},
    )  # fmt: skip
    return False, True


def _level_satisfied(request: Request, level: ApprovalLevel | None, for_the_level: bool) -> bool:
    if for_the_level:
        return True
    rows = RequestApproval.objects.filter(request=request, level=request.approval_level)
    if level is None or level.mode == ApprovalMode.ANY:
        return rows.filter(decision=Decision.APPROVED).exists()
    return not rows.filter(decision=Decision.PENDING).exists()


@transaction.atomic
def request_approve(*, request: Request, actor, comment: str = "") -> Request:
    """Approve the current level as one of its approvers, or for the whole level as a holder of
    ``service_requests.manage``. A satisfied level starts the next one; after the last the
    request is approved (its clocks run again; the requester and the fulfilment group told)."""
    comment = _text(comment, "comment")
    request = _decision_checks(request, actor, "approve")
    current = request.approval_level
    level = ApprovalLevel.objects.filter(item_id=request.catalog_item_id, position=current).first()
    _as_approver, for_the_level = _record(request, actor, Decision.APPROVED, comment)
    # The decision, its level and the approver's comment go under ``approval_decisions``, which
    # customers never read (the requester learns the outcome, not who said what); the
    # transition's own note, which they do read, stays neutral.
    note = f"Level {current} approved" + (" for the whole level" if for_the_level else "")
    note += f": {comment}" if comment else "."
    if not _level_satisfied(request, level, for_the_level):
        audit.change_entry(request, actor, DECISIONS, "", f"level {current}: one approval", note=note).save()
        return transition(
            APPROVE_STAYS, request, actor, "approve", note="An approval was given.", skip_policy=True, locked=True
        )
    # The level is decided: whoever else was asked no longer needs to answer.
    _level_rows(request).filter(decision=Decision.PENDING).update(
        decision=Decision.SKIPPED, decided_at=timezone.now(), reason="The level was already approved."
    )
    following = _next_level(request, current)
    if following is not None:
        audit.change_entry(request, actor, DECISIONS, "", f"level {current} approved", note=note).save()
        request = transition(
            APPROVE_STAYS, request, actor, "approve", note="An approval was given.", skip_policy=True, locked=True
        )
        return _start_level(request, following, actor)
    audit.change_entry(request, actor, DECISIONS, "", f"level {current} approved", note=note).save()
    request = transition(
        TRANSITIONS, request, actor, "approve", note="Approved.", changes={"approval_level": None},
        skip_policy=True, locked=True,
    )  # fmt: skip
    clocks.resume(request)
    clocks.stop_response(request, note="approved")
    notices.approved(request, actor=actor)
    return request


@transaction.atomic
def request_reject(*, request: Request, actor, reason: str) -> Request:
    """Reject with a reason (required): one rejection rejects the request, whatever the level's
    mode. The clocks stop; the requester is told why."""
    reason = _text(reason, "reason", required="Say why the request is rejected.")
    request = _decision_checks(request, actor, "reject")
    current = request.approval_level
    _as_approver, for_the_level = _record(request, actor, Decision.REJECTED, reason)
    RequestApproval.objects.filter(request=request, decision=Decision.PENDING).update(
        decision=Decision.SKIPPED, decided_at=timezone.now(), reason="The request was rejected."
    )
    whole = " for the whole level" if for_the_level else ""
    audit.change_entry(
        request, actor, DECISIONS, "", f"level {current} rejected", note=f"Level {current} rejected{whole}: {reason}"
    ).save()
    # The reason is the requester's to read (it is also their comment and e-mail).
    request = transition(
        TRANSITIONS, request, actor, "reject", note=f"Rejected: {reason}",
        changes={"approval_level": None, **_closing()}, skip_policy=True, locked=True,
    )  # fmt: skip
    RequestNote.objects.create(
        request=request, kind=RequestNote.Kind.COMMENT, author=actor, body=f"[Rejected] {reason}"
    )
    clocks.stop(request, note="rejected")
    notices.rejected(request, actor=actor, reason=reason)
    return request


@transaction.atomic
def request_fulfil(*, request: Request, actor) -> Request:
    """Start fulfilment (``service_requests.manage``): one request task per task template of the
    item, in order, each for the template's group or else the item's fulfilment group."""
    request = transition(TRANSITIONS, request, actor, "fulfil")
    templates = (
        TaskTemplate.objects.filter(item_id=request.catalog_item_id)
        .select_related("assignment_group", "item__fulfilment_group")
        .order_by("position", "id")
    )
    tasks = []
    for template in templates:
        data = {
            "short_description": template.short_description, "description": template.description,
            "priority": request.priority, "assignment_group": template.assignment_group or template.item.fulfilment_group,
        }  # fmt: skip
        tasks.append(services.task_create(parent=request, model=RequestTask, actor=actor, data=data))
    clocks.stop_response(request, note="fulfilment started")
    notices.tasks_created(request, tasks=tasks, actor=actor)
    return request


@transaction.atomic
def request_complete(*, request: Request, actor, completion_notes: str = "") -> Request:
    """Mark complete (``service_requests.manage``), approved or in fulfilment, once every task
    is closed or cancelled. The clocks stop; the requester is told."""
    notes = _text(completion_notes, "completion_notes")
    request = checked(TRANSITIONS, request, actor, "complete")
    open_tasks = list(
        RequestTask.objects.filter(request=request).exclude(state__in=DONE_TASK).values_list("number", flat=True)
    )
    if open_tasks:
        raise InvalidInput(
            "Close or cancel every task of the request before completing it.",
            fields={"tasks": [f"Still open: {', '.join(open_tasks)}."]},
        )
    changes = {**({"completion_notes": notes} if notes else {}), **_closing()}
    request = transition(TRANSITIONS, request, actor, "complete", changes=changes, skip_policy=True, locked=True)
    clocks.stop(request, note="completed")
    notices.completed(request, actor=actor)
    return request


def may_complete(request: Request, user) -> bool:
    """Whether ``user`` may mark ``request`` complete now (the portal's "Mark complete")."""
    if request.state not in TRANSITIONS["complete"].sources or not policy.can(user, "complete", request):
        return False
    return not RequestTask.objects.filter(request=request).exclude(state__in=DONE_TASK).exists()


@transaction.atomic
def request_cancel(*, request: Request, actor, reason: str = "") -> Request:
    """Cancel before fulfilment: an agent, or the customer who raised it. Pending approvals are
    withdrawn; the clocks are cancelled."""
    reason = _text(reason, "reason")
    request = transition(TRANSITIONS, request, actor, "cancel", note=reason, changes={"approval_level": None})
    RequestApproval.objects.filter(request=request, decision=Decision.PENDING).update(
        decision=Decision.SKIPPED, decided_at=timezone.now(), reason="The request was cancelled."
    )
    clocks.cancel(request)
    if reason:
        RequestNote.objects.create(
            request=request, kind=RequestNote.Kind.COMMENT, author=actor, body=f"[Cancelled] {reason}"
        )
    return request


# --- Request tasks: the shared task states and transitions (itsm.workflow) ------------------

TASK_LIFECYCLE = task_lifecycle(RequestTask)
