"""The SLA badge a record's page shows: its SLA status now (and its next due time), for readers
the policy lets see it (the record's ``view_sla`` action, its ``sla_status`` and ``sla_due_at``
fields not hidden). One helper for every kind of work's page."""

from __future__ import annotations

from itsm import policy
from sla.clocks import live_status
from sla.models import SlaStatus

SLA_LABELS = dict(SlaStatus.choices)  # once: ``SlaStatus.values`` builds a list on every call


def sla_label(status: str) -> str:
    return str(SLA_LABELS.get(status, ""))


def sla_badge(user, record, hidden, at=None) -> dict | None:
    """``{"status", "label", "due_at"}`` for ``record`` as ``user`` may see it (``hidden``: the
    fields it may not read), or None when it may not see the SLA at all."""
    if "sla_status" in hidden or not policy.can(user, "view_sla", record):
        return None
    status = live_status(record, at)
    due = record.sla_due_at if "sla_due_at" not in hidden else None
    return {"status": status, "label": sla_label(status), "due_at": due}
