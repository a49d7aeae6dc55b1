"""Who may do what to problems and problem tasks (SPEC §4)."""

from __future__ import annotations

from itsm.policy.rules import (
    ADMIN,
    AGENT,
    CLOSED_OR_CANCELLED,
    WORK_EDITABLE,
    Read,
    RecordRules,
    Update,
    register,
    task_rules,
)
from problems.models import ProblemState

register(
    RecordRules(
        label="problems.problem",
        states=tuple(ProblemState.values),
        initial_state="new",
        create=frozenset({AGENT}),
        read=(Read(AGENT),),
        update=(Update(ADMIN), Update(AGENT, unless_states=CLOSED_OR_CANCELLED)),
        delete=frozenset({ADMIN}),
        editable=WORK_EDITABLE + ("workaround",),
    ),
    task_rules("problems.problemtask"),
)
