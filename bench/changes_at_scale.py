"""Benchmark: changes at a million incidents — the change queue's first page (API and desk), a
month and a week of the change calendar (API and desk), the conflicts of one change, and impact
analysis over the host-group dependency graph (2,000 groups, 10,000 edges by default).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bulk \\
        .venv/bin/python manage.py seed_bulk --incidents 1000000   # 100,000 changes, the graph
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bulk \\
        .venv/bin/python bench/changes_at_scale.py [--runs 30]

Requests go through the whole Django stack in-process (test client, signed-in agent); each is
run ``--runs`` times after two warm-ups. The impact analysis is timed twice: the analysis alone
(``changes.impact.analyse``) and the API call that computes and stores it (``POST …/impact/``,
which journals, so its runs add journal entries to that change). Not part of the test suite.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

# isort: off
from timing import ok, row, timed  # sets Django up, before any model is imported
# isort: on

from django.db.models import Count
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from changes import impact
from changes.models import Change, ChangeFreeze, MaintenanceWindow
from incidents.models import Incident
from itsm.models import HostGroup, HostGroupDependency, User


def widest_change() -> Change:
    """The change whose host group has the most groups depending on it (directly): the widest
    walk the data offers. Gives it that group if no change names one."""
    root = (
        HostGroupDependency.objects.values("depends_on")
        .annotate(n=Count("pk")).order_by("-n").values_list("depends_on", flat=True).first()
    )  # fmt: skip
    change = Change.objects.filter(host_groups=root).order_by("-pk").first()
    if change is None:
        change = Change.objects.exclude(state__in=("closed", "cancelled")).order_by("-pk").first()
        change.host_groups.add(root)
    return change


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    o = parser.parse_args()
    agent = User.objects.filter(username__contains="-agent-").order_by("pk").first()
    client = Client()
    client.force_login(agent)
    now = timezone.now()
    month = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0), None)
    month = (month[0], (month[0] + timedelta(days=32)).replace(day=1))
    lines = [
        f"Dataset: {Incident.objects.count():,} incidents, {Change.objects.count():,} changes "
        f"({Change.objects.exclude(state__in=('closed', 'cancelled', 'rejected')).count():,} open), "
        f"{MaintenanceWindow.objects.count():,} maintenance windows, {ChangeFreeze.objects.count():,} freezes, "
        f"{HostGroup.objects.count():,} host groups, {HostGroupDependency.objects.count():,} dependencies.",
        "",
        "| What | median ms | p95 ms | target p95 | SQL queries |",
        "|---|---:|---:|---:|---:|",
    ]
    times, queries = timed(lambda: ok(client.get("/api/v1/changes/")), o.runs)
    lines.append(row("API change queue, first page (`/api/v1/changes/`)", times, queries, 50))
    times, queries = timed(lambda: ok(client.get("/api/v1/changes/", {"state": "submitted"})), o.runs)
    lines.append(row("API change queue, awaiting the CAB (`?state=submitted`)", times, queries, 50))
    cab = Client()
    cab.force_login(User.objects.filter(username__contains="-agent-", role_grants__role="itsm_manager").first())
    for name, label, who in (
        ("desk:change-list", "Desk change queue, first page", client),
        ("desk:change-cab", "Desk CAB queue (a CAB member)", cab),
    ):
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        times, queries = timed(lambda u=url, c=who: ok(c.get(u)), o.runs)
        lines.append(row(f"{label} (`{url}`)", times, queries, 50))
    start, end = month[0].date().isoformat(), month[1].date().isoformat()
    times, queries = timed(lambda: ok(client.get("/api/v1/change-calendar/", {"start": start, "end": end})), o.runs)
    entries = len(client.get("/api/v1/change-calendar/", {"start": start, "end": end}).json()["results"])
    lines.append(row(f"API calendar, this month ({entries:,} entries)", times, queries, 100))
    try:
        url = reverse("desk:change-calendar")
        times, queries = timed(lambda: ok(client.get(url, {"view": "month", "date": start})), o.runs)
        lines.append(row(f"Desk calendar, month view (`{url}`)", times, queries, 100))
        times, queries = timed(lambda: ok(client.get(url, {"view": "week", "date": now.date().isoformat()})), o.runs)
        lines.append(row("Desk calendar, week view", times, queries, 100))
    except NoReverseMatch:
        pass
    change = widest_change()
    summary = impact.analyse(change)
    walk = f"{summary['group_count']:,} groups, {summary['host_count']:,} hosts reached"
    times, queries = timed(lambda: impact.analyse(change), o.runs)
    lines.append(row(f"Impact analysis alone (`{change.number}`: {walk})", times, queries, 200))
    times, queries = timed(
        lambda: ok(client.post(f"/api/v1/changes/{change.pk}/impact/", {}, content_type="application/json")), o.runs
    )
    lines.append(row("Impact analysis, computed and stored (`POST …/impact/`)", times, queries, 200))
    times, queries = timed(lambda: ok(client.get(f"/api/v1/changes/{change.pk}/")), o.runs)
    lines.append(row(f"API change page with conflicts (`/api/v1/changes/{change.pk}/`)", times, queries, 50))
    try:
        url = reverse("desk:change-detail", args=[change.pk])
        times, queries = timed(lambda: ok(client.get(url)), o.runs)
        lines.append(row(f"Desk change page (`{url}`)", times, queries, 50))
    except NoReverseMatch:
        pass
    print("\n".join(lines))


if __name__ == "__main__":
    main()
