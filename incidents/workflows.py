"""The incident state machine: new → in_progress → on_hold → resolved → closed, and cancelled.

This module is the only place that changes an incident's ``state``. Each transition is one
function: atomic, on a locked row, checked against the policy and the table below, journaled.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from incidents import notifications
from incidents.models import Incident, IncidentNote, IncidentState, IncidentTask, ResolutionCode, TaskState
from itsm.errors import InvalidInput
from itsm.workflow import Transition, transition

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
}
ACKNOWLEDGE_NEW = {**TRANSITIONS, "acknowledge": Transition(frozenset({S.NEW}), S.IN_PROGRESS)}


def _note(incident, actor, kind, body):
    IncidentNote.objects.create(incident=incident, kind=kind, author=actor, body=body)


@transaction.atomic
def incident_start(*, incident: Incident, actor) -> Incident:
    """An agent starts work on a new incident."""
    return transition(TRANSITIONS, incident, actor, "start")


@transaction.atomic
def incident_acknowledge(*, incident: Incident, actor, comment: str = "") -> Incident:
    """Take the incident: it is assigned to the acknowledging agent; a new one starts.
    Refused on resolved, closed and cancelled incidents."""
    table = ACKNOWLEDGE_NEW if incident.state == S.NEW else TRANSITIONS
    changes = {"assignee": actor}
    if incident.acknowledged_at is None:
        changes["acknowledged_at"] = timezone.now()
    incident = transition(table, incident, actor, "acknowledge", changes=changes)
    if comment:
        _note(incident, actor, IncidentNote.Kind.WORK_NOTE, comment)
    return incident


@transaction.atomic
def incident_hold(*, incident: Incident, actor, reason: str = "") -> Incident:
    incident = transition(TRANSITIONS, incident, actor, "hold")
    if reason:
        _note(incident, actor, IncidentNote.Kind.WORK_NOTE, f"[On hold] {reason}")
    return incident


@transaction.atomic
def incident_resume(*, incident: Incident, actor) -> Incident:
    return transition(TRANSITIONS, incident, actor, "resume")


@transaction.atomic
def incident_resolve(*, incident: Incident, actor, resolution_code: str, resolution_notes: str) -> Incident:
    """Resolve with a resolution code (SPEC §5) and notes saying what was done."""
    errors = {}
    if resolution_code not in ResolutionCode.values:
        errors["resolution_code"] = [f"Choose one of: {', '.join(ResolutionCode.values)}."]
    if not (resolution_notes or "").strip():
        errors["resolution_notes"] = ["Say what was done to resolve the incident."]
    if errors:
        raise InvalidInput("The incident cannot be resolved as asked.", fields=errors)
    incident = transition(
        TRANSITIONS, incident, actor, "resolve",
        changes={"resolution_code": resolution_code, "resolution_notes": resolution_notes.strip(),
                 "resolved_at": timezone.now()},
    )  # fmt: skip
    transaction.on_commit(lambda: notifications.incident_resolved(incident.pk))
    return incident


@transaction.atomic
def incident_reopen(*, incident: Incident, actor, notes: str = "") -> Incident:
    """Back to in progress (incidents.manage); ``[Reopened] <notes>`` goes into the work journal."""
    incident = transition(
        TRANSITIONS, incident, actor, "reopen", changes={"resolved_at": None, "resolution_code": ""}
    )
    if notes.strip():
        _note(incident, actor, IncidentNote.Kind.WORK_NOTE, f"[Reopened] {notes.strip()}")
    return incident


@transaction.atomic
def incident_close(*, incident: Incident, actor) -> Incident:
    """Close a resolved incident (by an agent, or by the auto-close sweep with ``actor=None``)."""
    return transition(TRANSITIONS, incident, actor, "close")


@transaction.atomic
def incident_cancel(*, incident: Incident, actor, reason: str = "") -> Incident:
    """Cancel before resolution: agents, or the customer on its own incident."""
    incident = transition(TRANSITIONS, incident, actor, "cancel")
    if reason.strip():
        _note(incident, actor, IncidentNote.Kind.COMMENT, f"[Cancelled] {reason.strip()}")
    return incident


# --- Incident tasks -------------------------------------------------------------------------

T = TaskState
TASK_TRANSITIONS: dict[str, Transition] = {
    "start": Transition(frozenset({T.OPEN}), T.IN_PROGRESS),
    "close": Transition(frozenset({T.OPEN, T.IN_PROGRESS}), T.CLOSED),
    "cancel": Transition(frozenset({T.OPEN, T.IN_PROGRESS}), T.CANCELLED),
}


@transaction.atomic
def task_transition(*, task: IncidentTask, actor, name: str) -> IncidentTask:
    """Start, close or cancel an incident task (agents may while the task is open)."""
    if name not in TASK_TRANSITIONS:
        raise InvalidInput(
            "Unknown action.", fields={"action": [f"Choose one of: {', '.join(TASK_TRANSITIONS)}."]}
        )
    return transition(TASK_TRANSITIONS, task, actor, name, policy_action="update")
