"""Benchmark: problems at a million incidents — the problem queue's first page (API and desk),
the known error database search (p95 over several searches), auto-match for one incident and
linking 100 incidents to a problem (undone after each run).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bulk \\
        .venv/bin/python manage.py seed_bulk --incidents 1000000      # 20,000 problems, 1/3 known
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bulk \\
        .venv/bin/python bench/problems_at_scale.py [--runs 30]

Requests go through the whole Django stack in-process (test client, signed-in agent); each is
run ``--runs`` times after two warm-ups. The problem queue is ``GET /api/v1/problems/`` when
that endpoint exists, else the queryset it serves (policy-readable problems, newest first,
first page of 25). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import time

# isort: off
from timing import row, timed  # sets Django up, before any model is imported
# isort: on

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from incidents.models import Incident
from itsm import policy
from itsm.models import User
from problems.models import Problem

SEARCHES = ["printer", "vpn timeout", "disk", "database backup", "certificate error", "restart agent cache",
            "slow login", "printers jammed"]  # fmt: skip








def linking(client, runs: int) -> list[str]:
    """``link-incidents/`` with 100 unlinked incidents on a problem under investigation (the
    newest), each run undone by ``unlink-incidents/`` (timed too), so the dataset stays as seeded."""
    problem = Problem.objects.filter(state="investigating").order_by("-pk").first()
    ids = list(
        Incident.objects.filter(related_problems__isnull=True)
        .order_by("-pk")
        .values_list("pk", flat=True)[:100]
    )
    body = {"incidents": ids}

    def post(action):
        response = client.post(
            f"/api/v1/problems/{problem.pk}/{action}/", body, content_type="application/json"
        )
        assert response.status_code == 200, (response.status_code, response.content[:300])

    timings = {"link-incidents": ([], 0), "unlink-incidents": ([], 0)}
    for run in range(runs + 2):
        for action, (times, _) in timings.items():
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                post(action)
                elapsed = (time.perf_counter() - started) * 1000
            if run >= 2:  # two warm-ups
                times.append(elapsed)
                timings[action] = (times, len(ctx.captured_queries))
    return [
        row(
            f"Linking 100 incidents (`{problem.number}`, `link-incidents/`)", *timings["link-incidents"], 200
        ),
        row("Unlinking them again (`unlink-incidents/`)", *timings["unlink-incidents"], 200),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    o = parser.parse_args()
    agent = User.objects.filter(username__contains="-agent-").order_by("pk").first()
    client = Client()
    client.force_login(agent)

    def ok(response):
        assert response.status_code == 200, (response.status_code, response.content[:300])
        return response

    lines = [
        f"Dataset: {Incident.objects.count():,} incidents, {Problem.objects.count():,} problems, "
        f"{Problem.objects.filter(is_known_error=True).count():,} known errors.",
        "",
        "| What | median ms | p95 ms | target p95 | SQL queries |",
        "|---|---:|---:|---:|---:|",
    ]
    try:
        reverse("problem-list")
        times, queries = timed(lambda: ok(client.get("/api/v1/problems/")), o.runs)
        lines.append(row("API problem queue, first page (`/api/v1/problems/`)", times, queries, 50))
    except NoReverseMatch:
        agent_user = User.objects.get(pk=agent.pk)
        times, queries = timed(
            lambda: list(policy.readable(agent_user, Problem).order_by("-opened_at", "-pk")[:26]), o.runs
        )
        lines.append(
            row("Problem queue first page (queryset; no `/api/v1/problems/` yet)", times, queries, 50)
        )
    times, queries = timed(lambda: ok(client.get(reverse("desk:problem-list"))), o.runs)
    lines.append(row("Desk problem queue, first page (`/desk/problems/`)", times, queries, 50))
    every = []
    for text in SEARCHES:
        times, queries = timed(lambda t=text: ok(client.get("/api/v1/known-errors/", {"search": t})), o.runs)
        every += times
        lines.append(row(f"KEDB search `?search={text}`", times, queries, 50))
    lines.append(row("**KEDB search, all of the above**", every, queries, 50))
    linked = Incident.objects.filter(related_problems__is_known_error=True).order_by("-pk").first()
    times, queries = timed(
        lambda: ok(client.post(f"/api/v1/incidents/{linked.pk}/match-known-errors/")), o.runs
    )
    lines.append(row(f"Auto-match, incident with a host (`{linked.number}`)", times, queries, 100))
    plain = Incident.objects.filter(hosts__isnull=True).order_by("-pk").first()
    times, queries = timed(
        lambda: ok(client.post(f"/api/v1/incidents/{plain.pk}/match-known-errors/")), o.runs
    )
    lines.append(row(f"Auto-match, incident without hosts (`{plain.number}`)", times, queries, 100))
    lines += linking(client, o.runs)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
