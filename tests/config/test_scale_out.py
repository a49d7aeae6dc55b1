"""Scale-out (``bench/scale_out.py``), bounded: two gunicorn web processes and two django-q2
clusters on one PostgreSQL with the Redis broker, a short mixed load while the sweeps run, and
the script's checks (no 5xx, no lost or doubled incident or comment, no sweep processing a clock
or stage twice, no e-mail sent twice, alert grouping exact) must all pass.

PostgreSQL only (the run makes its own database on the same server). Redis must answer: in CI
(``CI=true``) a missing Redis fails the test rather than skipping it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("SCALE_REDIS", "redis://127.0.0.1:6379")

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the scale-out run needs PostgreSQL (run with DATABASE_URL=postgres://…)",
)


def _redis_reachable() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except Exception as exc:  # any failure to answer
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.mark.postgres
@postgres_only
def test_two_web_processes_and_two_clusters_lose_nothing_double_nothing_and_answer_no_5xx(tmp_path):
    problem = _redis_reachable()
    if problem:
        message = f"Redis is not reachable at {REDIS} ({problem}); the scale-out run needs it as broker."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "") + "@" if s["USER"] else ""
    pg = f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    db = f"{s['NAME']}_scale"[:63]
    assert urlsplit(pg).hostname
    figures = tmp_path / "figures.json"
    result = subprocess.run(
        [
            sys.executable, str(ROOT / "bench" / "scale_out.py"),
            "--pg", pg, "--db", db, "--redis", REDIS, "--redis-db", "9", "--port", "8690",
            "--duration", "8", "--threads", "6", "--backlog", "20", "--poke", "2",
            "--json", str(figures),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
    assert "all checks passed" in result.stdout
    data = json.loads(figures.read_text())
    assert data["failed"] == []
    assert data["endpoints"]["create"]["requests"] > 0 and data["endpoints"]["event"]["requests"] > 0
    assert data["sweeps"]["sla_runs"] >= 2 and data["sweeps"]["escalation_runs"] >= 2


# --- The run's checks can fail ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_alert_checks_catch_an_alert_stored_twice_and_a_storm_split_in_two():
    """The scale-out run's alert checks, on alerts made by the service itself: they pass on
    what it makes, and fail on a doubled alert and on a storm rule spread over two incidents."""
    from bench import scale_out
    from conftest import make_user
    from incidents import alerts
    from incidents.models import Alert, Incident
    from itsm.roles import Role

    monitor = make_user("monitoring", Role.ITSM_AGENT)
    storm = scale_out.Storm(rules=2, hosts=4)
    for rule, host in [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 0)]:
        payload = {
            "source": scale_out.SOURCE, "rule": f"rule-{rule:03d}", "host": f"host-{rule:03d}-{host:03d}",
            "severity": "major", "message": "m", "fingerprint": f"rule-{rule:03d}:host-{rule:03d}-{host:03d}",
            "event_id": f"e{len(storm.sent)}",
        }  # fmt: skip
        result = alerts.event_ingest(actor=monitor, payload=payload)
        body = {"alert": result.alert.pk, "outcome": result.outcome, "duplicate": result.duplicate}
        storm.record(payload, 201, body, False)

    def run_checks():
        failed = []
        scale_out.alert_checks(storm, lambda ok, text: None if ok else failed.append(text), Alert, Incident)
        return failed

    assert run_checks() == []

    twin = Alert.objects.get(event_id="e5")
    twin.pk, twin.event_key = None, None
    twin.save()
    assert any("stored once" in text for text in run_checks())

    Alert.objects.filter(pk=twin.pk).delete()
    first = Alert.objects.get(event_id="e0")
    other = Alert.objects.get(event_id="e4").incident  # the repeating rule's incident
    Alert.objects.filter(pk=first.pk).update(incident=other)
    assert any("storm incident" in text for text in run_checks())
