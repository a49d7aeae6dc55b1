"""Who may manage escalation policies and their stages; agents read them."""

from __future__ import annotations

from itsm.policy.rules import managed_by, register

STAGE_FIELDS = (
    "policy", "order", "timeout_minutes", "requires_acknowledgment", "users", "assignment_group", "schedule",
)  # fmt: skip

register(
    # Escalation policies (SPEC §3): itsm_administrator manages them (itsm.configure).
    managed_by(
        "itsm.configure",
        "escalation.escalationpolicy",
        ("name", "description", "organisation", "is_default", "is_active"),
    ),
    managed_by("itsm.configure", "escalation.escalationstage", STAGE_FIELDS),
)
