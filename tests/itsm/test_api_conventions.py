"""API conventions (SPEC §4, §6, §7) through /api/v1/: hidden fields never leak (bodies, filters,
ordering, search, errors), unreadable records are 404, writes are checked field by field, lists
are paginated with a fixed number of queries, and the reference resources follow the cmdb roles."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_user
from incidents.models import Incident
from itsm import services
from itsm.api.errors import exception_handler
from itsm.errors import Conflict
from itsm.models import AssignmentGroup, AuditEntry, Host, Work

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"

# SPEC §4, "A self-service user never reads these fields", Incident, in snake_case.
INCIDENT_HIDDEN = {
    "major_incident",
    "major_incident_review",
    "major_incident_journal",
    "major_incident_manager",
    "major_incident_followers",
    "sla_status",
    "work_journal",
    "priority",
    "assignment_group",
    "assignee",
    "classification",
    "impact",
    "urgency",
    "resolution_notes",
    "collaborators",
    "service",
    "related_configuration_items",
    "related_incidents",
    "changes_required",
    "related_problems",
    "related_slas",
    "subtasks",
}


def _create(customer, text="Printer on fire", **hidden):
    """An incident raised by ``customer``; hidden fields set behind its back, in the database."""
    incident = services.record_create(
        model=Incident,
        actor=customer,
        data={"short_description": text},
        requester=customer,
        organisation=customer.organisation,
    )
    if hidden:
        for name, value in hidden.items():
            setattr(incident, name, value)
        incident.save(update_fields=list(hidden))  # keeps the search column in step, as services do
    return incident


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _journal(incident):
    return list(AuditEntry.objects.filter(object_id=str(incident.pk)).values_list("id", flat=True))


@pytest.fixture
def group(db):
    return AssignmentGroup.objects.create(name="Network")


@pytest.fixture
def worked(customer, agent, group):
    """Three incidents of the customer with different hidden values: a P2, a P1 and a P3."""
    a = _create(
        customer, "A", priority="P2", impact=2, urgency=2, service="mail", resolution_notes="nothing yet"
    )
    b = _create(
        customer,
        "B",
        priority="P1",
        impact=1,
        urgency=1,
        assignee=agent,
        assignment_group=group,
        major_incident=True,
        classification="network",
        service="vpn",
        resolution_notes="root cause: quokka-zebra-42 firmware",
    )
    c = _create(customer, "C", priority="P3", impact=3, urgency=3, service="print")
    b.collaborators.set([agent])
    b.related_incidents.set([a])
    return a, b, c


# --- Hidden fields: bodies ------------------------------------------------------------------


def test_customer_list_never_shows_hidden_fields(worked, customer, api):
    r = api.as_user(customer).get(URL)
    assert r.status_code == 200, r.content
    rows = r.json()["results"]
    assert len(rows) == 3
    for row in rows:
        assert not set(row) & INCIDENT_HIDDEN, set(row) & INCIDENT_HIDDEN
        assert {"id", "number", "short_description", "state", "requester"} <= set(row)
    body = r.content.decode()
    assert "quokka-zebra-42" not in body
    assert "vpn" not in body


def test_customer_detail_never_shows_hidden_fields(worked, customer, api):
    b = worked[1]
    r = api.as_user(customer).get(f"{URL}{b.pk}/")
    assert r.status_code == 200, r.content
    assert not set(r.json()) & INCIDENT_HIDDEN
    assert r.json()["short_description"] == "B"
    assert "quokka-zebra-42" not in r.content.decode()


def test_agent_reads_the_fields_hidden_from_customers(worked, agent, group, api):
    b = worked[1]
    body = api.as_user(agent).get(f"{URL}{b.pk}/").json()
    assert body["priority"] == "P1"
    assert body["assignee"] == agent.pk
    assert body["assignment_group"] == group.pk
    assert body["resolution_notes"] == "root cause: quokka-zebra-42 firmware"
    assert body["major_incident"] is True
    assert body["collaborators"] == [agent.pk]


def test_customer_write_answers_never_show_hidden_fields(customer, api):
    client = api.as_user(customer)
    r = client.post(URL, {"short_description": "Mouse"}, format="json")
    assert r.status_code == 201, r.content
    assert not set(r.json()) & INCIDENT_HIDDEN
    r = client.patch(f"{URL}{r.json()['id']}/", {"description": "left button"}, format="json")
    assert r.status_code == 200, r.content
    assert not set(r.json()) & INCIDENT_HIDDEN


# --- Hidden fields: filters, ordering, search -------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "priority=P1",
        "priority=P4",
        "priority__in=P1,P2",
        "impact=1",
        "urgency=3",
        "major_incident=true",
        "priority=NOT-A-PRIORITY",
        "assignee=not-a-number",
    ],
)
def test_customer_filter_on_a_hidden_field_answers_as_if_not_asked(worked, customer, query, api):
    client = api.as_user(customer)
    assert _ids(client.get(f"{URL}?{query}")) == _ids(client.get(URL))


def test_customer_filter_on_assignee_or_group_answers_as_if_not_asked(worked, customer, agent, group, api):
    client = api.as_user(customer)
    everything = _ids(client.get(URL))
    assert len(everything) == 3
    assert _ids(client.get(f"{URL}?assignee={agent.pk}")) == everything
    assert _ids(client.get(f"{URL}?assignee={agent.pk + 1000}")) == everything
    assert _ids(client.get(f"{URL}?assignment_group={group.pk}")) == everything


def test_agent_filter_on_the_same_fields_narrows_the_list(worked, agent, group, api):
    _a, b, _c = worked
    client = api.as_user(agent)
    assert _ids(client.get(f"{URL}?priority=P1")) == [b.pk]
    assert _ids(client.get(f"{URL}?priority=P4")) == []
    assert _ids(client.get(f"{URL}?assignee={agent.pk}")) == [b.pk]
    assert _ids(client.get(f"{URL}?assignment_group={group.pk}")) == [b.pk]
    assert _ids(client.get(f"{URL}?major_incident=true")) == [b.pk]


@pytest.mark.parametrize("ordering", ["priority", "-priority", "impact", "-urgency", "priority,-impact"])
def test_customer_ordering_by_a_hidden_field_keeps_the_default_order(worked, customer, ordering, api):
    client = api.as_user(customer)
    default = _ids(client.get(URL))
    assert default == [worked[2].pk, worked[1].pk, worked[0].pk]  # newest first
    assert _ids(client.get(f"{URL}?ordering={ordering}")) == default


def test_agent_ordering_by_priority_orders_by_priority(worked, agent, api):
    a, b, c = worked
    client = api.as_user(agent)
    assert _ids(client.get(f"{URL}?ordering=priority")) == [b.pk, a.pk, c.pk]
    assert _ids(client.get(f"{URL}?ordering=-priority")) == [c.pk, a.pk, b.pk]


def test_searching_a_whole_record_number_finds_that_record_by_its_unique_index(
    worked, agent, customer, api, django_assert_max_num_queries
):
    a, b, _ = worked
    b.refresh_from_db()
    client = api.as_user(agent)
    with django_assert_max_num_queries(15) as captured:
        assert _ids(client.get(f"{URL}?search={b.number.lower()}")) == [b.pk]
    listing = [q["sql"] for q in captured.captured_queries if "LIMIT" in q["sql"] and "itsm_work" in q["sql"]]
    assert listing and all("LIKE" not in sql for sql in listing)  # no scan of the text columns
    assert _ids(client.get(f"{URL}?search=INC9999999")) == []
    # A customer finds its own incident by number, and nobody else's.
    assert _ids(api.as_user(customer).get(f"{URL}?search={a.number}")) == [a.pk]
    assert _ids(api.as_user(customer).get(f"{URL}?search=INC9999999")) == []


def test_customer_search_does_not_look_into_hidden_fields(worked, customer, api):
    client = api.as_user(customer)
    assert client.get(f"{URL}?search=quokka-zebra-42").json()["count"] == 0
    assert client.get(f"{URL}?search=vpn").json()["count"] == 0
    assert _ids(client.get(f"{URL}?search=B")) == [worked[1].pk]  # visible fields still searched


def test_agent_search_finds_text_in_resolution_notes(worked, agent, api):
    assert _ids(api.as_user(agent).get(f"{URL}?search=quokka-zebra-42")) == [worked[1].pk]


# --- Writes naming fields the user may not write ----------------------------------------------


def test_customer_create_naming_a_hidden_field_is_refused_and_creates_nothing(customer, api):
    r = api.as_user(customer).post(URL, {"short_description": "Mouse", "priority": "P1"}, format="json")
    assert r.status_code == 400, r.content
    assert "priority" in r.json()
    assert not Work.objects.exists()
    assert not AuditEntry.objects.exists()


def test_customer_update_naming_a_hidden_field_is_refused_and_changes_nothing(customer, api):
    incident = _create(customer, "Mouse")
    journal = _journal(incident)
    r = api.as_user(customer).patch(
        f"{URL}{incident.pk}/", {"short_description": "Keyboard", "priority": "P1"}, format="json"
    )
    assert r.status_code == 400, r.content
    assert "priority" in r.json()
    incident.refresh_from_db()
    assert (incident.short_description, incident.priority, incident.version) == ("Mouse", "", 1)
    assert _journal(incident) == journal


@pytest.mark.parametrize("field", ["priority", "assignee", "impact", "resolution_notes", "major_incident"])
def test_a_hidden_field_is_refused_with_the_same_words_as_a_field_that_does_not_exist(customer, field, api):
    incident = _create(customer)
    client = api.as_user(customer)
    hidden = client.patch(f"{URL}{incident.pk}/", {field: "1"}, format="json")
    unknown = client.patch(f"{URL}{incident.pk}/", {"no_such_field": "1"}, format="json")
    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json()[field] == unknown.json()["no_such_field"]


@pytest.mark.parametrize("user_fixture", ["customer", "agent"])
def test_state_is_never_written_directly(user_fixture, customer, request, api):
    incident = _create(customer)
    journal = _journal(incident)
    client = api.as_user(request.getfixturevalue(user_fixture))
    r = client.patch(f"{URL}{incident.pk}/", {"state": "resolved"}, format="json")
    assert r.status_code == 400, r.content
    assert "state" in r.json()
    r = client.post(URL, {"short_description": "x", "state": "closed"}, format="json")
    assert r.status_code == 400, r.content
    assert "state" in r.json()
    incident.refresh_from_db()
    assert incident.state == "new"
    assert _journal(incident) == journal
    assert Work.objects.count() == 1


def test_agent_writes_fields_hidden_from_customers(customer, agent, api):
    incident = _create(customer)
    r = api.as_user(agent).patch(
        f"{URL}{incident.pk}/", {"priority": "P2", "assignee": agent.pk}, format="json"
    )
    assert r.status_code == 200, r.content
    incident.refresh_from_db()
    assert (incident.priority, incident.assignee_id, incident.version) == ("P2", agent.pk, 2)


# --- Records the user may not read ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("patch", ""), ("put", ""), ("delete", ""), ("get", "journal/")],
)
def test_another_customers_incident_answers_404_like_a_missing_one(method, suffix, customer, customer2, api):
    incident = _create(customer)
    client = api.as_user(customer2)
    body = {"short_description": "mine now"}
    r = getattr(client, method)(f"{URL}{incident.pk}/{suffix}", body, format="json")
    assert r.status_code == 404, r.content
    missing = getattr(client, method)(f"{URL}999999/{suffix}", body, format="json")
    assert missing.status_code == 404
    assert r.json() == missing.json()
    incident.refresh_from_db()
    assert incident.short_description == "Printer on fire"


def test_another_customers_incident_is_not_in_the_list(customer, customer2, api):
    _create(customer)
    mine = _create(customer2, "Mine")
    assert _ids(api.as_user(customer2).get(URL)) == [mine.pk]


def test_customer_reads_an_incident_raised_for_it(customer, customer2, api):
    incident = _create(customer)
    Incident.objects.filter(pk=incident.pk).update(requested_for=customer2)
    assert _ids(api.as_user(customer2).get(URL)) == [incident.pk]


# --- What a customer may write, and when --------------------------------------------------------


def test_customer_edits_short_description_while_new(customer, api):
    incident = _create(customer)
    r = api.as_user(customer).patch(
        f"{URL}{incident.pk}/", {"short_description": "Printer smokes"}, format="json"
    )
    assert r.status_code == 200, r.content
    incident.refresh_from_db()
    assert incident.short_description == "Printer smokes"


@pytest.mark.parametrize("field", ["short_description", "description"])
def test_customer_cannot_edit_its_text_once_in_progress(customer, field, api):
    incident = _create(customer)
    Work.objects.filter(pk=incident.pk).update(state="in_progress")
    journal = _journal(incident)
    r = api.as_user(customer).patch(f"{URL}{incident.pk}/", {field: "changed"}, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    incident.refresh_from_db()
    assert getattr(incident, field) != "changed"
    assert _journal(incident) == journal


def test_customer_may_still_name_requested_for_in_its_organisation_once_in_progress(customer, customer2, api):
    incident = _create(customer)
    Work.objects.filter(pk=incident.pk).update(state="in_progress")
    r = api.as_user(customer).patch(f"{URL}{incident.pk}/", {"requested_for": customer2.pk}, format="json")
    assert r.status_code == 200, r.content
    incident.refresh_from_db()
    assert incident.requested_for_id == customer2.pk


def test_customer_cannot_name_requested_for_outside_its_organisation(customer, other_organisation, api):
    outsider = make_user("outsider", "platform_selfservice", organisation=other_organisation)
    r = api.as_user(customer).post(
        URL, {"short_description": "x", "requested_for": outsider.pk}, format="json"
    )
    assert r.status_code == 400, r.content
    assert "requested_for" in r.json()
    assert not Work.objects.exists()


def test_customer_cannot_delete_its_own_incident(customer, api):
    incident = _create(customer)
    r = api.as_user(customer).delete(f"{URL}{incident.pk}/")
    assert r.status_code == 403, r.content
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_agent_cannot_delete_but_itsm_administrator_can(customer, agent, manager, api):
    incident = _create(customer)
    assert api.as_user(agent).delete(f"{URL}{incident.pk}/").status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists()
    assert api.as_user(manager).delete(f"{URL}{incident.pk}/").status_code == 204
    assert not Incident.objects.filter(pk=incident.pk).exists()


# --- The ITSM Work queue ----------------------------------------------------------------------


def test_agents_read_the_work_queue(customer, l1, agent, api):
    incident = _create(customer)
    for user in (l1, agent):
        assert _ids(api.as_user(user).get("/api/v1/work/")) == [incident.pk]
        r = api.as_user(user).get(f"/api/v1/work/{incident.pk}/")
        assert r.status_code == 200
        assert r.json()["kind"] == "incident"


def test_customers_may_not_read_the_work_queue(customer, api):
    incident = _create(customer)
    assert api.as_user(customer).get("/api/v1/work/").status_code == 403
    assert api.as_user(customer).get(f"/api/v1/work/{incident.pk}/").status_code in (403, 404)


@pytest.mark.parametrize("user_fixture", ["agent", "manager", "admin_user"])
def test_the_work_queue_is_read_only_for_everyone(user_fixture, customer, request, api):
    incident = _create(customer)
    client = api.as_user(request.getfixturevalue(user_fixture))
    body = {"short_description": "changed", "kind": "incident"}
    assert client.post("/api/v1/work/", body, format="json").status_code == 405
    assert client.put(f"/api/v1/work/{incident.pk}/", body, format="json").status_code == 405
    assert client.patch(f"/api/v1/work/{incident.pk}/", body, format="json").status_code == 405
    assert client.delete(f"/api/v1/work/{incident.pk}/").status_code == 405
    incident.refresh_from_db()
    assert incident.short_description == "Printer on fire"
    assert Work.objects.count() == 1


# --- Pagination and query counts --------------------------------------------------------------


def test_lists_are_paginated(customer, agent, api):
    for n in range(3):
        _create(customer, f"#{n}")
    client = api.as_user(agent)
    for url in (URL, "/api/v1/work/"):
        first = client.get(f"{url}?page_size=2").json()
        assert first["count"] == 3
        assert len(first["results"]) == 2
        assert first["next"] and "page=2" in first["next"]
        second = client.get(first["next"]).json()
        assert len(second["results"]) == 1
        assert second["next"] is None
        assert {r["id"] for r in first["results"] + second["results"]} == set(
            Work.objects.values_list("id", flat=True)
        )


def test_page_size_defaults_to_25_and_is_capped_at_200(customer, agent, api):
    for n in range(205):
        Incident.objects.create(
            number=f"INC9{n:06d}", kind="incident", state="new", short_description=f"#{n}", requester=customer
        )
    client = api.as_user(agent)
    assert len(client.get(URL).json()["results"]) == 25
    assert len(client.get(f"{URL}?page_size=100").json()["results"]) == 100
    r = client.get(f"{URL}?page_size=100000").json()
    assert r["count"] == 205
    assert len(r["results"]) == 200


def _add_incidents(customer, agent, group, count):
    previous = None
    for n in range(count):
        incident = _create(customer, f"#{n}", priority="P3", assignee=agent, assignment_group=group)
        incident.collaborators.set([agent, customer])
        if previous is not None:
            incident.related_incidents.set([previous])
        previous = incident


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
    assert r.status_code == 200, r.content
    return len(ctx.captured_queries), r.json()["count"]


QUERY_BOUND = 12  # session, token, roles, count, page, one per prefetched relation


@pytest.mark.parametrize(
    ("user_fixture", "url"),
    [("agent", URL), ("customer", URL), ("agent", "/api/v1/work/")],
)
def test_a_list_costs_the_same_queries_for_3_and_40_records(
    user_fixture, url, customer, agent, group, request, api, django_assert_max_num_queries
):
    url = f"{url}?page_size=50"
    client = api.as_user(request.getfixturevalue(user_fixture))
    _add_incidents(customer, agent, group, 3)
    with django_assert_max_num_queries(QUERY_BOUND):
        few, count = _queries(client, url)
    assert count == 3
    _add_incidents(customer, agent, group, 37)
    with django_assert_max_num_queries(QUERY_BOUND):
        many, count = _queries(client, url)
    assert count == 40
    assert few == many


# --- Authentication, schema, docs -----------------------------------------------------------


@pytest.mark.parametrize("url", [URL, "/api/v1/work/", "/api/v1/hosts/"])
def test_unauthenticated_requests_are_refused(url, customer, api):
    incident = _create(customer)
    assert api.get(url).status_code in (401, 403)
    assert api.get(f"{URL}{incident.pk}/").status_code in (401, 403)
    assert api.post(url, {"short_description": "anon"}, format="json").status_code in (401, 403)
    assert Work.objects.count() == 1


def test_a_wrong_token_is_refused(customer, api):
    _create(customer)
    api.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    assert api.get(URL).status_code in (401, 403)


def test_schema_and_docs_answer_a_signed_in_agent(agent, api):
    client = api.as_user(agent)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200, schema.content[:500]
    assert b"/api/v1/incidents/" in schema.content
    assert b"/api/v1/work/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200


# --- Bad input ------------------------------------------------------------------------------


def test_an_unknown_assignment_group_is_400_naming_the_field(customer, agent, api):
    incident = _create(customer)
    r = api.as_user(agent).patch(f"{URL}{incident.pk}/", {"assignment_group": 999999}, format="json")
    assert r.status_code == 400, r.content
    assert "assignment_group" in r.json()
    incident.refresh_from_db()
    assert incident.assignment_group_id is None
    assert incident.version == 1


def test_a_missing_short_description_is_400_naming_the_field(customer, agent, api):
    for user in (customer, agent):
        r = api.as_user(user).post(URL, {"description": "no title"}, format="json")
        assert r.status_code == 400, r.content
        assert "short_description" in r.json()
    assert not Work.objects.exists()


def test_an_invalid_choice_is_400_naming_the_field(agent, api):
    r = api.as_user(agent).post(URL, {"short_description": "x", "priority": "P9"}, format="json")
    assert r.status_code == 400, r.content
    assert "priority" in r.json()
    assert not Work.objects.exists()


# --- Concurrent edits -----------------------------------------------------------------------


def test_a_stale_version_is_refused_as_a_conflict(customer, agent):
    incident = _create(customer)
    seen = incident.version
    services.record_update(obj=incident, actor=agent, data={"priority": "P2"}, expected_version=seen)
    with pytest.raises(Conflict) as refused:
        services.record_update(obj=incident, actor=agent, data={"priority": "P4"}, expected_version=seen)
    assert "version" in refused.value.fields
    incident.refresh_from_db()
    assert (incident.priority, incident.version) == ("P2", seen + 1)


def test_a_conflict_answers_409(customer):
    response = exception_handler(Conflict("changed meanwhile", fields={"version": ["2"]}), {})
    assert response.status_code == 409
    assert response.data["version"] == ["2"]


# --- Reference data: hosts by cmdb roles ------------------------------------------------------


@pytest.fixture
def host(db):
    return Host.objects.create(hostname="web-01")


def test_cmdb_viewer_lists_hosts_but_cannot_create_change_or_delete(host, api):
    client = api.as_user(make_user("viewer", "cmdb_viewer"))
    assert _ids(client.get("/api/v1/hosts/")) == [host.pk]
    assert client.post("/api/v1/hosts/", {"hostname": "db-01"}, format="json").status_code == 403
    assert client.patch(f"/api/v1/hosts/{host.pk}/", {"description": "x"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/hosts/{host.pk}/").status_code == 403
    assert list(Host.objects.values_list("hostname", "description")) == [("web-01", "")]


def test_cmdb_manager_creates_and_updates_hosts_but_cannot_delete(host, api):
    client = api.as_user(make_user("cmdbman", "cmdb_manager"))
    r = client.post("/api/v1/hosts/", {"hostname": "db-01", "ip_address": "10.0.0.5"}, format="json")
    assert r.status_code == 201, r.content
    r = client.patch(f"/api/v1/hosts/{host.pk}/", {"description": "front end"}, format="json")
    assert r.status_code == 200, r.content
    assert client.delete(f"/api/v1/hosts/{host.pk}/").status_code == 403
    assert dict(Host.objects.values_list("hostname", "description")) == {
        "web-01": "front end",
        "db-01": "",
    }


def test_cmdb_administrator_deletes_hosts(host, api):
    client = api.as_user(make_user("cmdbadmin", "cmdb_administrator"))
    assert client.delete(f"/api/v1/hosts/{host.pk}/").status_code == 204
    assert not Host.objects.exists()
    assert AuditEntry.objects.filter(action="delete", object_id=str(host.pk)).exists()


def test_customer_cannot_read_hosts(host, customer, api):
    assert api.as_user(customer).get("/api/v1/hosts/").status_code == 403
    assert api.as_user(customer).get(f"/api/v1/hosts/{host.pk}/").status_code in (403, 404)


def test_a_bad_ip_address_is_400_naming_the_field(api):
    client = api.as_user(make_user("cmdbman", "cmdb_manager"))
    r = client.post("/api/v1/hosts/", {"hostname": "db-01", "ip_address": "not-an-ip"}, format="json")
    assert r.status_code == 400, r.content
    assert "ip_address" in r.json()
    assert not Host.objects.exists()


def test_stale_if_match_version_is_refused_with_409_and_changes_nothing(api, agent, customer):
    from incidents.models import Incident

    record = Incident.objects.create(
        number="INC0009001", kind=Incident.KIND, state="new", short_description="Before", requester=customer
    )
    url = f"/api/v1/incidents/{record.pk}/"
    first = api.as_user(agent).patch(
        url, {"short_description": "First edit"}, format="json", HTTP_IF_MATCH="1"
    )
    assert first.status_code == 200
    stale = api.as_user(agent).patch(
        url, {"short_description": "Stale edit"}, format="json", HTTP_IF_MATCH="1"
    )
    assert stale.status_code == 409
    record.refresh_from_db()
    assert record.short_description == "First edit"


def test_malformed_if_match_is_400_naming_the_header(api, agent, customer):
    from incidents.models import Incident

    record = Incident.objects.create(
        number="INC0009002", kind=Incident.KIND, state="new", short_description="Before", requester=customer
    )
    response = api.as_user(agent).patch(
        f"/api/v1/incidents/{record.pk}/",
        {"short_description": "x"},
        format="json",
        HTTP_IF_MATCH="yesterday",
    )
    assert response.status_code == 400
    assert "If-Match" in response.json()
