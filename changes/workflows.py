"""The change state machine (SPEC §5): draft → submitted → approved / rejected (→ rework →
draft) → in_progress → review → closed, and cancelled before the work starts.

This module is the only place that changes a change's ``state``. Each transition is one
function: atomic, on a locked row, checked against the policy and the table below, journaled.
Changes have no SLA clocks (SPEC sets none), so no transition here calls ``sla.clocks``.
"""

from __future__ import annotations

from changes.models import Change, ChangeState, ChangeTask
from itsm.workflow import Lifecycle, Transition, register, task_lifecycle

S = ChangeState

TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(frozenset({S.DRAFT}), S.SUBMITTED),
    "approve": Transition(frozenset({S.SUBMITTED}), S.APPROVED),
    "reject": Transition(frozenset({S.SUBMITTED}), S.REJECTED),
    "rework": Transition(frozenset({S.REJECTED}), S.DRAFT),
    "start": Transition(frozenset({S.APPROVED}), S.IN_PROGRESS),
    "complete": Transition(frozenset({S.IN_PROGRESS}), S.REVIEW),  # or closed: no PIR required
    "pir": Transition(frozenset({S.REVIEW}), S.CLOSED),
    "cancel": Transition(frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED, S.REJECTED}), S.CANCELLED),
    # Taken by the services only, never through a door (no policy action names them): a standard
    # change the governance policy lets through, and an incident's emergency change, are approved
    # as they are created; an approved change whose plan is edited goes back to the CAB.
    "auto-approve": Transition(frozenset({S.DRAFT}), S.APPROVED),
    "send-back": Transition(frozenset({S.APPROVED}), S.SUBMITTED),
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

TASK_LIFECYCLE = task_lifecycle(ChangeTask)
