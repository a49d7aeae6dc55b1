"""The changes API (issue 14 items 1–6, 11, 12): the record through its services (risk, freeze,
re-approval), every action from the action table, impact, notes, tasks, timeline, journal,
filters and pinned query counts; self-service users find no change URL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from changes import services, workflows
from changes.models import Change, ChangeTask
from conftest import make_user
from itsm.models import Host
from itsm.roles import Role
from tests.changes.factories import (
    PLANS,
    approved_change,
    depends,
    in_progress_change,
    make_change,
    make_freeze,
    make_group,
    make_hosts,
    make_template,
    rejected_change,
    submitted_change,
    window,
)
from tests.itsm.factories import make_group as make_assignment_group

pytestmark = pytest.mark.django_db

URL = "/api/v1/changes/"


def _post(api, user, path, data=None):
    return api.as_user(user).post(f"{URL}{path}", data or {}, format="json")


def _iso(values: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in values.items()}


# --- Create and edit ------------------------------------------------------------------------


def test_an_agent_raises_a_normal_change_in_draft_with_its_risk(api, agent):
    r = _post(api, agent, "", {"short_description": "Patch the web servers", "change_type": "normal",
                               **_iso(window()), **PLANS})  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["number"].startswith("CHG") and body["state"] == "draft" and body["requester"] == agent.pk
    assert 1 <= body["risk_score"] <= 25 and body["risk_level"] in ("low", "medium", "high", "critical")
    assert body["risk_factors"] and all("contribution" in f for f in body["risk_factors"])
    assert body["source_type"] == "manual" and body["conflicts"] == []


def test_a_standard_change_within_its_template_policy_is_approved_at_creation(api, agent):
    template = make_template("Routine", required_gates=[], optional_gates=[], auto_approve_max_risk=25)
    r = _post(api, agent, "", {"short_description": "Rotate logs", "change_type": "standard",
                               "governance_template": template.pk, **_iso(window())})  # fmt: skip
    assert r.status_code == 201, r.content
    assert r.json()["state"] == "approved" and r.json()["cab_decision"] == "approved"


def test_a_standard_change_its_template_refuses_goes_to_the_cab_with_the_reason(api, agent):
    template = make_template("Low risk only", required_gates=[], optional_gates=[], auto_approve_risk_levels=["low"])
    group = make_group("Payments", tier="critical", hosts=60)
    r = _post(api, agent, "", {"short_description": "Upgrade payments", "change_type": "standard",
                               "governance_template": template.pk, "host_groups": [group.pk],
                               **_iso(window())})  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "submitted" and body["cab_decision"] == ""
    assert "Low risk only" in body["routing_reason"]


@pytest.mark.parametrize(
    "field",
    ["risk_score", "risk_level", "risk_factors", "state", "cab_decision", "gate_status", "impact_summary",
     "pir_outcome", "actual_start", "source_type", "decided_by"],
)  # fmt: skip
def test_derived_fields_are_read_only(api, agent, field):
    change = make_change(by=agent)
    r = api.as_user(agent).patch(f"{URL}{change.pk}/", {field: 5}, format="json")
    assert r.status_code == 400 and field in r.json(), r.content


def test_an_end_before_the_start_is_a_400_naming_planned_end(api, agent):
    start = timezone.now() + timedelta(days=5)
    r = _post(api, agent, "", {"short_description": "Backwards", "planned_start": start.isoformat(),
                               "planned_end": (start - timedelta(hours=1)).isoformat()})  # fmt: skip
    assert r.status_code == 400 and "planned_end" in r.json(), r.content
    assert not Change.objects.exists()


def test_a_normal_change_planned_in_a_freeze_is_a_400_naming_planned_start(api, agent, lead):
    start = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    make_freeze("Year end", start=start - timedelta(days=1), end=start + timedelta(days=1), by=lead)
    planned = {"planned_start": start.isoformat(), "planned_end": (start + timedelta(hours=2)).isoformat()}
    r = _post(api, agent, "", {"short_description": "Patch", "change_type": "normal", **planned})
    assert r.status_code == 400, r.content
    assert "planned_start" in r.json() and "Year end" in str(r.json())
    r = _post(api, agent, "", {"short_description": "Fix", "change_type": "emergency", **planned})
    assert r.status_code == 201, r.content
    # Moving an existing change into the freeze is refused the same way.
    change = make_change(by=agent, **window(days=20))
    r = api.as_user(agent).patch(f"{URL}{change.pk}/", planned, format="json")
    assert r.status_code == 400 and "planned_start" in r.json(), r.content


def test_every_update_rescores_the_risk(api, agent):
    change = make_change(by=agent, **window())
    before = api.as_user(agent).get(f"{URL}{change.pk}/").json()["risk_score"]
    group = make_group("Core", tier="critical", hosts=60)
    r = api.as_user(agent).patch(f"{URL}{change.pk}/", {"host_groups": [group.pk]}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["risk_score"] > before
    assert any(f["factor"] for f in r.json()["risk_factors"])


def test_editing_the_window_of_an_approved_change_sends_it_back_to_the_cab(api, agent, lead):
    change = approved_change(by=agent, approver=lead)
    later = _iso(window(days=9))
    r = api.as_user(agent).patch(f"{URL}{change.pk}/", later, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "submitted" and r.json()["cab_decision"] == ""
    # A description edit does not.
    change = approved_change(by=agent, approver=lead, short_description="Other")
    r = api.as_user(agent).patch(f"{URL}{change.pk}/", {"description": "More words"}, format="json")
    assert r.json()["state"] == "approved"


def test_an_agent_cannot_change_the_type_after_a_cab_decision(api, agent, lead):
    change = approved_change(by=agent, approver=lead)
    r = api.as_user(agent).patch(f"{URL}{change.pk}/", {"change_type": "emergency"}, format="json")
    assert r.status_code in (400, 403) and "change_type" in str(r.json()), r.content
    change.refresh_from_db()
    assert change.change_type == "normal" and change.state == "approved"
    # In draft the type is the agent's to change.
    draft = make_change(by=agent)
    r = api.as_user(agent).patch(f"{URL}{draft.pk}/", {"change_type": "standard"}, format="json")
    assert r.status_code == 200 and r.json()["change_type"] == "standard"


def test_agents_cannot_update_a_closed_change_but_an_itsm_administrator_can(api, agent, lead):
    change = in_progress_change(by=agent, approver=lead)
    change = workflows.change_complete(change=change, actor=agent)
    assert change.state == "closed"
    r = api.as_user(agent).patch(f"{URL}{change.pk}/", {"description": "Late words"}, format="json")
    assert r.status_code == 403
    itsm_admin = make_user("itsmadmin", Role.ITSM_ADMINISTRATOR)
    r = api.as_user(itsm_admin).patch(f"{URL}{change.pk}/", {"description": "Late words"}, format="json")
    assert r.status_code == 200 and r.json()["description"] == "Late words"


def test_a_stale_if_match_is_a_409(api, agent):
    change = make_change(by=agent)
    client = api.as_user(agent)
    r = client.patch(f"{URL}{change.pk}/", {"description": "x"}, format="json", HTTP_IF_MATCH=str(change.version))
    assert r.status_code == 200
    r = client.patch(f"{URL}{change.pk}/", {"description": "y"}, format="json", HTTP_IF_MATCH=str(change.version))
    assert r.status_code == 409


# --- The CAB and the work through the actions -----------------------------------------------


def test_a_change_through_the_api_from_draft_to_closed_with_gates_and_pir(api, agent, lead):
    template = make_template("Server patching", pir_required=True)
    r = _post(api, agent, "", {"short_description": "Patch the web servers", "governance_template": template.pk,
                               **_iso(window()), **PLANS})  # fmt: skip
    pk = r.json()["id"]
    assert _post(api, agent, f"{pk}/submit/").json()["state"] == "submitted"
    r = _post(api, lead, f"{pk}/approve/")
    assert r.status_code == 400 and "gate" in str(r.json()).lower(), r.content  # gates not complete
    for gate in ("Peer review", "Test evidence"):
        r = _post(api, agent, f"{pk}/complete-gate/", {"gate": gate, "notes": f"{gate} done."})
        assert r.status_code == 200, r.content
    assert r.json()["gate_status"]["Peer review"]["notes"] == "Peer review done."
    assert r.json()["gate_status"]["Peer review"]["completed_by"] == agent.pk
    r = _post(api, lead, f"{pk}/approve/", {"cab_notes": "Go ahead."})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["state"], body["cab_decision"], body["decided_by"]) == ("approved", "approved", lead.pk)
    r = _post(api, agent, f"{pk}/start/")
    assert r.json()["state"] == "in_progress" and r.json()["actual_start"]
    r = _post(api, agent, f"{pk}/complete/")
    assert r.json()["state"] == "review" and r.json()["actual_end"]
    r = _post(api, agent, f"{pk}/pir/", {"pir_outcome": "sideways"})
    assert r.status_code == 400 and "pir_outcome" in r.json()
    r = _post(api, agent, f"{pk}/pir/", {"pir_outcome": "successful", "pir_lessons": "Stagger the reboots."})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "closed" and r.json()["pir_outcome"] == "successful"


def test_an_unknown_gate_is_a_400_naming_gate(api, agent):
    change = make_change(by=agent, governance_template=make_template())
    r = _post(api, agent, f"{change.pk}/complete-gate/", {"gate": "Astrology"})
    assert r.status_code == 400 and "gate" in r.json(), r.content


def test_only_holders_of_changes_approve_decide(api, agent, l1):
    change = submitted_change(by=l1)
    assert _post(api, agent, f"{change.pk}/approve/").status_code == 403
    assert _post(api, agent, f"{change.pk}/reject/", {"cab_notes": "No"}).status_code == 403
    change.refresh_from_db()
    assert change.state == "submitted"


def test_nobody_decides_on_a_change_they_requested(api, lead):
    change = submitted_change(by=lead)
    r = _post(api, lead, f"{change.pk}/approve/")
    assert r.status_code == 400 and "requested" in r.json()["detail"], r.content


def test_approval_needs_the_notice_hours_or_an_override_reason(api, agent, lead):
    change = submitted_change(by=agent, **window(days=1))  # 24 hours away; 48 required
    r = _post(api, lead, f"{change.pk}/approve/")
    assert r.status_code == 400 and "planned_start" in r.json(), r.content
    api.as_user(agent).patch(
        f"{URL}{change.pk}/", {"notice_override_reason": "Vendor fix for an outage"}, format="json"
    )
    assert _post(api, lead, f"{change.pk}/approve/").json()["state"] == "approved"


def test_reject_needs_cab_notes_and_rework_returns_to_draft(api, agent, lead):
    change = submitted_change(by=agent)
    r = _post(api, lead, f"{change.pk}/reject/")
    assert r.status_code == 400 and "cab_notes" in r.json()
    r = _post(api, lead, f"{change.pk}/reject/", {"cab_notes": "Not in quarter end."})
    assert r.status_code == 200 and r.json()["state"] == "rejected" and r.json()["cab_notes"] == "Not in quarter end."
    r = _post(api, agent, f"{change.pk}/rework/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["state"] == "draft" and body["cab_decision"] == "" and body["decided_by"] is None
    assert body["gate_status"] == {}


def test_a_transition_the_state_forbids_is_a_400_naming_the_allowed_ones(api, agent):
    change = make_change(by=agent)
    r = _post(api, agent, f"{change.pk}/start/")
    assert r.status_code == 400
    assert r.json()["allowed"] == ["cancel", "submit"]


def test_cancel_and_assign_actions(api, agent, l1):
    change = make_change(by=agent)
    r = _post(api, agent, f"{change.pk}/assign/", {"assignee": l1.pk})
    assert r.status_code == 200 and r.json()["assignee"] == l1.pk
    r = _post(api, agent, f"{change.pk}/cancel/", {"reason": "Not needed"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled"


def test_rejected_change_rework_is_for_agents(api, agent, lead, customer):
    change = rejected_change(by=agent, approver=lead)
    assert _post(api, customer, f"{change.pk}/rework/").status_code == 404


# --- Impact, conflicts ----------------------------------------------------------------------


def test_impact_is_read_then_computed_and_stored(api, agent):
    web, app, db = make_group("Web", hosts=3), make_group("App", hosts=2), make_group("Db", tier="high", hosts=1)
    depends(web, app)
    depends(app, db)
    change = make_change(by=agent, host_groups=[db])
    client = api.as_user(agent)
    r = client.get(f"{URL}{change.pk}/impact/")
    assert r.status_code == 200 and r.json()["impact_computed_at"] is None
    r = client.post(f"{URL}{change.pk}/impact/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["impact_computed_at"] is not None
    assert body["impact_summary"]["host_count"] == 6 and body["impact_summary"]["group_count"] == 3
    assert client.get(f"{URL}{change.pk}/impact/").json() == body
    assert client.get(f"{URL}{change.pk}/").json()["impact_summary"] == body["impact_summary"]


def test_conflicts_are_other_open_changes_on_the_same_hosts_in_an_overlapping_window(api, agent):
    host = Host.objects.create(hostname="db01")
    planned = window(days=8, hours=4)
    first = make_change(by=agent, short_description="Patch db01", hosts=[host], **planned)
    overlapping = {"planned_start": planned["planned_start"] + timedelta(hours=1),
                   "planned_end": planned["planned_end"] + timedelta(hours=1)}  # fmt: skip
    second = make_change(by=agent, short_description="Resize db01", hosts=[host], **overlapping)
    make_change(by=agent, short_description="Elsewhere", hosts=[Host.objects.create(hostname="web01")], **planned)
    make_change(by=agent, short_description="Later", hosts=[host], **window(days=30))
    body = api.as_user(agent).get(f"{URL}{first.pk}/").json()
    assert [c["id"] for c in body["conflicts"]] == [second.pk]
    assert body["conflicts"][0]["number"] == second.number
    assert "conflicts" not in api.as_user(agent).get(URL).json()["results"][0]


# --- Notes, tasks, timeline, journal --------------------------------------------------------


def test_notes_tasks_timeline_and_journal(api, agent, l1):
    change = make_change(by=agent)
    r = _post(api, agent, f"{change.pk}/notes/", {"body": "Vendor confirmed the patch"})
    assert r.status_code == 201
    note_id = r.json()["id"]
    r = api.as_user(l1).patch(f"{URL}{change.pk}/notes/{note_id}/", {"body": "Hijack"}, format="json")
    assert r.status_code == 403
    r = api.as_user(agent).patch(f"{URL}{change.pk}/notes/{note_id}/", {"body": "Vendor confirmed"}, format="json")
    assert r.status_code == 200 and r.json()["body"] == "Vendor confirmed"
    assert api.as_user(agent).patch(f"{URL}{change.pk}/notes/987654/", {"body": "x"}, format="json").status_code == 404
    r = _post(api, agent, f"{change.pk}/tasks/", {"short_description": "Drain the rack"})
    assert r.status_code == 201 and r.json()["number"].startswith("TASK") and r.json()["change"] == change.pk
    assert len(api.as_user(agent).get(f"{URL}{change.pk}/tasks/").json()) == 1
    _post(api, agent, f"{change.pk}/submit/")
    timeline = api.as_user(agent).get(f"{URL}{change.pk}/timeline/").json()
    assert any(t["text"] == "submit" for t in timeline)
    assert any(t["type"] == "note" and t["text"] == "Vendor confirmed" for t in timeline)
    journal = api.as_user(agent).get(f"{URL}{change.pk}/journal/").json()
    assert any(e["transition"] == "submit" for e in journal)
    assert api.as_user(agent).delete(f"{URL}{change.pk}/notes/{note_id}/").status_code == 204


def test_change_tasks_are_worked_through_their_own_resource(api, agent):
    change = make_change(by=agent)
    task = services.change_task_create(change=change, actor=agent, data={"short_description": "Drain"})
    client = api.as_user(agent)
    assert client.get("/api/v1/change-tasks/", {"change": change.pk}).json()["results"][0]["id"] == task.pk
    assert client.post(f"/api/v1/change-tasks/{task.pk}/start/").json()["state"] == "in_progress"
    assert client.post(f"/api/v1/change-tasks/{task.pk}/close/").json()["state"] == "closed"
    r = client.patch(f"/api/v1/change-tasks/{task.pk}/", {"description": "late"}, format="json")
    assert r.status_code == 403  # agents do not update a closed task
    assert ChangeTask.objects.get().state == "closed"


# --- Lists ----------------------------------------------------------------------------------


def test_filters_search_and_ordering(api, agent, lead):
    early = make_change(by=agent, short_description="Printer firmware", **window(days=3))
    late = make_change(by=agent, short_description="Core switch", change_type="emergency", **window(days=20))
    submitted = submitted_change(by=agent, short_description="Disk array", **window(days=10))
    client = api.as_user(agent)

    def ids(**params):
        r = client.get(URL, params)
        assert r.status_code == 200, r.content
        return [c["id"] for c in r.json()["results"]]

    assert ids(change_type="emergency") == [late.pk]
    assert ids(state="submitted") == [submitted.pk]
    assert ids(search="firmware") == [early.pk]
    assert ids(search=late.number) == [late.pk]
    assert ids(ordering="planned_start") == [early.pk, submitted.pk, late.pk]
    bound = (timezone.now() + timedelta(days=5)).isoformat()
    assert set(ids(planned_start__gte=bound)) == {late.pk, submitted.pk}
    assert ids(planned_start__lt=bound) == [early.pk]
    level = Change.objects.get(pk=late.pk).risk_level
    assert late.pk in ids(risk_level=level)


def test_search_finds_words_of_the_justification(api, agent):
    change = make_change(by=agent, justification="The vendor withdrew support for the old firmware")
    make_change(by=agent, short_description="Other")
    r = api.as_user(agent).get(URL, {"search": "vendor withdrew"})
    assert [c["id"] for c in r.json()["results"]] == [change.pk]


def test_mine_unassigned_and_group_filters(api, agent, l1):
    group = make_assignment_group("Network", members=[l1])
    mine = make_change(by=agent, short_description="Mine")
    services.change_assign(change=mine, actor=agent, assignee=agent)
    theirs = make_change(by=agent, short_description="Theirs")
    services.change_assign(change=theirs, actor=agent, assignee=l1, assignment_group=group)
    nobody = make_change(by=agent, short_description="Nobody's")
    client = api.as_user(agent)

    def ids(**params):
        return sorted(c["id"] for c in client.get(URL, params).json()["results"])

    assert ids(mine="true") == [mine.pk]
    assert ids(unassigned="true") == [nobody.pk]
    assert ids(assignment_group=group.pk) == [theirs.pk]
    assert ids(assignee=l1.pk) == [theirs.pk]


def test_an_unknown_filter_value_is_a_400_naming_it(api, agent):
    r = api.as_user(agent).get(URL, {"risk_level": "extreme"})
    assert r.status_code == 400 and "risk_level" in r.json()
    r = api.as_user(agent).get(URL, {"planned_start__gte": "soon"})
    assert r.status_code == 400 and "planned_start__gte" in r.json()


@pytest.mark.parametrize("page_size", [5, 50])
def test_change_list_query_count_is_fixed_whatever_the_page_size(api, agent, page_size, django_assert_max_num_queries):
    group = make_group("Web", hosts=3)
    hosts = make_hosts(4, prefix="db")
    for n in range(page_size):
        make_change(by=agent, short_description=f"C{n}", hosts=hosts[: n % 4 + 1], host_groups=[group])
    client = api.as_user(agent)
    # the token with its user and roles, the count, the page, its hosts, its host groups
    with django_assert_max_num_queries(5):
        r = client.get(URL, {"page_size": page_size})
    assert r.status_code == 200 and len(r.json()["results"]) == page_size
    assert all(c["host_groups"] == [group.pk] for c in r.json()["results"])


def test_change_detail_query_count_is_fixed_whatever_the_hosts(api, agent, django_assert_max_num_queries):
    hosts = make_hosts(40)
    change = make_change(by=agent, hosts=hosts, host_groups=[make_group("Web", hosts=20)], **window())
    client = api.as_user(agent)
    # the token with its user and roles, the change, its hosts, its host groups, its conflicts
    # (two: the hosts and groups it touches, then the changes sharing one)
    with django_assert_max_num_queries(6):
        r = client.get(f"{URL}{change.pk}/")
    assert r.status_code == 200 and len(r.json()["hosts"]) == 40


def test_change_task_list_query_count_is_fixed(api, agent, django_assert_max_num_queries):
    change = make_change(by=agent)
    for n in range(6):
        services.change_task_create(change=change, actor=agent, data={"short_description": f"T{n}"})
    client = api.as_user(agent)
    with django_assert_max_num_queries(8):
        r = client.get("/api/v1/change-tasks/")
    assert r.status_code == 200 and len(r.json()["results"]) == 6


# --- Self-service users see none of it ------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["", "{pk}/", "{pk}/notes/", "{pk}/tasks/", "{pk}/timeline/", "{pk}/journal/", "{pk}/impact/"]
)
def test_self_service_users_get_404_on_every_change_url(api, agent, customer, path):
    change = make_change(by=agent)
    assert api.as_user(customer).get(f"{URL}{path.format(pk=change.pk)}").status_code == 404


@pytest.mark.parametrize(
    "action",
    ["submit", "approve", "reject", "rework", "start", "complete", "pir", "cancel", "assign", "complete-gate",
     "impact", "notes", "tasks"],
)  # fmt: skip
def test_self_service_users_get_404_on_every_change_action(api, agent, customer, action):
    change = make_change(by=agent)
    assert _post(api, customer, f"{change.pk}/{action}/", {"cab_notes": "x", "gate": "x"}).status_code == 404
    change.refresh_from_db()
    assert change.state == "draft"


def test_self_service_users_get_404_on_change_tasks_and_cannot_create_a_change(api, agent, customer):
    task = services.change_task_create(change=make_change(by=agent), actor=agent, data={"short_description": "T"})
    client = api.as_user(customer)
    assert client.get("/api/v1/change-tasks/").status_code == 404
    assert client.get(f"/api/v1/change-tasks/{task.pk}/").status_code == 404
    assert client.post(f"/api/v1/change-tasks/{task.pk}/close/").status_code == 404
    assert _post(api, customer, "", {"short_description": "x"}).status_code == 404
    assert Change.objects.count() == 1
