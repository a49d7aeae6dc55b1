"""The change calendar's questions (SPEC §5, issue 14): which freeze covers a window, which
changes clash with a change, and what the calendar shows between two dates. Each is a fixed few
queries, on the ``(start, end)`` and ``planned_start`` indexes.

Windows are half-open, ``[start, end)``: two spans overlap when each starts before the other
ends. A change planned with a start but no end occupies the instant of its start.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import IntegerField, Q, Value

from changes.models import Change, ChangeFreeze, ChangeState, ChangeType, MaintenanceWindow
from changes.risk import ChangeGroup, ChangeHost
from itsm import policy
from itsm.errors import InvalidInput
from itsm.models import Host

CALENDAR_MAX_DAYS = 366
# Changes that will not happen (any more) neither clash nor show on the calendar.
NOT_SCHEDULED = frozenset({ChangeState.CLOSED, ChangeState.CANCELLED, ChangeState.REJECTED})
FREEZE_EXEMPT = frozenset({ChangeType.EMERGENCY})


def _overlapping(start: datetime, end: datetime | None, *, lo: str = "start", hi: str = "end") -> Q:
    """Rows whose [lo, hi) meets [start, end) (or the instant ``start`` without an end)."""
    if end is None:
        return Q(**{f"{lo}__lte": start, f"{hi}__gt": start})
    return Q(**{f"{lo}__lt": end, f"{hi}__gt": start})


def freeze_covering(start: datetime | None, end: datetime | None) -> ChangeFreeze | None:
    """The earliest change freeze that overlaps the window (None: none does, or no start)."""
    if start is None:
        return None
    return ChangeFreeze.objects.filter(_overlapping(start, end)).order_by("start", "pk").first()


def check_freeze(*, change_type: str, start: datetime | None, end: datetime | None) -> None:
    """Refuse (400 naming ``planned_start``) a standard or normal change planned in a freeze."""
    if change_type in FREEZE_EXEMPT:
        return
    freeze = freeze_covering(start, end)
    if freeze is not None:
        span = f"{freeze.start:%Y-%m-%d %H:%M} to {freeze.end:%Y-%m-%d %H:%M} UTC"
        message = (
            f"The planned window falls in the change freeze '{freeze.name}' ({span}); only emergency "
            "changes may be planned in a freeze."
        )
        raise InvalidInput(message, fields={"planned_start": [message]})


def conflicts(change: Change) -> list[Change]:
    """Other changes still to happen (not closed, cancelled or rejected) whose planned window
    overlaps this one's and that share a host with it — each change's hosts being those it names
    and those of the host groups it names — or name one of the same host groups.

    Two queries (none without a planned start): the hosts the change touches with their groups
    and the groups it names, then the overlapping changes naming one of them. Put as one query with the host and group
    sets as subqueries, PostgreSQL hashes the whole host and link tables for every change page
    (45 ms at a million incidents); with the sets given as values it walks the indexes (a few ms).
    """
    if change.planned_start is None:
        return []
    named_groups = ChangeGroup.objects.filter(change_id=change.pk)
    touched = (
        Host.objects.filter(
            Q(pk__in=ChangeHost.objects.filter(change_id=change.pk).values("host_id"))
            | Q(host_group_id__in=named_groups.values("hostgroup_id"))
        )
        .order_by()
        .values_list("pk", "host_group_id")
        .union(
            named_groups.order_by().annotate(none=Value(None, IntegerField())).values_list("none", "hostgroup_id"),
            all=True,
        )
    )
    hosts, groups = set(), set()
    for host, group in touched:
        if host is not None:
            hosts.add(host)
        if group is not None:
            groups.add(group)
    if not hosts and not groups:
        return []
    sharing = Q(pk__in=ChangeHost.objects.filter(host_id__in=sorted(hosts)).values("change_id")) | Q(
        pk__in=ChangeGroup.objects.filter(hostgroup_id__in=sorted(groups)).values("change_id")
    )
    start, end = change.planned_start, change.planned_end
    overlapping = _overlapping(start, end, lo="planned_start", hi="planned_end") | Q(
        planned_end__isnull=True,
        **({"planned_start__gte": start, "planned_start__lt": end} if end else {"planned_start": start}),
    )
    return list(
        Change.objects.filter(overlapping)
        .exclude(pk=change.pk)
        .exclude(state__in=NOT_SCHEDULED)
        .filter(sharing)
        .order_by("planned_start", "pk")
    )


def _range(start, end) -> None:
    errors = {}
    if not isinstance(start, datetime):
        errors["start"] = ["Give the first instant the calendar shows (an ISO 8601 date-time)."]
    if not isinstance(end, datetime):
        errors["end"] = ["Give the instant the calendar ends (an ISO 8601 date-time)."]
    if errors:
        raise InvalidInput("Give the calendar's start and end.", fields=errors)
    if end <= start:
        raise InvalidInput("The end comes after the start.", fields={"end": ["The end comes after the start."]})
    if end - start > timedelta(days=CALENDAR_MAX_DAYS):
        days = (end - start).total_seconds() / 86400
        message = (
            f"The calendar shows at most {CALENDAR_MAX_DAYS} days; {start:%Y-%m-%d} to {end:%Y-%m-%d} "
            f"is {days:.0f} days."
        )
        raise InvalidInput(message, fields={"end": [message]})


COLOURS = {"change": "blue", "maintenance": "green", "freeze": "red"}
LABELS = {"change": "Change", "maintenance": "Maintenance window", "freeze": "Change freeze"}
PAGES = {
    "change": "desk:change-detail",
    "maintenance": "admin:changes_maintenancewindow_change",
    "freeze": "admin:changes_changefreeze_change",
}


def _entry(kind: str, pk: int, title: str, start, end, **more) -> dict:
    return {
        "kind": kind, "id": pk, "title": title, "start": start, "end": end,
        "colour": COLOURS[kind], "label": LABELS[kind], "url_name": PAGES[kind], **more,
    }  # fmt: skip


def calendar(start: datetime, end: datetime, *, user) -> list[dict]:
    """What the change calendar shows in [start, end) to ``user``: the planned windows of the
    changes it may read that are still to happen or done (not cancelled or rejected),
    maintenance windows and change freezes, ordered by start. Each entry: ``kind`` (change,
    maintenance, freeze), ``id``, ``title``, ``start``, ``end``, ``colour`` (blue, green, red),
    ``label`` (the words for the colour), ``url_name`` (the page, one argument: ``id``); a
    change also has ``number``, ``state``, ``change_type`` and ``risk_level``. At most 366 days
    (more: 400 naming ``end``). Three queries."""
    _range(start, end)
    entries = []
    changes = (
        policy.readable(user, Change)
        .filter(
            _overlapping(start, end, lo="planned_start", hi="planned_end")
            | Q(planned_end__isnull=True, planned_start__gte=start, planned_start__lt=end)
        )
        .exclude(state__in=(ChangeState.CANCELLED, ChangeState.REJECTED))
        .values("pk", "number", "short_description", "planned_start", "planned_end", "state", "change_type", "risk_level")
    )
    for row in changes:
        entries.append(
            _entry(
                "change", row["pk"], f"{row['number']} {row['short_description']}", row["planned_start"],
                row["planned_end"] or row["planned_start"], number=row["number"], state=row["state"],
                change_type=row["change_type"], risk_level=row["risk_level"],
            )
        )  # fmt: skip
    for kind, model in (("maintenance", MaintenanceWindow), ("freeze", ChangeFreeze)):
        rows = policy.readable(user, model).filter(_overlapping(start, end)).values("pk", "name", "start", "end")
        entries += [_entry(kind, r["pk"], r["name"], r["start"], r["end"]) for r in rows]
    entries.sort(key=lambda e: (e["start"], e["kind"], e["id"]))
    return entries
