"""Withdrawing "needs you" notifications in batches (``itsm.services.tell_watchers_many``): the
set-based sweeps tell the watchers of thousands of records at once, and what is withdrawn is
what telling each record alone withdraws, in one query whatever the batch's size."""

import pytest

from incidents.models import Incident
from itsm.services import tell_watchers, tell_watchers_many
from notifications import services as notify
from notifications.models import Kind, Notification
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db


def needs_you_all(incident, people):
    """Each person has an unread "needs you" and an informational notification about it."""
    for person in people:
        notify.send([notify.Message(person, Kind.SLA_WARNING, incident, {"stage": 1, "policy": "P"})])
    Notification.objects.bulk_create(
        Notification(recipient=person, work=incident, kind=Kind.COMMENTED, subject="Commented", body="")
        for person in people
    )


def changes_for(n, agent, l1):
    """A mix of what sweeps and transitions change: reassigned, unassigned, finished, reopened,
    started (nothing to withdraw), a plain field."""
    mixes = [
        [("assignee", agent, l1)],
        [("assignee", agent, None)],
        [("assignment_group", None, None), ("assignee", l1, None)],
        [("state", "in_progress", "resolved")],
        [("state", "resolved", "in_progress")],
        [("state", "new", "in_progress")],
        [("priority", "P3", "P1")],
        [("assignee", None, agent), ("state", "in_progress", "closed")],
    ]
    return [mixes[i % len(mixes)] for i in range(n)]


def unread_by_position(incidents):
    """For each incident, in order, whose notifications of which kind are still unread."""
    return [
        sorted(Notification.objects.filter(work=i, read_at=None).values_list("recipient__username", "kind"))
        for i in incidents
    ]


def test_telling_a_batch_withdraws_what_telling_each_record_alone_withdraws(customer, agent, l1, lead):
    one_by_one = [make_incident(requester=customer, short_description=f"A{n}") for n in range(8)]
    batched = [make_incident(requester=customer, short_description=f"B{n}") for n in range(8)]
    for incident in [*one_by_one, *batched]:
        needs_you_all(incident, [agent, l1, lead])
    changes = changes_for(8, agent, l1)
    for incident, changed in zip(one_by_one, changes, strict=True):
        tell_watchers(incident, changed)
    tell_watchers_many(Incident, zip(batched, changes, strict=True))
    expected = unread_by_position(one_by_one)
    assert unread_by_position(batched) == expected
    told = [(p, Kind.COMMENTED) for p in ("agent", "l1", "lead")]  # informational: never withdrawn

    def left(*people):
        return sorted([*told, *((p, Kind.SLA_WARNING) for p in people)])

    assert expected[0] == left("l1")  # reassigned: only the new assignee is still needed
    assert expected[1] == left("l1", "lead")  # unassigned: only the former assignee's goes
    assert expected[3] == expected[4] == expected[7] == left()  # finished or reopened: all go
    assert expected[5] == expected[6] == left("agent", "l1", "lead")  # started, a plain field


def _batch_queries(customer, agent, l1, n, django_assert_max_num_queries) -> int:
    incidents = [make_incident(requester=customer, short_description=f"Disk {k}") for k in range(n)]
    for incident in incidents:
        needs_you_all(incident, [agent, l1])
    with django_assert_max_num_queries(1) as captured:
        tell_watchers_many(Incident, zip(incidents, changes_for(n, agent, l1), strict=True))
    assert (
        Notification.objects.filter(work__in=incidents, kind=Kind.SLA_WARNING, read_at=None).count() < 2 * n
    )
    return len(captured.captured_queries)


def test_telling_a_batch_of_50_costs_the_one_query_a_batch_of_5_does(
    customer, agent, l1, django_assert_max_num_queries
):
    assert _batch_queries(customer, agent, l1, 5, django_assert_max_num_queries) == 1
    assert _batch_queries(customer, agent, l1, 50, django_assert_max_num_queries) == 1


def test_a_batch_with_nothing_to_withdraw_costs_no_query(customer, agent, django_assert_num_queries):
    incident = make_incident(requester=customer)
    with django_assert_num_queries(0):
        tell_watchers_many(Incident, [(incident, [("priority", "P3", "P1")]), (incident, [])])
