"""Incidents for tests, made as the product makes them: through ``incidents.services``, so each
has its number, its SLA clocks and escalation stage, and its journal."""

from __future__ import annotations

from incidents import services
from incidents.models import Incident


def make_incident(
    *,
    requester,
    by=None,
    short_description: str = "Printer on fire",
    priority: str | None = None,
    assignee=None,
    assignment_group=None,
    assigned_by=None,
    **data,
) -> Incident:
    """Raised by ``requester``, or by ``by`` for the requester, writing ``data`` (refused as
    the service refuses it). ``priority`` is set as enrichment sets it, ahead of the SLA; an
    ``assignee`` or ``assignment_group`` is assigned by ``assigned_by`` (default: the assignee
    taking it)."""
    if by is not None and by.pk != requester.pk:
        data["requester"] = requester
    system = {"priority": priority} if priority else {}
    incident = services.incident_create(
        actor=by or requester, data={"short_description": short_description, **data}, **system
    )
    if assignee is not None or assignment_group is not None:
        incident = services.incident_assign(
            incident=incident,
            actor=assigned_by or assignee,
            assignee=assignee,
            assignment_group=assignment_group,
        )
    return incident


def make_incidents(count: int, *, requester, short_description: str = "Record", **fields) -> list[Incident]:
    """``count`` incidents, "<short_description> 1" to "<short_description> <count>"."""
    return [
        make_incident(requester=requester, short_description=f"{short_description} {n}", **fields)
        for n in range(1, count + 1)
    ]
