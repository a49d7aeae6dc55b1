"""Background entry point of the escalation sweep (django-q2 schedule ``escalation.sweep`` and
``manage.py escalation_sweep``)."""

from __future__ import annotations

from escalation.services import sweep


def escalation_sweep() -> dict:
    result = sweep()
    return {"advanced": len(result["advanced"])}
