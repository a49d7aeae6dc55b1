"""Each person reads (and marks read) only its own notifications."""

from __future__ import annotations

from itsm.policy.rules import ANY_STATE, OWN, Read, RecordRules, Role, Update, register

register(
    # Each person reads (and marks read) only its own notifications.
    RecordRules(
        label="notifications.notification",
        states=(),
        initial_state="",
        create=frozenset(),
        read=(Read(Role.PLATFORM_AGENT, scope=OWN, via=("recipient",)),),
        update=(Update(Role.PLATFORM_AGENT, fields={"read_at": ANY_STATE}),),
        delete=frozenset(),
    ),
)
