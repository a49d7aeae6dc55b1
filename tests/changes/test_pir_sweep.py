"""The PIR-overdue sweep (issue 14 item 8): a change whose post-implementation review is past
due and not recorded is told of once — its assignee, else its group's leads — by a django-q2
schedule; running it twice, or two at once, tells nobody twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection, connections
from django.utils import timezone
from django_q.models import Schedule

from changes import services, tasks, workflows
from changes.models import Change
from conftest import make_user
from incidents import services as incident_services
from itsm.models import AssignmentGroup, AuditEntry, GroupMembership
from notifications.models import Notification
from tests.changes.factories import in_progress_change, make_template

pytestmark = pytest.mark.django_db


def _emergency(agent, *, due_hours_ago: float = 1, **assign):
    incident = incident_services.incident_create(actor=agent, data={"short_description": "Outage"})
    change = services.change_from_incident(incident=incident, actor=agent, data={})
    if assign:
        change = services.change_assign(change=change, actor=agent, **assign)
    # 72 hours have passed (and then some): the review is due.
    Change.objects.filter(pk=change.pk).update(pir_due_at=timezone.now() - timedelta(hours=due_hours_ago))
    return Change.objects.get(pk=change.pk)


def _told() -> list[tuple[str, int]]:
    return sorted(Notification.objects.filter(kind="pir_overdue").values_list("recipient__username", "work_id"))


def test_the_assignee_is_told_once_of_an_overdue_pir(agent, l1):
    change = _emergency(agent, assignee=l1)
    assert tasks.pir_overdue_sweep() == 1
    assert _told() == [("l1", change.pk)]
    note = Notification.objects.get(kind="pir_overdue")
    assert note.subject == f"The PIR of change {change.number} is overdue"
    assert Change.objects.get(pk=change.pk).pir_overdue_notified_at is not None
    assert AuditEntry.objects.filter(object_id=str(change.pk), field="pir_overdue_notified_at").exists()
    assert tasks.pir_overdue_sweep() == 0
    assert _told() == [("l1", change.pk)]


def test_without_an_assignee_the_groups_leads_are_told(agent, l1):
    group = AssignmentGroup.objects.create(name="Change team")
    boss = make_user("boss", "itsm_agent")
    GroupMembership.objects.create(group=group, user=boss, role=GroupMembership.Role.LEAD)
    GroupMembership.objects.create(group=group, user=l1)
    change = _emergency(agent, assignment_group=group)
    assert change.assignee_id is None
    tasks.pir_overdue_sweep()
    assert _told() == [("boss", change.pk)]


def test_a_review_completed_change_is_told_of_too(agent, lead):
    template = make_template(required_gates=[], optional_gates=[], pir_required=True)
    change = in_progress_change(by=agent, approver=lead, governance_template=template)
    change = services.change_assign(change=change, actor=agent, assignee=agent)
    change = workflows.change_complete(change=change, actor=agent)
    assert change.state == "review"
    Change.objects.filter(pk=change.pk).update(pir_due_at=timezone.now() - timedelta(minutes=1))
    assert tasks.pir_overdue_sweep() == 1
    assert _told() == [("agent", change.pk)]


def test_a_pir_not_yet_due_recorded_or_on_a_finished_change_is_not_told(agent, l1):
    not_due = _emergency(agent, due_hours_ago=-1, assignee=l1)
    recorded = _emergency(agent, assignee=l1)
    recorded = workflows.change_complete(change=workflows.change_start(change=recorded, actor=agent), actor=agent)
    workflows.change_record_pir(change=recorded, actor=agent, pir_outcome="successful", pir_lessons="Fine.")
    cancelled = workflows.change_cancel(change=_emergency(agent, assignee=l1), actor=agent)
    assert cancelled.state == "cancelled" and not_due.pir_due_at > timezone.now()
    assert tasks.pir_overdue_sweep() == 0
    assert _told() == []


def test_the_sweep_runs_in_batches(agent, l1):
    changes = [_emergency(agent, assignee=l1) for _ in range(5)]
    assert tasks.pir_overdue_sweep(batch=2) == 5
    assert [pk for _, pk in _told()] == sorted(c.pk for c in changes)


def test_the_sweep_is_a_fixed_number_of_queries_per_batch(agent, l1, django_assert_max_num_queries):
    for _ in range(3):
        _emergency(agent, assignee=l1)
    with django_assert_max_num_queries(14) as few:
        tasks.pir_overdue_sweep()
    small = len(few.captured_queries)
    Change.objects.update(pir_overdue_notified_at=None)
    Notification.objects.all().delete()
    for _ in range(12):
        _emergency(agent, assignee=l1)
    with django_assert_max_num_queries(small) as many:
        assert tasks.pir_overdue_sweep() == 15
    assert len(many.captured_queries) <= small


def test_the_sweep_is_scheduled_every_fifteen_minutes():
    schedule = Schedule.objects.get(name="changes.pir_overdue")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "changes.tasks.pir_overdue_sweep", Schedule.MINUTES, 15
    )


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent sweeps need PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_tell_each_person_once(agent, l1):
    changes = [_emergency(agent, assignee=l1) for _ in range(40)]
    start = threading.Barrier(2)
    counts, errors = [], []

    def sweep():
        close_old_connections()
        try:
            start.wait(timeout=30)
            counts.append(tasks.pir_overdue_sweep(batch=5))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(counts) == len(changes)
    assert len(_told()) == len(changes)
