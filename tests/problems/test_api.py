"""The problems API (issue 13): the record through its services, the actions, linking, notes,
tasks, timeline and journal; self-service users find no problem URL."""

from __future__ import annotations

import pytest

from changes.models import Change
from problems import services, workflows
from problems.models import Problem
from tests.incidents.factories import make_incident, make_incidents
from tests.problems.factories import PLAN, make_problem, submitted_problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/problems/"


def _post(api, user, path, data=None):
    return api.as_user(user).post(f"{URL}{path}", data or {}, format="json")


def test_agent_creates_a_problem_with_derived_priority(api, agent):
    r = _post(api, agent, "", {"short_description": "Disks fail", "impact": 1, "urgency": 1})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["number"].startswith("PRB") and body["priority"] == "P1" and body["state"] == "new"
    assert body["requester"] == agent.pk


@pytest.mark.parametrize("field", ["incident_count", "affected_host_count", "is_known_error", "state"])
def test_counters_state_and_known_error_are_read_only(api, agent, field):
    problem = make_problem(by=agent)
    r = api.as_user(agent).patch(
        f"{URL}{problem.pk}/", {field: 5 if "count" in field else True}, format="json"
    )
    assert r.status_code == 400 and field in r.json()


def test_rca_through_the_api_from_submit_to_close(api, agent, lead):
    problem = make_problem(by=agent)
    assert _post(api, agent, f"{problem.pk}/start/").json()["state"] == "investigating"
    r = _post(api, agent, f"{problem.pk}/submit-rca/", {"rca_summary": "short"})
    assert r.status_code == 400 and "rca_summary" in r.json()
    r = _post(
        api, agent, f"{problem.pk}/submit-rca/",
        {"rca_summary": "Firmware bug in the disks", "rca_confidence": 0.9, "corrective_plan": PLAN},
    )  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "rca_submitted" and r.json()["rca_confidence"] == "0.90"
    r = _post(api, agent, f"{problem.pk}/approve-rca/")
    assert r.status_code == 403
    r = _post(api, lead, f"{problem.pk}/approve-rca/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["state"] == "change_created" and body["is_known_error"] and len(body["changes"]) == 1
    assert Change.objects.get(pk=body["changes"][0]).source_type == "problem"
    r = _post(api, agent, f"{problem.pk}/verify/", {"verification_notes": "Quiet for a month now."})
    assert r.json()["state"] == "verified"
    assert _post(api, agent, f"{problem.pk}/close/").json()["state"] == "closed"


def test_the_submitter_gets_a_400_saying_why_on_approve(api, lead):
    problem = submitted_problem(by=lead)
    r = _post(api, lead, f"{problem.pk}/approve-rca/")
    assert r.status_code == 400
    assert "submitted this RCA" in r.json()["detail"]


def test_reject_needs_review_notes(api, agent, lead):
    problem = submitted_problem(by=agent)
    assert _post(api, lead, f"{problem.pk}/reject-rca/").status_code == 400
    r = _post(api, lead, f"{problem.pk}/reject-rca/", {"review_notes": "Dig into the controller"})
    assert r.json()["state"] == "rca_rejected" and r.json()["review_notes"] == "Dig into the controller"


def test_a_transition_the_state_forbids_is_a_400_naming_the_allowed_ones(api, agent):
    problem = make_problem(by=agent)
    r = _post(api, agent, f"{problem.pk}/close/")
    assert r.status_code == 400
    assert r.json()["allowed"] == ["cancel", "start"]


def test_assign_action(api, agent, l1):
    problem = make_problem(by=agent)
    r = _post(api, agent, f"{problem.pk}/assign/", {"assignee": l1.pk})
    assert r.status_code == 200 and r.json()["assignee"] == l1.pk


def test_link_and_unlink_incidents(api, agent, customer):
    incidents = make_incidents(3, requester=customer)
    problem = make_problem(by=agent)
    ids = [i.pk for i in incidents]
    r = _post(api, agent, f"{problem.pk}/link-incidents/", {"incidents": [*ids, 987654]})
    assert r.status_code == 200, r.content
    assert r.json()["linked"] == ids and r.json()["unknown"] == [987654] and r.json()["incident_count"] == 3
    r = _post(api, agent, f"{problem.pk}/unlink-incidents/", {"incidents": ids[:1]})
    assert r.json()["unlinked"] == ids[:1] and r.json()["incident_count"] == 2
    detail = api.as_user(agent).get(f"{URL}{problem.pk}/").json()
    assert sorted(detail["incidents"]) == sorted(ids[1:]) and detail["incident_count"] == 2


def test_more_than_one_hundred_incidents_is_a_400_naming_incidents(api, agent):
    problem = make_problem(by=agent)
    r = _post(api, agent, f"{problem.pk}/link-incidents/", {"incidents": list(range(1, 102))})
    assert r.status_code == 400 and "incidents" in r.json()


def test_notes_tasks_timeline_and_journal(api, agent, l1):
    problem = make_problem(by=agent)
    r = _post(api, agent, f"{problem.pk}/notes/", {"body": "Looked at SMART data"})
    assert r.status_code == 201
    note_id = r.json()["id"]
    r = api.as_user(l1).patch(f"{URL}{problem.pk}/notes/{note_id}/", {"body": "Hijack"}, format="json")
    assert r.status_code == 403
    r = _post(api, agent, f"{problem.pk}/tasks/", {"short_description": "Collect logs"})
    assert r.status_code == 201 and r.json()["number"].startswith("TASK")
    assert len(api.as_user(agent).get(f"{URL}{problem.pk}/tasks/").json()) == 1
    _post(api, agent, f"{problem.pk}/start/")
    timeline = api.as_user(agent).get(f"{URL}{problem.pk}/timeline/").json()
    assert any(t["text"] == "start" for t in timeline)
    assert any(t["type"] == "note" and t["text"] == "Looked at SMART data" for t in timeline)
    journal = api.as_user(agent).get(f"{URL}{problem.pk}/journal/").json()
    assert any(e["transition"] == "start" for e in journal)


@pytest.mark.parametrize(
    "path",
    ["", "{pk}/", "{pk}/notes/", "{pk}/tasks/", "{pk}/timeline/", "{pk}/journal/"],
)
def test_self_service_users_get_404_on_every_problem_url(api, agent, customer, path):
    problem = make_problem(by=agent)
    assert api.as_user(customer).get(f"{URL}{path.format(pk=problem.pk)}").status_code == 404


def test_self_service_users_get_404_on_problem_tasks(api, agent, customer):
    task = services.problem_task_create(
        problem=make_problem(by=agent), actor=agent, data={"short_description": "T"}
    )
    client = api.as_user(customer)
    assert client.get("/api/v1/problem-tasks/").status_code == 404
    assert client.get(f"/api/v1/problem-tasks/{task.pk}/").status_code == 404
    assert client.post(f"/api/v1/problem-tasks/{task.pk}/close/").status_code == 404


@pytest.mark.parametrize(
    "action", ["start", "submit-rca", "approve-rca", "reject-rca", "verify", "close", "cancel", "assign",
               "link-incidents", "unlink-incidents", "notes", "tasks"],
)  # fmt: skip
def test_self_service_users_get_404_on_every_problem_action(api, agent, customer, action):
    problem = make_problem(by=agent)
    assert _post(api, customer, f"{problem.pk}/{action}/", {"incidents": [1]}).status_code == 404


def test_self_service_user_cannot_create_a_problem(api, customer):
    assert _post(api, customer, "", {"short_description": "x"}).status_code == 404
    assert not Problem.objects.exists()


def test_problem_list_query_count_is_fixed(api, agent, customer, django_assert_max_num_queries):
    incident = make_incident(requester=customer)
    for n in range(8):
        problem = make_problem(by=agent, short_description=f"P{n}")
        services.problem_link_incidents(problem=problem, actor=agent, incidents=[incident.pk])
    workflows.problem_start(problem=problem, actor=agent)
    client = api.as_user(agent)
    with django_assert_max_num_queries(12):
        r = client.get(URL)
    assert r.status_code == 200 and len(r.json()["results"]) == 8


def test_problem_task_list_query_count_is_fixed(api, agent, django_assert_max_num_queries):
    problem = make_problem(by=agent)
    for n in range(6):
        services.problem_task_create(problem=problem, actor=agent, data={"short_description": f"T{n}"})
    client = api.as_user(agent)
    with django_assert_max_num_queries(8):
        r = client.get("/api/v1/problem-tasks/")
    assert r.status_code == 200 and len(r.json()["results"]) == 6


def test_filters_and_search(api, agent, lead):
    make_problem(by=agent, short_description="Printer jams", category="Hardware")
    known = submitted_problem(by=agent, short_description="Disk firmware", category="Storage")
    workflows.problem_approve_rca(problem=known, actor=lead)
    client = api.as_user(agent)
    assert [p["id"] for p in client.get(URL, {"is_known_error": "true"}).json()["results"]] == [known.pk]
    assert [p["id"] for p in client.get(URL, {"category": "Storage"}).json()["results"]] == [known.pk]
    assert [p["id"] for p in client.get(URL, {"search": "firmware"}).json()["results"]] == [known.pk]
    assert [p["id"] for p in client.get(URL, {"state": "change_created"}).json()["results"]] == [known.pk]


def test_a_problem_raised_from_an_incident_is_linked_and_prefilled(api, agent, customer):
    incident = make_incident(requester=customer, short_description="VPN drops")
    r = _post(api, agent, "", {"from_incident": incident.pk})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["short_description"] == "VPN drops" and body["incidents"] == [incident.pk]
    assert body["incident_count"] == 1
    r = _post(api, agent, "", {"from_incident": 987654})
    assert r.status_code == 400 and "from_incident" in r.json()
