"""Benchmark: the blocks of 90 days of an on-call schedule with 50 participants and 500 overrides.

    DJANGO_SETTINGS_MODULE=config.test_settings .venv/bin/python bench/oncall_blocks.py [--runs N]

It makes a throw-away test database (an in-memory SQLite database, or ``test_<name>`` on
PostgreSQL when ``DATABASE_URL`` points there), fills it, loads the schedule and its overrides
once, then times the computation in memory (``oncall.rotation.blocks``) over repeated runs and
prints the median and the 95th percentile — for a daily, a weekly and a 6-hour custom rotation.
For reference it also times the whole read (``oncall.selectors.schedule_blocks``: the queries
plus the computation). The target is well under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

PARTICIPANTS = 50
OVERRIDES = 500
RANGE = timedelta(days=90)
START = datetime(2026, 3, 1, tzinfo=UTC)
TARGET_MS = 100.0


def fill(rotation: str, **fields):
    from itsm.models import User, UserRole
    from itsm.roles import PERSONAS, Persona
    from oncall import services
    from oncall.models import Override, Schedule

    roles = PERSONAS[Persona.L1_AGENT]
    people = list(User.objects.filter(username__startswith="bench-").order_by("username"))
    if not people:
        people = User.objects.bulk_create(
            [User(username=f"bench-{n:02}", email=f"bench-{n:02}@example.com") for n in range(PARTICIPANTS)]
        )
        people = list(User.objects.filter(username__startswith="bench-").order_by("username"))
        UserRole.objects.bulk_create([UserRole(user=user, role=role) for user in people for role in roles])
    actor = people[0]
    schedule = services.schedule_create(
        actor=actor,
        data={
            "name": f"Bench {rotation}",
            "time_zone": "Europe/London",  # the range crosses the end of March: a 23-hour day
            "rotation": rotation,
            "start": START - timedelta(days=30),
            "participants": people,
            **fields,
        },
    )
    chance = random.Random(2026)
    overrides = []
    for _n in range(OVERRIDES):
        begins = START + timedelta(minutes=chance.randrange(0, int(RANGE.total_seconds() // 60)))
        length = timedelta(minutes=chance.randrange(30, 8 * 60))
        overrides.append(
            Override(
                schedule=schedule,
                user=chance.choice(people),
                start=begins,
                end=begins + length,
                created_by=actor,
            )
        )
    Override.objects.bulk_create(overrides)
    return Schedule.objects.get(pk=schedule.pk)


def timed(func, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        func()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=20, method="inclusive")[18]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs per case (default 200)")
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        from oncall import rotation, selectors

        end = START + RANGE
        print(
            f"On-call blocks over {RANGE.days} days, {PARTICIPANTS} participants, {OVERRIDES} overrides "
            f"({connection.vendor}, {args.runs} runs each)"
        )
        print(
            f"{'rotation':<12}{'blocks':>8}{'compute median':>17}{'p95':>10}{'with queries median':>22}{'p95':>10}"
        )
        worst = 0.0
        for kind, fields in (
            ("daily", {}),
            ("weekly", {"handoff_day": 0}),
            ("custom", {"custom_rotation_hours": 6}),
        ):
            schedule = fill(kind, **fields)
            spec = selectors.spec(schedule)  # loaded once: participants…
            spans = selectors.override_spans(schedule, START, end)  # …and overrides
            result = rotation.blocks(spec, spans, START, end)
            compute = summary(
                timed(lambda spec=spec, spans=spans: rotation.blocks(spec, spans, START, end), args.runs)
            )
            whole = summary(
                timed(
                    lambda schedule=schedule: selectors.schedule_blocks(
                        schedule=schedule, start=START, end=end
                    ),
                    max(args.runs // 4, 10),
                )
            )
            worst = max(worst, compute[1])
            print(
                f"{kind:<12}{len(result):>8}{compute[0]:>14.2f} ms{compute[1]:>7.2f} ms"
                f"{whole[0]:>19.2f} ms{whole[1]:>7.2f} ms"
            )
        verdict = "OK" if worst < TARGET_MS else "TOO SLOW"
        print(f"Worst p95 of the computation: {worst:.2f} ms (target < {TARGET_MS:.0f} ms): {verdict}")
        return 0 if worst < TARGET_MS else 1
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
