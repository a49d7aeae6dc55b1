"""The SLA sweep (issue #4 items 5 and 8): warnings at 75 % and breaches of clocks that fell due.

A warning tells the assignee (else the group's leads) once and makes the status at_risk. A
breach is recorded once, raises ``escalation_level`` by one, tells the assignee and the group's
leads, is in the audit journal, and makes the status breached. Paused clocks never breach. The
sweep reads only due rows; it runs as a django-q2 schedule and a management command; two sweeps
at once record nothing twice (PostgreSQL).
"""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.utils.module_loading import import_string
from django_q.models import Schedule

from conftest import make_user
from escalation import services as escalation
from escalation.models import EscalationPolicy, EscalationStage
from incidents import services, workflows
from incidents.models import Incident
from itsm.models import AuditEntry
from itsm.roles import PERSONAS, Persona
from notifications.models import Kind, Notification
from sla.models import ClockEvent, ClockState, SlaClock, SlaStatus
from sla.tasks import sla_sweep
from tests.incidents.factories import make_incident
from tests.sla.support import (
    MONDAY_9,
    clock,
    desk_fixture,  # noqa: F401 (the ``desk`` fixture)
    fresh,
    kinds,
    make_definition,
    now_fixture,  # noqa: F401 (the ``now`` fixture)
    standard_fixture,  # noqa: F401 (the ``standard`` fixture)
)

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


def assigned(customer, lead, agent, desk, **kwargs):
    incident = make_incident(requester=customer, **kwargs)
    return services.incident_assign(incident=incident, actor=lead, assignee=agent, assignment_group=desk)


def notes(kind, work=None, **filters):
    rows = Notification.objects.filter(kind=kind, **filters)
    if work is not None:
        rows = rows.filter(work_id=work.pk)
    return rows


def sweep(capture):
    """Run the sweep and deliver its e-mails (they are sent once the transaction commits)."""
    with capture(execute=True):
        return sla_sweep()


# --- Warnings ---------------------------------------------------------------------------------


def test_a_warning_at_75_percent_tells_the_assignee_once(
    customer, lead, agent, desk, standard, now, django_capture_on_commit_callbacks
):
    incident = assigned(customer, lead, agent, desk)
    now.advance(hours=2, minutes=59)
    assert sweep(django_capture_on_commit_callbacks) == {"warned": 0, "breached": 0}
    now.advance(minutes=1)
    assert sweep(django_capture_on_commit_callbacks) == {"warned": 1, "breached": 0}
    warning = notes(Kind.SLA_WARNING, incident).get()
    assert warning.recipient == agent
    assert incident.number in warning.subject and "response" in warning.subject
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert incident.number in mail.outbox[0].subject
    assert "75 %" in mail.outbox[0].body
    assert fresh(incident).sla_status == SlaStatus.AT_RISK
    response = clock(incident, "response")
    assert response.warned_at == MONDAY_9 + 3 * H
    assert kinds(response) == [ClockEvent.STARTED, ClockEvent.WARNED]
    # Once: the next run tells nobody again.
    now.advance(minutes=10)
    assert sweep(django_capture_on_commit_callbacks) == {"warned": 0, "breached": 0}
    assert notes(Kind.SLA_WARNING).count() == 1
    assert len(mail.outbox) == 1


def test_an_unassigned_incidents_warning_goes_to_the_groups_leads(
    customer, lead, agent, desk, standard, now, django_capture_on_commit_callbacks
):
    incident = make_incident(requester=customer)
    services.incident_assign(incident=incident, actor=lead, assignment_group=desk)
    now.advance(hours=3)
    sweep(django_capture_on_commit_callbacks)
    assert [n.recipient for n in notes(Kind.SLA_WARNING, incident)] == [lead]
    assert [m.to for m in mail.outbox] == [[lead.email]]


def test_a_clock_already_past_due_is_breached_without_a_warning_first(
    customer, lead, agent, desk, standard, now, django_capture_on_commit_callbacks
):
    incident = assigned(customer, lead, agent, desk)
    now.advance(hours=5)
    assert sweep(django_capture_on_commit_callbacks) == {"warned": 0, "breached": 1}
    assert not notes(Kind.SLA_WARNING).exists()
    assert kinds(clock(incident, "response")) == [ClockEvent.STARTED, ClockEvent.BREACHED]


# --- Breaches ---------------------------------------------------------------------------------


def test_a_breach_is_recorded_escalated_notified_and_journaled_once(
    customer, lead, agent, desk, standard, now, django_capture_on_commit_callbacks
):
    incident = assigned(customer, lead, agent, desk)
    now.advance(hours=4, minutes=1)
    assert sweep(django_capture_on_commit_callbacks)["breached"] == 1
    response = clock(incident, "response")
    assert response.breached_at == response.due_at == MONDAY_9 + 4 * H
    assert response.state == ClockState.RUNNING  # still waiting for a response
    incident = fresh(incident)
    assert incident.escalation_level == 1
    assert incident.sla_status == SlaStatus.BREACHED
    assert incident.sla_due_at == clock(incident).due_at  # the next due: the resolution clock
    assert {n.recipient for n in notes(Kind.SLA_BREACHED, incident)} == {agent, lead}
    assert sorted(m.to[0] for m in mail.outbox if "breached" in m.subject) == sorted(
        [agent.email, lead.email]
    )
    journal = AuditEntry.objects.filter(
        object_id=str(incident.pk), field__in=["sla_status", "escalation_level"]
    )
    assert sorted((e.field, e.new_value, e.actor_label) for e in journal) == [
        ("escalation_level", "1", "system"),
        ("sla_status", "breached", "system"),
    ]
    assert journal.get(field="escalation_level").old_value == "0"
    assert "response" in journal.get(field="sla_status").note

    # Running the sweep again records nothing twice.
    outbox = len(mail.outbox)
    assert sweep(django_capture_on_commit_callbacks)["breached"] == 0
    assert fresh(incident).escalation_level == 1
    assert notes(Kind.SLA_BREACHED).count() == 2
    assert len(mail.outbox) == outbox
    assert kinds(clock(incident, "response")).count(ClockEvent.BREACHED) == 1


def test_each_breach_raises_the_level_once(customer, lead, agent, desk, standard, now):
    incident = assigned(customer, lead, agent, desk)
    now.advance(hours=5)
    sla_sweep()
    now.advance(hours=20)
    sla_sweep()
    sla_sweep()
    incident = fresh(incident)
    assert incident.escalation_level == 2
    assert AuditEntry.objects.filter(object_id=str(incident.pk), field="sla_status").count() == 2


def test_a_paused_clock_is_never_breached(customer, agent, standard, now):
    incident = make_incident(requester=customer)
    now.advance(hours=1)
    workflows.incident_hold(incident=incident, actor=agent, reason="Waiting for the customer")
    now.advance(days=10)
    assert sla_sweep() == {"warned": 0, "breached": 0}
    incident = fresh(incident)
    assert incident.sla_status == SlaStatus.PAUSED
    assert incident.escalation_level == 0
    assert not SlaClock.objects.filter(work_id=incident.pk, breached_at__isnull=False).exists()


def test_stopped_and_cancelled_clocks_are_never_breached(customer, agent, standard, now):
    done = make_incident(requester=customer, short_description="done")
    dropped = make_incident(requester=customer, short_description="dropped")
    workflows.incident_resolve(incident=done, actor=agent, resolution_code="resolved", resolution_notes="ok")
    workflows.incident_cancel(incident=dropped, actor=customer)
    now.advance(days=5)
    assert sla_sweep() == {"warned": 0, "breached": 0}


def test_an_incident_without_assignee_or_group_still_breaches(customer, standard, now):
    incident = make_incident(requester=customer)
    now.advance(hours=5)
    assert sla_sweep()["breached"] == 1
    assert fresh(incident).escalation_level == 1
    assert not notes(Kind.SLA_BREACHED).exists()


def test_a_sweep_over_many_batches_breaches_all(customer, standard, now, monkeypatch):
    import sla.tasks

    monkeypatch.setattr(sla.tasks, "BATCH", 2)
    incidents = [make_incident(requester=customer, short_description=f"i{n}") for n in range(5)]
    now.advance(hours=3)
    assert sla_sweep() == {"warned": 5, "breached": 0}
    now.advance(hours=2)
    assert sla_sweep() == {"warned": 0, "breached": 5}
    assert {fresh(i).escalation_level for i in incidents} == {1}


# --- Only due rows ------------------------------------------------------------------------------


def test_a_sweep_with_nothing_due_reads_a_constant_number_of_rows(
    customer, standard, now, django_assert_max_num_queries
):
    for n in range(40):
        make_incident(requester=customer, short_description=f"open {n}")
    now.advance(minutes=30)
    # Per pass (warnings, breaches): a savepoint, one query for the due page, its release.
    with django_assert_max_num_queries(6):
        assert sla_sweep() == {"warned": 0, "breached": 0}


def test_a_sweeps_queries_do_not_grow_with_the_number_of_due_clocks(customer, standard, now):
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    def queries_for(count, offset):
        for n in range(count):
            make_incident(requester=customer, short_description=f"due {offset + n}")
        now.advance(hours=5)
        with CaptureQueriesContext(conn) as captured:
            assert sla_sweep()["breached"] == count
        return len(captured)

    assert queries_for(2, 0) == queries_for(12, 100)


# --- Commands and schedules ------------------------------------------------------------------------


def test_management_command_sla_sweep_runs(customer, standard, now):
    incident = make_incident(requester=customer)
    now.advance(hours=5)
    out = StringIO()
    call_command("sla_sweep", stdout=out)
    assert "0 clock(s) at risk, 1 breached." in out.getvalue()
    assert fresh(incident).sla_status == SlaStatus.BREACHED


def test_management_command_escalation_sweep_runs(customer, now):
    policy = EscalationPolicy.objects.create(name="Default", is_default=True)
    EscalationStage.objects.create(policy=policy, order=1, timeout_minutes=10)
    EscalationStage.objects.create(policy=policy, order=2, timeout_minutes=10)
    incident = make_incident(requester=customer)
    now.advance(minutes=11)
    out = StringIO()
    call_command("escalation_sweep", stdout=out)
    assert "1 incident(s) moved to their next escalation stage." in out.getvalue()
    assert fresh(incident).escalation_stage == 2


def test_management_command_auto_close_incidents_runs(customer, agent, now):
    incident = make_incident(requester=customer)
    workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes="ok"
    )
    now.advance(hours=49)
    out = StringIO()
    call_command("auto_close_incidents", stdout=out)
    assert "Closed 1 incident(s)." in out.getvalue()
    assert fresh(incident).state == "closed"


@pytest.mark.parametrize(
    ("name", "func"),
    [
        ("sla.sweep", "sla.tasks.sla_sweep"),
        ("escalation.sweep", "escalation.tasks.escalation_sweep"),
        ("incidents.auto_close", "incidents.tasks.auto_close"),
    ],
)
def test_the_sweep_schedules_exist_after_migrate(name, func):
    schedule = Schedule.objects.get(name=name)
    assert schedule.func == func
    assert schedule.repeats == -1
    assert callable(import_string(schedule.func))


@pytest.mark.parametrize("name", ["sla.sweep", "escalation.sweep"])
def test_the_scheduled_sweeps_run_every_minute_with_their_defaults(name, customer, standard, now):
    schedule = Schedule.objects.get(name=name)
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)
    policy = EscalationPolicy.objects.create(name="Default", is_default=True)
    for order in (1, 2):
        EscalationStage.objects.create(policy=policy, order=order, timeout_minutes=10)
    incident = make_incident(requester=customer)
    now.advance(hours=5)
    result = import_string(schedule.func)()
    if name == "sla.sweep":
        assert result == {"warned": 0, "breached": 1}
    else:
        assert result == {"advanced": 1}
        assert fresh(incident).escalation_stage == 2


# --- Two sweeps at once (PostgreSQL) ------------------------------------------------------------------

postgres_only = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="two sweeps at once need PostgreSQL row locks (SKIP LOCKED); SQLite allows one writer "
        "at a time (run with DATABASE_URL=postgres://…)",
    ),
    pytest.mark.django_db(transaction=True),
]


def _twice(target):
    """Run ``target`` in two threads at once; return their results."""
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=30)
            results.append(target())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    return results


def _apply(marks):
    def decorate(func):
        for mark in reversed(marks):
            func = mark(func)
        return func

    return decorate


@_apply(postgres_only)
def test_two_sla_sweeps_at_once_record_each_breach_once(now, monkeypatch):
    import sla.tasks

    monkeypatch.setattr(sla.tasks, "BATCH", 7)  # many batches, so the sweeps interleave
    make_definition("Standard", is_default=True)
    customer = make_user("customer", *PERSONAS[Persona.EVERYONE])
    incidents = [make_incident(requester=customer, short_description=f"i{n}") for n in range(60)]
    at = now.advance(hours=4, minutes=30)  # the response clocks (4 h) are due, not the resolution ones
    results = _twice(lambda: sla_sweep(now=at))
    results.append(sla_sweep(now=at))  # anything a transaction of the other sweep held
    assert sum(r["breached"] for r in results) == len(incidents)
    for incident in incidents:
        incident = fresh(incident)
        assert incident.escalation_level == 1
        response = clock(incident, "response")
        assert kinds(response).count(ClockEvent.BREACHED) == 1
        assert AuditEntry.objects.filter(object_id=str(incident.pk), field="sla_status").count() == 1


@_apply(postgres_only)
def test_two_escalation_sweeps_at_once_advance_each_incident_one_stage(now, monkeypatch):
    monkeypatch.setattr(escalation, "BATCH", 7)
    policy = EscalationPolicy.objects.create(name="Default", is_default=True)
    for order in (1, 2, 3):
        EscalationStage.objects.create(policy=policy, order=order, timeout_minutes=10)
    customer = make_user("customer", *PERSONAS[Persona.EVERYONE])
    incidents = [make_incident(requester=customer, short_description=f"i{n}") for n in range(60)]
    at = now.advance(minutes=11)
    results = _twice(lambda: escalation.sweep(now=at))
    advanced = [pk for r in results for pk in r["advanced"]]
    assert sorted(advanced) == sorted(i.pk for i in incidents), "an incident advanced twice or not at all"
    assert set(Incident.objects.filter(pk__in=advanced).values_list("escalation_stage", flat=True)) == {2}
    for incident in incidents:
        journal = AuditEntry.objects.filter(object_id=str(incident.pk), field="escalation_stage")
        assert [e.new_value for e in journal.order_by("at", "id")] == ["1", "2"]
