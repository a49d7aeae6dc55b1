"""What the domain benchmarks share: Django set up as they run it (``config.test_settings`` on the
``DATABASE_URL`` given), and the timing — each call run ``runs`` times after two warm-ups, the
SQL queries of the last run counted, a Markdown table row of median and p95 milliseconds.

Start-up is a deployment's (``config.wsgi``: every module loaded, then ``gc.freeze()``, so
the collector's full passes do not walk Django itself inside a timed request). Background tasks
(e-mail delivery) are queued, as in production, not run inside the timed
request. A benchmark script imports it first (``from timing import …``: the script's own folder is on
the path), before any model.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from django_q.conf import Conf  # noqa: E402

import config.wsgi  # noqa: E402,F401 — start-up as a deployment's: every module loaded, then gc.freeze()

# Tasks are queued as in production (the test settings run them inline, so a request that sends
# mail would be timed with the mail's delivery); nothing takes them from the queue here.
Conf.SYNC = False

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

HEADER = ["| What | median ms | p95 ms | target p95 | SQL queries |", "|---|---:|---:|---:|---:|"]


def p95(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(call, runs: int):
    for _ in range(2):
        call()
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        queries = len(ctx.captured_queries)
    return times, queries


def row(label, times, queries, target):
    """A table row; ``target`` is a number of milliseconds (written "≤ n") or a text."""
    bound = f"≤ {target}" if isinstance(target, int | float) else target
    return f"| {label} | {statistics.median(times):.1f} | {p95(times):.1f} | {bound} | {queries} |"


def ok(response, status: int = 200):
    assert response.status_code == status, (response.status_code, response.content[:300])
    return response
