"""Who may do what to changes and change tasks (SPEC §4)."""

from __future__ import annotations

from changes.models import ChangeState
from itsm.policy.rules import (
    ADMIN,
    AGENT,
    CLOSED,
    WORK_EDITABLE,
    Gate,
    Read,
    RecordRules,
    Update,
    register,
    task_rules,
)

register(
    RecordRules(
        label="changes.change",
        states=tuple(ChangeState.values),
        initial_state="draft",
        create=frozenset({AGENT}),
        read=(Read(AGENT),),
        update=(
            Update(ADMIN),
            Update(
                AGENT,
                unless_states=CLOSED,
                gates={"change_type": Gate(frozenset({"draft", "submitted"}), unset=("cab_decision",))},
            ),
        ),
        delete=frozenset({ADMIN}),
        editable=WORK_EDITABLE + ("change_type",),
    ),
    task_rules("changes.changetask"),
)
