"""The change state machine (SPEC §5): draft → submitted → approved / rejected (→ rework →
draft) → in_progress → review → closed, and cancelled before the work starts.

This module is the only place that changes a change's ``state``. Each transition is one
function: atomic, on a locked row, checked against the policy and the table below, journaled.
Changes have no SLA clocks (SPEC sets none), so no transition here calls ``sla.clocks``.

- The CAB decision (approve, reject) is ``changes.approve``'s, and never the change's requester's
  or assignee's. Approval needs the planned window, the template's required gates complete, and
  the notice (the template's ``min_notice_hours``, 48 without a template) between now and the
  planned start — or a ``notice_override_reason`` on the change.
- Reject needs ``cab_notes``. With ``resolve_linked_ticket`` it also resolves the change's open
  linked incident (the one it was raised for) and remembers it did, so that rework reopens it.
- Rework clears the CAB decision, the risk and the gate status (kept in the journal).
- Complete goes to review when a PIR is required (emergency changes, and templates that say so),
  else closed; the PIR records outcome, lessons and follow-ups, then closes.
- Three transitions are the services' own, never offered at a door (no policy action names them):
  ``auto-approve`` (a standard change its template lets through, an incident's emergency change),
  ``send-back`` (an approved change whose plan was edited needs a new decision) and
  ``close-without-review`` (complete, when no PIR is required).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from changes import notices, risk
from changes.models import DEFAULT_NOTICE_HOURS, Change, ChangeState, ChangeTask, ChangeType, PirOutcome
from incidents import workflows as incident_workflows
from incidents.models import IncidentState
from itsm import services
from itsm.errors import InvalidInput
from itsm.workflow import Lifecycle, Transition, check, locked_for, register, task_lifecycle, transition

S = ChangeState
PIR_DUE = timedelta(hours=72)
TEXT_MAX = 10_000

TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(frozenset({S.DRAFT}), S.SUBMITTED),
    "approve": Transition(frozenset({S.SUBMITTED}), S.APPROVED),
    "reject": Transition(frozenset({S.SUBMITTED}), S.REJECTED),
    "rework": Transition(frozenset({S.REJECTED}), S.DRAFT),
    "start": Transition(frozenset({S.APPROVED}), S.IN_PROGRESS),
    "complete": Transition(frozenset({S.IN_PROGRESS}), S.REVIEW),
    "pir": Transition(frozenset({S.REVIEW}), S.CLOSED),
    "cancel": Transition(frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED, S.REJECTED}), S.CANCELLED),
    # The services' own (see the module's docstring).
    "auto-approve": Transition(frozenset({S.DRAFT}), S.APPROVED),
    "send-back": Transition(frozenset({S.APPROVED}), S.SUBMITTED),
    "close-without-review": Transition(frozenset({S.IN_PROGRESS}), S.CLOSED),
}

LIFECYCLE = register(
    Lifecycle(
        model=Change,
        states=ChangeState,
        initial=S.DRAFT,
        transitions=TRANSITIONS,
        finished=frozenset({S.CLOSED, S.CANCELLED}),
        desk_page="desk:change-detail",
    )
)

CLEARED_DECISION = {"cab_decision": "", "decided_by": None, "decided_at": None}
CLEARED_RISK = {"risk_score": None, "risk_level": "", "risk_factors": []}
OPEN_INCIDENT = frozenset({IncidentState.NEW, IncidentState.IN_PROGRESS, IncidentState.ON_HOLD})


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


def pir_required(change: Change) -> bool:
    """A PIR is required for every emergency change, and when the change's template says so."""
    template = change.governance_template
    return change.change_type == ChangeType.EMERGENCY or bool(template and template.pir_required)


def _not_a_party(change: Change, actor, verb: str) -> None:
    """Nobody decides on a change they requested or are assigned."""
    if change.requester_id is not None and change.requester_id == actor.pk:
        raise InvalidInput(
            f"You requested this change: another CAB member {verb} it.",
            fields={"requester": ["Nobody decides on a change they requested."]},
        )
    if change.assignee_id is not None and change.assignee_id == actor.pk:
        raise InvalidInput(
            f"You are assigned this change: another CAB member {verb} it.",
            fields={"assignee": ["Nobody decides on a change they are assigned."]},
        )


def approval_errors(change: Change, *, now=None) -> dict[str, list[str]]:
    """What stands between a submitted change and its approval (empty: nothing), by field."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if change.planned_start is None:
        errors["planned_start"] = ["Plan when the change starts before it is approved."]
    if change.planned_end is None:
        errors["planned_end"] = ["Plan when the change ends before it is approved."]
    template = change.governance_template
    if template is not None:
        done = change.gate_status or {}
        missing = [gate for gate in template.required_gates if gate not in done]
        if missing:
            errors["gate_status"] = [f"Complete the required gates first: {', '.join(missing)}."]
    hours = template.min_notice_hours if template is not None else DEFAULT_NOTICE_HOURS
    if (
        change.planned_start is not None
        and change.planned_start < now + timedelta(hours=hours)
        and not (change.notice_override_reason or "").strip()
    ):
        left = (change.planned_start - now).total_seconds() / 3600
        when = f"{left:.0f} hours away" if left > 0 else "already past"
        errors.setdefault("planned_start", []).append(
            f"The planned start is {when}; {hours} hours' notice is required"
            f"{' by ' + template.name if template is not None else ''}. Plan it later, or give a "
            "notice_override_reason."
        )
    return errors


# --- The CAB ----------------------------------------------------------------------------------


@transaction.atomic
def change_submit(*, change: Change, actor) -> Change:
    """Submit a draft to the CAB (agents): its risk is scored afresh and every holder of
    changes.approve who may decide is told."""
    locked = services.lock(change)
    fields = risk.score(locked).as_fields() if locked.state == S.DRAFT else {}
    change = transition(TRANSITIONS, locked, actor, "submit", changes=fields)
    notices.submitted(change, actor=actor)
    return change


@transaction.atomic
def change_approve(*, change: Change, actor, cab_notes: str = "") -> Change:
    """Approve a submitted change (changes.approve; not its requester or assignee) once its
    planned window is set, its template's required gates are complete and the notice is met or
    overridden."""
    notes = _text(cab_notes, "cab_notes")
    locked = services.lock(change)
    if locked.state == S.SUBMITTED:
        locked = locked_for(locked, actor, "approve")
        _not_a_party(locked, actor, "approves")
        errors = approval_errors(locked)
        if errors:
            raise InvalidInput("The change cannot be approved yet.", fields=errors)
    change = transition(
        TRANSITIONS, locked, actor, "approve",
        changes={"cab_decision": "approved", "cab_notes": notes, "decided_by": actor, "decided_at": timezone.now()},
    )  # fmt: skip
    notices.decided(change, actor=actor)
    return change


@transaction.atomic
def change_reject(*, change: Change, actor, cab_notes: str, resolve_linked_ticket: bool = False) -> Change:
    """Reject a submitted change with CAB notes (changes.approve; not its requester or
    assignee). ``resolve_linked_ticket`` also resolves the open incident it was raised for;
    rework reopens that incident."""
    notes = _text(cab_notes, "cab_notes", required="Say why the CAB rejects the change.")
    if not isinstance(resolve_linked_ticket, bool):
        raise InvalidInput("Say true or false.", fields={"resolve_linked_ticket": ["Say true or false."]})
    locked = services.lock(change)
    if locked.state == S.SUBMITTED:
        locked = locked_for(locked, actor, "reject")
        _not_a_party(locked, actor, "rejects")
    changes = {"cab_decision": "rejected", "cab_notes": notes, "decided_by": actor, "decided_at": timezone.now()}
    incident = None
    if resolve_linked_ticket and locked.state == S.SUBMITTED:
        incident = locked.incident
        if incident is None or incident.state not in OPEN_INCIDENT:
            raise InvalidInput(
                "There is no open linked incident to resolve.",
                fields={"resolve_linked_ticket": ["This change has no open linked incident."]},
            )
        changes["linked_ticket_resolved_on_rejection"] = True
    change = transition(TRANSITIONS, locked, actor, "reject", changes=changes)
    if incident is not None:
        incident_workflows.incident_resolve(
            incident=incident, actor=actor, resolution_code="resolved",
            resolution_notes=f"Resolved as the CAB rejected change {change.number}: {notes}",
        )  # fmt: skip
    notices.decided(change, actor=actor)
    return change


@transaction.atomic
def change_rework(*, change: Change, actor) -> Change:
    """Take a rejected change back to draft (agents): the CAB decision, risk and gate status
    are cleared (the CAB notes stay, to work from); an incident resolved on the rejection is
    reopened."""
    locked = services.lock(change)
    reopen = locked.state == S.REJECTED and locked.linked_ticket_resolved_on_rejection
    changes = {**CLEARED_DECISION, **CLEARED_RISK, "gate_status": {}, "linked_ticket_resolved_on_rejection": False}
    change = transition(TRANSITIONS, locked, actor, "rework", changes=changes)
    if reopen and change.incident is not None and change.incident.state == IncidentState.RESOLVED:
        incident_workflows.incident_reopen(
            incident=change.incident, actor=actor, notes=f"Change {change.number} is being reworked."
        )
    return change


def change_auto_approve(*, change: Change, actor, note: str) -> Change:
    """Approved as created (the services': a standard change its template's policy lets
    through, an incident's emergency change); no CAB member decided, so ``decided_by`` is empty."""
    return transition(
        TRANSITIONS, change, actor, "auto-approve", skip_policy=True, note=note,
        changes={"cab_decision": "approved", "decided_by": None, "decided_at": timezone.now()},
    )  # fmt: skip


def change_route_to_cab(*, change: Change, actor, reason: str) -> Change:
    """A standard change its template's policy does not let through goes to the CAB as created,
    with the reason kept in ``routing_reason``."""
    change = transition(
        TRANSITIONS, change, actor, "submit", skip_policy=True, note=reason, changes={"routing_reason": reason}
    )
    notices.submitted(change, actor=actor, reason=reason)
    return change


def change_send_back(*, change: Change, actor, what: Iterable[str]) -> Change:
    """An approved change whose plan was edited before it started goes back to the CAB: the
    decision is cleared and the approvers are told (the services', on the locked change)."""
    what = list(what)
    change = transition(
        TRANSITIONS, change, actor, "send-back", skip_policy=True, changes=CLEARED_DECISION,
        note=f"The approval no longer covers the change: {', '.join(what)} changed.",
    )  # fmt: skip
    notices.sent_back(change, actor=actor, what=what)
    return change


# --- The work ---------------------------------------------------------------------------------


@transaction.atomic
def change_start(*, change: Change, actor) -> Change:
    """Start an approved change (agents): ``actual_start`` is now."""
    return transition(TRANSITIONS, change, actor, "start", changes={"actual_start": timezone.now()})


@transaction.atomic
def change_complete(*, change: Change, actor) -> Change:
    """Finish the work (agents): ``actual_end`` is now; to review when a PIR is required (due
    72 hours later unless already due), else closed."""
    locked = services.lock(change)
    check(TRANSITIONS, locked, "complete", actor=actor)
    now = timezone.now()
    changes = {"actual_end": now}
    if pir_required(locked) or locked.pir_required:
        changes.update(pir_required=True, pir_due_at=locked.pir_due_at or now + PIR_DUE)
        return transition(TRANSITIONS, locked, actor, "complete", changes=changes)
    return transition(TRANSITIONS, locked, actor, "close-without-review", changes=changes, policy_action="complete")


@transaction.atomic
def change_record_pir(*, change: Change, actor, pir_outcome: str, pir_lessons: str, pir_follow_ups: str = "") -> Change:
    """Record the post-implementation review (agents): the outcome (successful,
    partially_successful, failed, backed_out), the lessons learnt and any follow-ups; the change
    closes."""
    errors = {}
    if pir_outcome not in PirOutcome.values:
        errors["pir_outcome"] = [f"Choose one of: {', '.join(PirOutcome.values)}."]
    try:
        lessons = _text(pir_lessons, "pir_lessons", required="Say what was learnt.")
    except InvalidInput as exc:
        errors.update(exc.fields)
        lessons = ""
    try:
        follow_ups = _text(pir_follow_ups, "pir_follow_ups")
    except InvalidInput as exc:
        errors.update(exc.fields)
        follow_ups = ""
    if errors:
        raise InvalidInput("The review cannot be recorded as it is.", fields=errors)
    return transition(
        TRANSITIONS, change, actor, "pir",
        changes={"pir_outcome": pir_outcome, "pir_lessons": lessons, "pir_follow_ups": follow_ups,
                 "pir_recorded_at": timezone.now()},
    )  # fmt: skip


@transaction.atomic
def change_cancel(*, change: Change, actor, reason: str = "") -> Change:
    """Cancel a change before its work starts (agents), optionally saying why (journaled)."""
    note = _text(reason, "reason")
    return transition(TRANSITIONS, change, actor, "cancel", note=note)


# --- Change tasks: the shared task states and transitions (itsm.workflow) ---------------------

TASK_LIFECYCLE = task_lifecycle(ChangeTask)
