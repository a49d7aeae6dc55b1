"""The incident state machine: new → in_progress → on_hold → resolved → closed, and cancelled.

This module is the only place that changes an incident's ``state``. Each transition is one
function: atomic, on a locked row, checked against the policy and the table below, journaled.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from escalation import services as escalation
from incidents import selectors
from incidents.models import NOTE_MAX, Incident, IncidentNote, IncidentState, IncidentTask, ResolutionCode
from itsm import audit
from itsm.errors import InvalidInput
from itsm.models import Work
from itsm.services import tell_watchers_many
from itsm.workflow import Lifecycle, Transition, register, task_lifecycle, transition
from notifications import services as notify
from notifications.models import Kind
from sla import clocks

S = IncidentState
OPEN = frozenset({S.NEW, S.IN_PROGRESS, S.ON_HOLD})

TRANSITIONS: dict[str, Transition] = {
    "start": Transition(frozenset({S.NEW}), S.IN_PROGRESS),
    "acknowledge": Transition(OPEN, None),  # takes the incident; new ones move to in_progress
    "hold": Transition(frozenset({S.NEW, S.IN_PROGRESS}), S.ON_HOLD),
    "resume": Transition(frozenset({S.ON_HOLD}), S.IN_PROGRESS),
    "resolve": Transition(OPEN, S.RESOLVED),
    "reopen": Transition(frozenset({S.RESOLVED}), S.IN_PROGRESS),
    "close": Transition(frozenset({S.RESOLVED}), S.CLOSED),
    "cancel": Transition(OPEN, S.CANCELLED),
    "escalate": Transition(OPEN, None),
}
ACKNOWLEDGE_NEW = {**TRANSITIONS, "acknowledge": Transition(frozenset({S.NEW}), S.IN_PROGRESS)}

LIFECYCLE = register(
    Lifecycle(
        model=Incident,
        states=IncidentState,
        initial=S.NEW,
        transitions=TRANSITIONS,
        unanswered=frozenset({S.NEW}),
        paused=frozenset({S.ON_HOLD}),
        finished=frozenset({S.RESOLVED, S.CLOSED, S.CANCELLED}),
        escalating=frozenset({S.NEW, S.IN_PROGRESS}),
        desk_page="desk:incident-detail",
        portal_page="portal:incident-detail",
    )
)


def _note(incident, actor, kind, body):
    IncidentNote.objects.create(incident=incident, kind=kind, author=actor, body=body)


@transaction.atomic
def incident_start(*, incident: Incident, actor) -> Incident:
    """An agent starts work on a new incident: that is its first response."""
    incident = transition(TRANSITIONS, incident, actor, "start")
    clocks.stop_response(incident, note="work started")
    return incident


@transaction.atomic
def incident_acknowledge(*, incident: Incident, actor, comment: str = "") -> Incident:
    """Take the incident: it is assigned to the acknowledging agent; a new one starts.
    Refused on resolved, closed and cancelled incidents. It is the first response (the response
    clock stops) and acknowledges the current escalation stage."""
    table = ACKNOWLEDGE_NEW if incident.state == S.NEW else TRANSITIONS
    now = timezone.now()
    changes = {"assignee": actor}
    if incident.acknowledged_at is None:
        changes["acknowledged_at"] = now
    incident = transition(table, incident, actor, "acknowledge", changes=changes)
    clocks.stop_response(incident, at=now, note="acknowledged")
    escalation.acknowledged(incident, at=now)
    if comment:
        _note(incident, actor, IncidentNote.Kind.WORK_NOTE, comment)
    return incident


@transaction.atomic
def incident_hold(*, incident: Incident, actor, reason: str = "") -> Incident:
    incident = transition(TRANSITIONS, incident, actor, "hold")
    clocks.pause(incident, note=reason.strip())
    escalation.held(incident, at=timezone.now())
    if reason:
        _note(incident, actor, IncidentNote.Kind.WORK_NOTE, f"[On hold] {reason}")
    return incident


@transaction.atomic
def incident_resume(*, incident: Incident, actor) -> Incident:
    incident = transition(TRANSITIONS, incident, actor, "resume")
    clocks.resume(incident)
    escalation.resumed(incident, at=timezone.now())
    return incident


@transaction.atomic
def incident_resolve(
    *, incident: Incident, actor, resolution_code: str, resolution_notes: str, resolution_message: str = ""
) -> Incident:
    """Resolve with a resolution code (SPEC §5) and notes saying what was done (the desk's), and
    optionally a message for the customer, which the portal and the resolved e-mail show."""
    errors = {}
    if resolution_code not in ResolutionCode.values:
        errors["resolution_code"] = [f"Choose one of: {', '.join(ResolutionCode.values)}."]
    if not (resolution_notes or "").strip():
        errors["resolution_notes"] = ["Say what was done to resolve the incident."]
    if not isinstance(resolution_message, str):
        errors["resolution_message"] = ["Write the message as text."]
    elif len(resolution_message.strip()) > NOTE_MAX:
        errors["resolution_message"] = [f"Ensure this field has no more than {NOTE_MAX} characters."]
    if errors:
        raise InvalidInput("The incident cannot be resolved as asked.", fields=errors)
    incident = transition(
        TRANSITIONS, incident, actor, "resolve",
        changes={"resolution_code": resolution_code, "resolution_notes": resolution_notes.strip(),
                 "resolution_message": resolution_message.strip(), "resolved_at": timezone.now()},
    )  # fmt: skip
    clocks.stop(incident, at=incident.resolved_at, note="resolved")
    escalation.halted(incident)
    notify.send(selectors.customer_messages(incident, Kind.RESOLVED))  # e-mailed after commit
    return incident


@transaction.atomic
def incident_reopen(*, incident: Incident, actor, notes: str = "") -> Incident:
    """Back to in progress (incidents.manage); ``[Reopened] <notes>`` goes into the work journal.
    The SLA clocks and the current escalation stage start again from the reopen time; the
    customer's resolution message and the "customer replied" mark are cleared."""
    now = timezone.now()
    incident = transition(
        TRANSITIONS, incident, actor, "reopen",
        changes={"resolved_at": None, "resolution_code": "", "resolution_message": "", "customer_replied_at": None},
    )  # fmt: skip
    clocks.restart(incident, at=now)
    escalation.reopened(incident, at=now)
    if notes.strip():
        _note(incident, actor, IncidentNote.Kind.WORK_NOTE, f"[Reopened] {notes.strip()}")
    return incident


@transaction.atomic
def incident_close(*, incident: Incident, actor) -> Incident:
    """Close a resolved incident (by an agent, or by the auto-close sweep with ``actor=None``); a
    "customer replied" mark is cleared."""
    return transition(TRANSITIONS, incident, actor, "close", changes={"customer_replied_at": None})


@transaction.atomic
def incidents_close_locked(incidents: list[Incident]) -> list[int]:
    """Close many resolved incidents at once as the system (the auto-close sweep), set-based:
    one UPDATE and one journal insert for the batch. The caller holds the rows locked; those no
    longer in a state the ``close`` transition accepts are left alone. Same table, same journal
    entry as ``incident_close``, and the same watchers told (``tell_watchers_many``)."""
    step = TRANSITIONS["close"]
    batch = [i for i in incidents if i.state in step.sources]
    if not batch:
        return []
    now = timezone.now()
    keys = [i.pk for i in batch]
    Work.objects.filter(pk__in=keys).update(
        state=step.target, closed_at=now, updated_at=now, version=F("version") + 1
    )
    Incident.objects.filter(pk__in=keys, customer_replied_at__isnull=False).update(customer_replied_at=None)
    tell_watchers_many(Incident, ((i, [("state", i.state, step.target), *_cleared_reply(i)]) for i in batch))
    audit.write(
        audit.transition_entry(i, None, transition="close", old_state=i.state, new_state=step.target)
        for i in batch
    )
    return [i.pk for i in batch]


def _cleared_reply(incident: Incident) -> list[tuple[str, object, object]]:
    if incident.customer_replied_at is None:
        return []
    return [("customer_replied_at", incident.customer_replied_at, None)]


@transaction.atomic
def incident_cancel(*, incident: Incident, actor, reason: str = "") -> Incident:
    """Cancel before resolution: agents, or the customer on its own incident."""
    incident = transition(TRANSITIONS, incident, actor, "cancel")
    clocks.cancel(incident)
    escalation.halted(incident)
    if reason.strip():
        _note(incident, actor, IncidentNote.Kind.COMMENT, f"[Cancelled] {reason.strip()}")
    return incident


@transaction.atomic
def incident_escalate(*, incident: Incident, actor, reason: str = "") -> Incident:
    """Escalate by hand (incidents.manage): one level up, on to the escalation policy's next
    stage when there is one, the assignee and the group's leads told; ``[Escalated] <reason>``
    goes into the work journal."""
    incident = transition(TRANSITIONS, incident, actor, "escalate")
    escalation.escalate(incident, actor=actor, reason=reason.strip())
    if reason.strip():
        _note(incident, actor, IncidentNote.Kind.WORK_NOTE, f"[Escalated] {reason.strip()}")
    return incident


# --- Incident tasks: the shared task states and transitions (itsm.workflow) -----------------

TASK_LIFECYCLE = task_lifecycle(IncidentTask)
