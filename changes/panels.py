"""What changes show on other domains' pages, through ``itsm.views.panels`` (incidents may not
import changes): on the incident page's overview, the changes raised for the incident or
linked to it, and the "Raise an emergency change" button for those who manage incidents.

Registered from ``ChangesConfig.ready()``.
"""

from __future__ import annotations

from changes.models import Change
from incidents.models import Incident, IncidentState
from itsm import policy
from itsm.prefetch import Probe, holds
from itsm.views import panels

INCIDENT_PANEL = "changes"
# The changes pointing at an incident: raised for it, or linked to it as required.
RAISED = Probe(Change, "incident")
LINKED = Probe(Incident.changes_required.through, "incident")
OPEN_INCIDENT = frozenset({IncidentState.NEW, IncidentState.IN_PROGRESS, IncidentState.ON_HOLD})
SHOWN = 10


def may_raise_emergency(user) -> bool:
    """An emergency change is raised from an incident by whoever manages incidents and may create
    changes (``changes.services.change_from_incident`` checks again, and that the incident is
    open)."""
    return policy.has_permission(user, "incidents.manage") and policy.can(user, "create", Change)


def incident_changes(request, incident) -> dict | None:
    """The incident's changes the user may read (raised for it, or linked as required), newest
    first, and whether the user may raise an emergency change from it: one query, none when the
    page found that no change points at the incident (``RAISED``, ``LINKED``)."""
    user = request.user
    if incident is None or not policy.can(user, "read", Change):
        return None
    if not (holds(incident, RAISED) or holds(incident, LINKED)):
        return _context(incident, user, [])
    # Two index lookups joined with UNION: "raised for it OR linked to it" across the link table
    # is one condition no index serves, and PostgreSQL read every change (20-100 ms at 100,000).
    readable = policy.readable(user, Change).only(
        "pk", "number", "short_description", "state", "change_type", "opened_at"
    )
    raised = readable.filter(incident=incident).order_by()
    linked = readable.filter(incidents=incident).order_by()
    return _context(incident, user, list(raised.union(linked).order_by("-opened_at", "-pk")[: SHOWN + 1]))


def _context(incident, user, rows: list) -> dict:
    return {
        "incident": incident,
        "changes": rows[:SHOWN],
        "more": len(rows) > SHOWN,
        "may_raise": incident.state in OPEN_INCIDENT and may_raise_emergency(user),
    }


def register() -> None:
    panels.register(
        panels.Panel(
            slot="desk:incident:side",
            name=INCIDENT_PANEL,
            template="changes/desk/_incident_panel.html",
            context=incident_changes,
            order=50,
            probes=(RAISED, LINKED),
        )
    )
