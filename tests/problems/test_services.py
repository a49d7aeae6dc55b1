"""Problem services: create (also from an incident), edit, assign, link incidents with exact
counters, notes (issue 13)."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection, connections

from incidents.models import Incident
from itsm.errors import InvalidInput, NotAllowed, NotFound
from itsm.models import AssignmentGroup, AuditEntry, GroupMembership, Host
from problems import services
from problems.models import Problem
from tests.incidents.factories import make_incident, make_incidents
from tests.problems.factories import make_problem

pytestmark = pytest.mark.django_db


def _hosts(*names):
    return [Host.objects.create(hostname=name) for name in names]


def test_priority_comes_from_impact_and_urgency(agent):
    assert make_problem(by=agent, impact=1, urgency=1).priority == "P1"
    problem = make_problem(by=agent)
    assert problem.priority == "P4"
    problem = services.problem_update(problem=problem, actor=agent, data={"impact": 1, "urgency": 2})
    assert problem.priority == "P2"


def test_problem_from_an_incident_is_linked_and_prefilled(agent, customer):
    incident = make_incident(requester=customer, short_description="Mail is down", description="Since 9:00")
    incident.hosts.add(*_hosts("mx1", "mx2"))
    problem = services.problem_create(actor=agent, data={}, incident=incident)
    assert problem.short_description == "Mail is down" and problem.symptoms == "Since 9:00"
    assert list(problem.incidents.all()) == [incident]
    assert (problem.incident_count, problem.affected_host_count) == (1, 2)
    assert problem.hosts.count() == 2


def test_self_service_user_cannot_raise_a_problem(customer):
    with pytest.raises(NotAllowed):
        make_problem(by=customer)


def test_only_problem_managers_can_be_assigned(agent, customer):
    problem = make_problem(by=agent)
    with pytest.raises(InvalidInput) as refused:
        services.problem_assign(problem=problem, actor=agent, assignee=customer)
    assert "assignee" in refused.value.fields
    with pytest.raises(InvalidInput):
        services.problem_update(problem=problem, actor=agent, data={"assignee": customer})


def test_assign_to_a_user_a_group_both_or_nobody(agent, l1):
    group = AssignmentGroup.objects.create(name="Storage")
    GroupMembership.objects.create(group=group, user=l1)
    problem = make_problem(by=agent)
    problem = services.problem_assign(problem=problem, actor=agent, assignee=l1, assignment_group=group)
    assert (problem.assignee, problem.assignment_group) == (l1, group)
    with pytest.raises(InvalidInput) as refused:
        services.problem_assign(problem=problem, actor=agent, assignee=agent, assignment_group=group)
    assert "not a member" in refused.value.fields["assignee"][0]
    problem = services.problem_assign(problem=problem, actor=agent, assignment_group=group)
    assert (problem.assignee, problem.assignment_group) == (None, group)
    problem = services.problem_assign(problem=problem, actor=agent)
    assert (problem.assignee, problem.assignment_group) == (None, None)


def test_link_reports_linked_already_linked_and_unknown_ids(agent, customer):
    first, second = make_incidents(2, requester=customer)
    problem = make_problem(by=agent)
    answer = services.problem_link_incidents(problem=problem, actor=agent, incidents=[first.pk])
    assert answer["linked"] == [first.pk]
    answer = services.problem_link_incidents(
        problem=problem, actor=agent, incidents=[first.pk, second.pk, 999999]
    )
    assert answer["linked"] == [second.pk]
    assert answer["already_linked"] == [first.pk]
    assert answer["unknown"] == [999999]
    assert answer["incident_count"] == 2


def test_unlink_reports_not_linked_ids(agent, customer):
    first, second = make_incidents(2, requester=customer)
    problem = make_problem(by=agent)
    services.problem_link_incidents(problem=problem, actor=agent, incidents=[first.pk])
    answer = services.problem_unlink_incidents(
        problem=problem, actor=agent, incidents=[first.pk, second.pk, 77777]
    )
    assert (answer["unlinked"], answer["not_linked"], answer["unknown"]) == ([first.pk], [second.pk], [77777])
    assert answer["incident_count"] == 0


def test_at_most_one_hundred_incidents_per_link_call(agent):
    problem = make_problem(by=agent)
    with pytest.raises(InvalidInput) as refused:
        services.problem_link_incidents(problem=problem, actor=agent, incidents=list(range(1, 102)))
    assert "incidents" in refused.value.fields


@pytest.mark.parametrize("ids", [[], "1,2", [0], [-3], ["x"], [True], [2**63]])
def test_link_ids_are_a_list_of_positive_whole_numbers(agent, ids):
    with pytest.raises(InvalidInput) as refused:
        services.problem_link_incidents(problem=make_problem(by=agent), actor=agent, incidents=ids)
    assert "incidents" in refused.value.fields


def test_affected_hosts_are_distinct_hosts_across_linked_incidents(agent, customer):
    a, b, c = _hosts("a", "b", "c")
    first, second = make_incidents(2, requester=customer)
    first.hosts.add(a, b)
    second.hosts.add(b, c)
    problem = make_problem(by=agent)
    services.problem_link_incidents(problem=problem, actor=agent, incidents=[first.pk, second.pk])
    problem.refresh_from_db()
    assert (problem.incident_count, problem.affected_host_count) == (2, 3)
    services.problem_unlink_incidents(problem=problem, actor=agent, incidents=[first.pk])
    problem.refresh_from_db()
    assert (problem.incident_count, problem.affected_host_count) == (1, 2)


def test_linking_is_journaled(agent, customer):
    incident = make_incident(requester=customer)
    problem = make_problem(by=agent)
    services.problem_link_incidents(problem=problem, actor=agent, incidents=[incident.pk])
    entry = AuditEntry.objects.get(object_id=str(problem.pk), field="incidents")
    assert entry.new_value == incident.number


def test_self_service_user_cannot_link_incidents(agent, customer):
    incident = make_incident(requester=customer)
    with pytest.raises(NotFound):
        services.problem_link_incidents(
            problem=make_problem(by=agent), actor=customer, incidents=[incident.pk]
        )


def test_only_the_author_or_an_itsm_administrator_edits_a_note(agent, l1, manager):
    problem = make_problem(by=agent)
    note = services.problem_note_add(problem=problem, actor=agent, body="Checked the logs")
    with pytest.raises(NotAllowed):
        services.problem_note_edit(note=note, actor=l1, body="Mine now")
    note = services.problem_note_edit(note=note, actor=agent, body="Checked all the logs")
    assert note.body == "Checked all the logs"
    services.problem_note_delete(note=note, actor=manager)
    assert not problem.notes.exists()
    journal = AuditEntry.objects.filter(object_id=str(problem.pk), field="notes").order_by("id")
    assert [(e.old_value, e.new_value) for e in journal] == [
        ("Checked the logs", "Checked all the logs"),
        ("Checked all the logs", ""),
    ]


def test_a_note_is_not_empty_nor_too_long(agent):
    problem = make_problem(by=agent)
    for body in ("   ", "x" * 8001):
        with pytest.raises(InvalidInput):
            services.problem_note_add(problem=problem, actor=agent, body=body)


# --- Concurrency (PostgreSQL: SQLite serialises every writer anyway) ---------------------------

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent linking needs PostgreSQL row locks"
)


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_counters_stay_exact_under_concurrent_linking_and_unlinking(agent, customer):
    hosts = _hosts(*(f"h{n}" for n in range(6)))
    incidents = make_incidents(24, requester=customer)
    for n, incident in enumerate(incidents):
        incident.hosts.add(hosts[n % 6], hosts[(n + 1) % 6])
    problem = make_problem(by=agent)
    ids = [i.pk for i in incidents]
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def worker(n):
        close_old_connections()
        try:
            start.wait(timeout=30)
            mine = ids[n * 4 : n * 4 + 4]
            for _ in range(5):
                services.problem_link_incidents(problem=problem, actor=agent, incidents=mine + ids[:2])
                services.problem_unlink_incidents(problem=problem, actor=agent, incidents=mine[:2])
            services.problem_link_incidents(problem=problem, actor=agent, incidents=mine)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    problem.refresh_from_db()
    assert problem.incident_count == 24 == Problem.objects.get(pk=problem.pk).incidents.count()
    assert problem.affected_host_count == 6
    assert Incident.objects.filter(related_problems=problem).count() == 24


def test_linked_incidents_show_the_problems_workaround_to_agents_not_customers(client, api, agent, customer):
    from django.urls import reverse

    from tests.incidents.factories import make_incident
    from tests.problems.factories import make_problem

    problem = make_problem(by=agent, workaround="Restart the print spooler.")
    incident = make_incident(requester=customer)
    services.problem_link_incidents(problem=problem, actor=agent, incidents=[incident.pk])

    api.force_authenticate(agent)
    body = api.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert body["workarounds"] == [{"problem": problem.number, "workaround": "Restart the print spooler."}]
    client.force_login(agent)
    page = client.get(reverse("desk:incident-detail", args=[incident.pk])).content.decode()
    assert "Restart the print spooler." in page and problem.number in page

    api.force_authenticate(customer)
    body = api.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert "workarounds" not in body and "related_problems" not in body


def test_an_incident_edit_cannot_link_problems_behind_the_counters(api, agent, customer):
    from tests.incidents.factories import make_incident
    from tests.problems.factories import make_problem

    problem = make_problem(by=agent)
    incident = make_incident(requester=customer)
    api.force_authenticate(agent)
    response = api.patch(f"/api/v1/incidents/{incident.pk}/", {"related_problems": [problem.pk]}, format="json")
    assert response.status_code == 400 and "related_problems" in response.json()
    problem.refresh_from_db()
    assert problem.incident_count == 0


def test_an_incident_shows_a_problems_workaround_only_to_who_the_problems_policy_lets_read_it(
    api, agent, customer, monkeypatch
):
    from dataclasses import replace

    from itsm.policy.rules import AGENT, ALL_RULES, Read
    from tests.incidents.factories import make_incident
    from tests.problems.factories import make_problem

    problem = make_problem(by=agent, workaround="Restart the print spooler.")
    incident = make_incident(requester=customer)
    services.problem_link_incidents(problem=problem, actor=agent, incidents=[incident.pk])
    rules = ALL_RULES["problems.problem"]
    monkeypatch.setitem(
        ALL_RULES, "problems.problem", replace(rules, read=(Read(AGENT, hidden=frozenset({"workaround"})),))
    )
    api.force_authenticate(agent)
    assert api.get(f"/api/v1/incidents/{incident.pk}/").json()["workarounds"] == []


def test_a_problem_names_no_customer_as_requester_or_requested_for_through_any_door(api, agent, customer):
    from tests.problems.factories import make_problem

    problem = make_problem(by=agent)
    api.force_authenticate(agent)
    for field in ("requester", "requested_for"):
        response = api.patch(f"/api/v1/problems/{problem.pk}/", {field: customer.pk}, format="json")
        assert response.status_code == 400 and field in response.json(), field
    problem.refresh_from_db()
    assert problem.requested_for is None and problem.requester == agent
