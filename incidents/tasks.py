"""Background entry points (django-q2 and management commands): load, call the sweep, repeatable."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, IncidentState
from incidents.workflows import incidents_close_locked
from itsm.errors import InvalidInput

DEFAULT_STALE_HOURS = 48
BATCH = 500


def auto_close_eligible(stale_hours: int = DEFAULT_STALE_HOURS):
    """Resolved for ``stale_hours`` — unless the customer replied since: that incident waits for
    an agent to reopen or close it, so the customer's follow-up is never closed unread."""
    cutoff = timezone.now() - timedelta(hours=stale_hours)
    return Incident.objects.filter(
        state=IncidentState.RESOLVED, resolved_at__lte=cutoff, customer_replied_at__isnull=True
    )


def validate_stale_hours(stale_hours) -> int:
    if isinstance(stale_hours, bool) or not isinstance(stale_hours, int) or not 1 <= stale_hours <= 720:
        raise InvalidInput("Invalid window.", fields={"stale_hours": ["Give whole hours from 1 to 720."]})
    return stale_hours


def auto_close(stale_hours: int = DEFAULT_STALE_HOURS, dry_run: bool = False) -> dict:
    """Close incidents resolved for ``stale_hours`` with no reopen, as the system actor.

    Only eligible rows are read, in batches of locked rows skipping those another sweep holds,
    so two sweeps at once never close the same incident twice. ``dry_run`` changes nothing.
    """
    stale_hours = validate_stale_hours(stale_hours)
    eligible = auto_close_eligible(stale_hours).order_by("pk")
    if dry_run:
        return {
            "dry_run": True,
            "stale_hours": stale_hours,
            "eligible": list(eligible.values_list("pk", flat=True)),
        }
    # The eligible ids come from the resolved_at index (a handful per run in steady state);
    # each batch is then locked, skipping rows another sweep holds, and re-checked.
    pending = sorted(auto_close_eligible(stale_hours).order_by().values_list("pk", flat=True))
    closed: list[int] = []
    for first in range(0, len(pending), BATCH):
        with transaction.atomic():
            batch = list(
                auto_close_eligible(stale_hours)
                .filter(pk__in=pending[first : first + BATCH])
                .select_for_update(skip_locked=True, of=("self", "work_ptr"))
                .order_by("pk")
            )
            closed.extend(incidents_close_locked(batch))
    return {"dry_run": False, "stale_hours": stale_hours, "closed": closed}
