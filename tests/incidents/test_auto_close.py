"""Auto-close (SPEC §5, §6): incidents resolved for ``stale_hours`` (default 48, 1–720) become
closed by the system actor; dry_run changes nothing; the sweep touches only eligible rows, is
safe to run twice or concurrently, and runs from the API, a management command and a django-q2
schedule."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone
from django_q.models import Schedule

from incidents import services, workflows
from incidents.models import Incident
from incidents.tasks import auto_close
from itsm.errors import InvalidInput, NotAllowed
from itsm.models import AuditEntry
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/auto-close/"


def _resolved(customer, agent, hours_ago: float, text="Resolved") -> Incident:
    """An incident resolved ``hours_ago`` (the resolution time is moved back after the fact)."""
    incident = workflows.incident_resolve(
        incident=make_incident(requester=customer, short_description=text),
        actor=agent,
        resolution_code="resolved",
        resolution_notes="Done.",
    )
    Incident.objects.filter(pk=incident.pk).update(resolved_at=timezone.now() - timedelta(hours=hours_ago))
    incident.refresh_from_db()
    return incident


def _state(incident) -> str:
    incident.refresh_from_db()
    return incident.state


def _closes(incident):
    return AuditEntry.objects.filter(object_id=str(incident.pk), action="transition", transition="close")


@pytest.fixture
def mix(customer, agent):
    """Stale (49 h), fresh (47 h), open, closed-by-hand and reopened incidents."""
    stale = _resolved(customer, agent, 49, "stale")
    fresh = _resolved(customer, agent, 47, "fresh")
    open_ = make_incident(requester=customer, short_description="open")
    closed = workflows.incident_close(incident=_resolved(customer, agent, 100, "closed"), actor=agent)
    reopened = workflows.incident_reopen(incident=_resolved(customer, agent, 100, "reopened"), actor=agent)
    return {"stale": stale, "fresh": fresh, "open": open_, "closed": closed, "reopened": reopened}


def _snapshot(incidents):
    return {
        name: Incident.objects.values("state", "version", "closed_at").get(pk=i.pk)
        for name, i in incidents.items()
    }


def test_incidents_resolved_for_48_hours_by_default_become_closed(mix):
    result = auto_close()
    assert result == {"dry_run": False, "stale_hours": 48, "closed": [mix["stale"].pk]}
    assert _state(mix["stale"]) == "closed"
    assert mix["stale"].closed_at is not None
    assert _state(mix["fresh"]) == "resolved"


def test_only_eligible_rows_are_touched(mix):
    before = _snapshot({k: v for k, v in mix.items() if k != "stale"})
    journal = AuditEntry.objects.exclude(object_id=str(mix["stale"].pk)).count()
    auto_close()
    assert _snapshot({k: v for k, v in mix.items() if k != "stale"}) == before
    assert AuditEntry.objects.exclude(object_id=str(mix["stale"].pk)).count() == journal


def test_every_auto_close_is_audited_with_the_system_actor(mix):
    auto_close()
    entry = _closes(mix["stale"]).get()
    assert (entry.actor, entry.actor_label, entry.transition) == (None, "system", "close")
    assert (entry.old_value, entry.new_value) == ("resolved", "closed")


def test_a_shorter_window_closes_more(mix):
    result = auto_close(stale_hours=24)
    assert sorted(result["closed"]) == sorted([mix["stale"].pk, mix["fresh"].pk])


def test_dry_run_returns_the_eligible_ids_and_changes_nothing(mix):
    before = _snapshot(mix)
    journal = AuditEntry.objects.count()
    result = auto_close(stale_hours=48, dry_run=True)
    assert result == {"dry_run": True, "stale_hours": 48, "eligible": [mix["stale"].pk]}
    assert _snapshot(mix) == before
    assert AuditEntry.objects.count() == journal


def test_running_twice_is_harmless(mix):
    first = auto_close()
    snapshot = _snapshot(mix)
    journal = AuditEntry.objects.count()
    second = auto_close()
    assert first["closed"] == [mix["stale"].pk]
    assert second["closed"] == []
    assert _snapshot(mix) == snapshot
    assert AuditEntry.objects.count() == journal
    assert _closes(mix["stale"]).count() == 1


@pytest.mark.parametrize("stale_hours", [0, 721, -1, "48", 2.5, True, None])
def test_stale_hours_outside_1_to_720_is_refused_naming_stale_hours(stale_hours, mix):
    with pytest.raises(InvalidInput) as exc:
        auto_close(stale_hours=stale_hours)
    assert "stale_hours" in exc.value.fields
    assert _state(mix["stale"]) == "resolved"


@pytest.mark.parametrize("stale_hours", [1, 720])
def test_stale_hours_bounds_1_and_720_are_accepted(stale_hours, customer, agent):
    old = _resolved(customer, agent, 721)
    assert auto_close(stale_hours=stale_hours)["closed"] == [old.pk]


def test_a_sweep_over_many_batches_closes_all(customer, agent, monkeypatch):
    import incidents.tasks

    monkeypatch.setattr(incidents.tasks, "BATCH", 2)
    stale = [_resolved(customer, agent, 50, f"s{i}") for i in range(5)]
    assert auto_close()["closed"] == [i.pk for i in stale]
    assert {_state(i) for i in stale} == {"closed"}


# --- API --------------------------------------------------------------------------------------------


def test_agent_runs_auto_close_through_the_api(mix, agent, api):
    r = api.as_user(agent).post(URL, {}, format="json")
    assert r.status_code == 200, r.content
    assert r.json() == {"dry_run": False, "stale_hours": 48, "closed": [mix["stale"].pk]}
    assert _state(mix["stale"]) == "closed"
    assert _closes(mix["stale"]).get().actor_label == "system"


def test_api_dry_run_changes_nothing(mix, agent, api):
    before = _snapshot(mix)
    r = api.as_user(agent).post(URL, {"stale_hours": 24, "dry_run": True}, format="json")
    assert r.status_code == 200, r.content
    assert sorted(r.json()["eligible"]) == sorted([mix["stale"].pk, mix["fresh"].pk])
    assert _snapshot(mix) == before


@pytest.mark.parametrize("stale_hours", [0, 721, "soon"])
def test_api_stale_hours_outside_1_to_720_is_400_naming_stale_hours(stale_hours, mix, agent, api):
    r = api.as_user(agent).post(URL, {"stale_hours": stale_hours}, format="json")
    assert r.status_code == 400, r.content
    assert "stale_hours" in r.json()
    assert _state(mix["stale"]) == "resolved"


def test_customer_cannot_run_auto_close(mix, customer, api):
    r = api.as_user(customer).post(URL, {"dry_run": True}, format="json")
    assert r.status_code == 403, r.content
    assert str(mix["stale"].pk) not in r.content.decode()
    assert _state(mix["stale"]) == "resolved"
    with pytest.raises(NotAllowed):
        services.auto_close_run(actor=customer, stale_hours=48, dry_run=False)
    assert _state(mix["stale"]) == "resolved"


# --- Management command and schedule -------------------------------------------------------------


def test_management_command_closes_stale_incidents(mix):
    out = StringIO()
    call_command("auto_close_incidents", "--stale-hours", "48", stdout=out)
    assert "Closed 1 incident(s)." in out.getvalue()
    assert _state(mix["stale"]) == "closed"
    assert _closes(mix["stale"]).get().actor_label == "system"


def test_management_command_dry_run_lists_and_changes_nothing(mix):
    before = _snapshot(mix)
    out = StringIO()
    call_command("auto_close_incidents", "--stale-hours", "24", "--dry-run", stdout=out)
    assert "2 incident(s) would be closed" in out.getvalue()
    assert str(mix["stale"].pk) in out.getvalue()
    assert _snapshot(mix) == before


@pytest.mark.parametrize("hours", ["0", "721"])
def test_management_command_refuses_stale_hours_outside_1_to_720(hours, mix):
    with pytest.raises(CommandError, match="stale-hours"):
        call_command("auto_close_incidents", "--stale-hours", hours, stdout=StringIO())
    assert _state(mix["stale"]) == "resolved"


def test_an_auto_close_schedule_exists_after_migrations():
    schedule = Schedule.objects.get(name="incidents.auto_close")
    assert schedule.func == "incidents.tasks.auto_close"
    assert schedule.repeats == -1


def test_the_scheduled_function_runs_with_its_defaults(mix):
    from django.utils.module_loading import import_string

    schedule = Schedule.objects.get(name="incidents.auto_close")
    result = import_string(schedule.func)()
    assert result["closed"] == [mix["stale"].pk]


# --- Concurrency (PostgreSQL) -------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two sweeps at once need PostgreSQL row locks (SKIP LOCKED); SQLite allows one writer "
    "at a time (run with DATABASE_URL=postgres://…)",
)
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_close_each_incident_exactly_once(customer, agent, monkeypatch):
    import incidents.tasks

    monkeypatch.setattr(incidents.tasks, "BATCH", 7)  # many batches, so the sweeps interleave
    stale = [_resolved(customer, agent, 50, f"s{i}") for i in range(60)]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def sweep():
        try:
            barrier.wait(timeout=30)
            results.append(auto_close())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    closed = [pk for result in results for pk in result["closed"]]
    assert sorted(closed) == sorted(i.pk for i in stale), "an incident was closed twice or not at all"
    for incident in stale:
        assert _state(incident) == "closed"
        assert _closes(incident).count() == 1
