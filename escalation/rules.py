"""Who may manage escalation policies and their stages (itsm.configure); agents read them."""

from __future__ import annotations

from itsm.policy.rules import AGENT, PERMISSIONS, Read, RecordRules, Update, register

register(
    # Escalation policies (SPEC §3): itsm_administrator manages them (itsm.configure);
    # agents read them to explain escalations.
    *(
        RecordRules(
            label=label,
            states=(),
            initial_state="",
            create=PERMISSIONS["itsm.configure"],
            read=(Read(AGENT),),
            update=tuple(Update(role) for role in sorted(PERMISSIONS["itsm.configure"])),
            delete=PERMISSIONS["itsm.configure"],
            editable=editable,
        )
        for label, editable in (
            (
                "escalation.escalationpolicy",
                ("name", "description", "organisation", "is_default", "is_active"),
            ),
            (
                "escalation.escalationstage",
                (
                    "policy",
                    "order",
                    "timeout_minutes",
                    "requires_acknowledgment",
                    "users",
                    "assignment_group",
                    "schedule",
                ),
            ),
        )
    ),
)
