"""Saved views of the desk queues (issue #17 item 10): saved from the queue page or the API, own
and shared with a group (read-only for its members), shown in the queue navigation with counts
that cost a fixed number of queries; columns, page size, the open-work default, bulk selection
and the CSV export, each as the policy allows."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from incidents import workflows
from incidents.models import Incident
from itsm import policy, saved_views
from itsm.models import SavedView
from itsm.roles import Role
from tests.incidents.factories import make_incident
from tests.itsm.factories import make_group

LIST = reverse("desk:incident-list")
PROBLEMS = reverse("desk:problem-list")
CREATE = reverse("desk:saved-view-create")
API = "/api/v1/saved-views/"


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()  # the navigation's counts are cached for 30 s
    yield
    cache.clear()


@pytest.fixture
def network(agent, l1):
    return make_group("Network", members=[agent, l1])


@pytest.fixture
def outsider(db):
    return make_user("outsider", Role.ITSM_AGENT)


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


def numbers(response) -> list[str]:
    return [record.number for record in response.context["page"].object_list]


def text_of(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def view_of(owner, name="P1 open", query="state=open&priority=P1", **fields) -> SavedView:
    return saved_views.saved_view_create(actor=owner, kind="incident", name=name, query=query, **fields)


def resolved(incident, agent):
    return workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes="Done."
    )


# --- Saving and opening a view ------------------------------------------------------------------


def test_agent_saves_the_filtered_queue_as_a_view_and_opens_it(desk, agent, customer):
    p1 = make_incident(requester=customer, priority="P1", short_description="Core switch down")
    make_incident(requester=customer, priority="P3", short_description="Mouse squeaks")
    query = "state=open&priority=P1&sort=-opened_at&columns=number&columns=priority&page_size=50&junk=1"
    response = desk.post(CREATE, {"kind": "incident", "name": "Urgent", "query": query, "shared_with": ""})
    view = SavedView.objects.get(owner=agent, name="Urgent")
    assert response.status_code == 302 and response["Location"] == f"{LIST}?view={view.pk}"
    # Only the queue's own filters are kept (the unknown "junk" is dropped), with the layout.
    assert (view.query, view.sort, view.columns, view.page_size) == (
        "state=open&priority=P1", "-opened_at", ["number", "priority"], 50,
    )  # fmt: skip
    page = desk.get(LIST, {"view": view.pk})
    assert numbers(page) == [p1.number]
    assert [column["name"] for column in page.context["columns"]] == ["number", "priority"]
    assert page.context["page"].paginator.per_page == 50
    assert "Urgent" in text_of(page)


def test_filtering_the_page_replaces_the_views_filters_and_sorting_keeps_them(desk, agent, customer):
    p1 = make_incident(requester=customer, priority="P1")
    p3 = make_incident(requester=customer, priority="P3")
    view = view_of(agent)
    assert numbers(desk.get(LIST, {"view": view.pk, "sort": "number"})) == [p1.number]
    assert numbers(desk.get(LIST, {"view": view.pk, "state": "open", "priority": "P3"})) == [p3.number]


def test_the_desk_form_refuses_a_duplicate_name_and_saves_nothing(desk, agent):
    view_of(agent, name="Mine")
    response = desk.post(CREATE, {"kind": "incident", "name": "Mine", "query": "state=new"}, follow=True)
    assert "You already have a view called “Mine” on the incidents queue." in text_of(response)
    assert SavedView.objects.filter(owner=agent).count() == 1


def test_the_same_name_may_be_used_on_another_queue(agent):
    view_of(agent, name="Mine")
    saved_views.saved_view_create(actor=agent, kind="problem", name="Mine", query="state=open")
    assert SavedView.objects.filter(owner=agent, name="Mine").count() == 2


def test_owner_renames_updates_and_deletes_its_view(desk, agent, customer):
    view = view_of(agent)
    url = reverse("desk:saved-view-change", args=[view.pk])
    desk.post(url, {"action": "rename", "name": "Fires"})
    view.refresh_from_db()
    assert view.name == "Fires"
    desk.post(url, {"action": "update", "query": "state=new&priority=P2&page_size=100"})
    view.refresh_from_db()
    assert (view.query, view.page_size) == ("state=new&priority=P2", 100)
    desk.post(url, {"action": "delete"})
    assert not SavedView.objects.filter(pk=view.pk).exists()


# --- Sharing ------------------------------------------------------------------------------------


def test_a_view_shared_with_a_group_is_seen_by_its_members_and_nobody_else(
    client, agent, l1, outsider, network, customer, api
):
    make_incident(requester=customer, priority="P1")
    view = view_of(agent, shared_with=network.pk)
    client.force_login(l1)
    page = client.get(LIST, {"view": view.pk})
    assert page.status_code == 200 and len(numbers(page)) == 1
    assert [item.view.pk for item in page.context["saved_views_nav"]] == [view.pk]
    assert api.as_user(l1).get(API).json()["results"][0]["mine"] is False
    client.force_login(outsider)
    assert client.get(LIST, {"view": view.pk}).status_code == 404
    assert client.get(LIST).context["saved_views_nav"] == []
    assert api.as_user(outsider).get(API).json()["results"] == []
    assert api.as_user(outsider).get(f"{API}{view.pk}/").status_code == 404


def test_a_member_cannot_rename_or_delete_a_view_shared_with_it(client, agent, l1, network, api):
    view = view_of(agent, shared_with=network.pk)
    client.force_login(l1)
    url = reverse("desk:saved-view-change", args=[view.pk])
    response = client.post(url, {"action": "rename", "name": "Mine now"}, follow=True)
    assert "Only its owner may change or delete this view" in text_of(response)
    client.post(url, {"action": "delete"})
    assert api.as_user(l1).patch(f"{API}{view.pk}/", {"name": "Mine now"}, format="json").status_code == 403
    assert api.as_user(l1).delete(f"{API}{view.pk}/").status_code == 403
    view.refresh_from_db()
    assert view.name == "P1 open"


def test_sharing_with_a_group_the_owner_is_not_in_is_refused(api, outsider, network):
    response = api.as_user(outsider).post(
        API,
        {"kind": "incident", "name": "Sneaky", "query": "state=open", "shared_with": network.pk},
        format="json",
    )
    assert response.status_code == 400 and "shared_with" in response.json()
    assert not SavedView.objects.exists()


def test_customers_have_no_saved_views(api, customer):
    assert api.as_user(customer).get(API).status_code == 403
    body = {"kind": "incident", "name": "x", "query": ""}
    assert api.as_user(customer).post(API, body, format="json").status_code == 403


# --- The API ------------------------------------------------------------------------------------


def test_api_creates_and_lists_own_views(api, agent):
    body = {
        "kind": "incident",
        "name": "P1",
        "query": "state=open&priority=P1",
        "columns": ["number", "state"],
    }
    response = api.as_user(agent).post(API, body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["query"], created["columns"], created["page_size"], created["mine"]) == (
        "state=open&priority=P1", ["number", "state"], 25, True,
    )  # fmt: skip
    assert [v["name"] for v in api.as_user(agent).get(API).json()["results"]] == ["P1"]


def test_the_owner_renames_and_deletes_its_view_through_the_api_and_a_view_stays_on_its_queue(api, agent):
    view = view_of(agent)
    owner = api.as_user(agent)
    renamed = owner.patch(f"{API}{view.pk}/", {"name": "Urgent open"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Urgent open"
    moved = owner.patch(f"{API}{view.pk}/", {"kind": "problem"}, format="json")
    assert moved.status_code == 400 and "kind" in moved.json()
    view.refresh_from_db()
    assert (view.name, view.kind) == ("Urgent open", "incident")
    assert owner.delete(f"{API}{view.pk}/").status_code == 204
    assert not SavedView.objects.filter(pk=view.pk).exists()


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"query": "state=open&colour=red"}, "query", "'colour' is not a filter"),
        ({"query": "state=bogus"}, "query", "state:"),
        ({"columns": ["number", "password"]}, "columns", "password"),
        ({"sort": "colour"}, "sort", "Sort by one of"),
        ({"page_size": 30}, "page_size", ""),
        ({"kind": "spaceship"}, "kind", "incident"),
        ({"name": "  "}, "name", ""),
    ],
)
def test_api_refuses_a_bad_view_with_400_naming_the_field(api, agent, body, field, says):
    response = api.as_user(agent).post(API, {"kind": "incident", "name": "V", **body}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert says in str(response.json()[field])
    assert not SavedView.objects.exists()


def test_a_filter_on_a_field_the_owner_may_not_read_is_refused_as_unknown(api, organisation):
    helper = make_user("helper", Role.PLATFORM_AGENT, organisation=organisation)
    assert "priority" in policy.hidden_fields(helper, Incident)
    response = api.as_user(helper).post(
        API, {"kind": "incident", "name": "V", "query": "priority=P1"}, format="json"
    )
    assert response.status_code == 400
    assert "'priority' is not a filter" in str(response.json()["query"])


# --- The navigation's counts --------------------------------------------------------------------


def test_navigation_counts_what_each_view_lists_for_the_reader(agent, customer):
    make_incident(requester=customer, priority="P1")
    make_incident(requester=customer, priority="P1")
    make_incident(requester=customer, priority="P3")
    view_of(agent)
    view_of(agent, name="All open", query="state=open")
    counts = {item.view.name: item.count_label for item in saved_views.navigation(agent)}
    assert counts == {"All open": "3", "P1 open": "2"}


def test_navigation_counts_only_records_the_reader_may_read(agent, customer, organisation):
    """A shared view counts, for each member, what that member may read: a helper (desk access,
    no ITSM agent) reads only its own incidents, and its filter on priority (hidden from it) is
    dropped as if it had not been asked."""
    helper = make_user("helper", Role.PLATFORM_AGENT, organisation=organisation)
    group = make_group("Helpers", members=[agent, helper])
    make_incident(requester=customer, priority="P1")
    make_incident(requester=customer, priority="P1")
    make_incident(requester=helper, priority="P3")
    view_of(agent, name="Critical", query="state=&priority=P1", shared_with=group.pk)
    assert [item.count_label for item in saved_views.navigation(agent)] == ["2"]
    assert [item.count_label for item in saved_views.navigation(helper)] == ["1"]


def test_a_shared_views_sort_on_a_field_the_member_may_not_read_is_dropped(client, agent, organisation):
    helper = make_user("helper", Role.PLATFORM_AGENT, organisation=organisation)
    group = make_group("Helpers", members=[agent, helper])
    mine = make_incident(requester=helper)
    view = view_of(agent, name="By priority", query="state=open", sort="-priority", shared_with=group.pk)
    client.force_login(helper)
    response = client.get(LIST, {"view": view.pk})
    assert response.status_code == 200
    assert numbers(response) == [mine.number]


def test_a_view_shared_on_a_queue_the_member_may_not_read_is_not_its_to_see(api, agent, organisation):
    """A desk user who reads no problems never sees a problem view shared with its group, nor its
    filters, through any door (the API's list and detail, the queue's ``?view=``)."""
    helper = make_user("helper", Role.PLATFORM_AGENT, organisation=organisation)
    group = make_group("Helpers", members=[agent, helper])
    problems = saved_views.saved_view_create(
        actor=agent, kind="problem", name="My problems", query=f"assignee={agent.pk}", shared_with=group.pk
    )
    incidents = view_of(agent, name="Shared incidents", shared_with=group.pk)
    member = api.as_user(helper)
    listed = member.get("/api/v1/saved-views/").json()
    assert [row["name"] for row in listed["results"]] == [incidents.name]
    assert member.get(f"/api/v1/saved-views/{problems.pk}/").status_code == 404
    assert [item.view.pk for item in saved_views.navigation(helper)] == [incidents.pk]
    owner = api.as_user(agent)
    assert {row["name"] for row in owner.get("/api/v1/saved-views/").json()["results"]} == {
        problems.name, incidents.name,
    }  # fmt: skip


def test_a_desk_export_holds_no_column_the_reader_may_not_read(client, organisation):
    helper = make_user("helper", Role.PLATFORM_AGENT, organisation=organisation)
    make_incident(requester=helper, priority="P1")
    client.force_login(helper)
    rows = csv_rows(client.get(LIST, {"format": "csv", "columns": ["number", "priority", "assignee"]}))
    assert "Number" in rows[0] and not {"Priority", "Assignee"} & set(rows[0])
    rows = csv_rows(client.get(LIST, {"format": "csv"}))
    assert set(rows[0]).isdisjoint({"Priority", "SLA", "Group", "Assignee"})
    assert "P1" not in "".join(rows[1])


def test_navigation_count_stops_at_the_cap(agent, customer, monkeypatch):
    monkeypatch.setattr(saved_views, "COUNT_CAP", 2)
    for _ in range(3):
        make_incident(requester=customer)
    view_of(agent, name="All", query="state=")
    [item] = saved_views.navigation(agent)
    assert (item.count, item.capped, item.count_label) == (2, True, "2+")


def _navigation_queries(user) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        saved_views.navigation(user)
    return len(captured)


def test_navigation_costs_two_queries_whatever_the_number_of_views(agent, customer):
    """One for the views and one aggregate for their counts (each a LIMITed subquery), however
    many views there are; at most 10 are shown; counted again only after 30 seconds."""
    make_incident(requester=customer, priority="P1")
    for n in range(2):
        view_of(agent, name=f"View {n}", query=f"state=open&priority=P{n + 1}")
    assert _navigation_queries(agent) == 2
    for n in range(2, 14):
        view_of(agent, name=f"View {n:02}", query="state=open&sort=number")
    assert _navigation_queries(agent) == 2
    assert len(saved_views.navigation(agent)) == saved_views.NAV_LIMIT
    with CaptureQueriesContext(connection) as cached:
        saved_views.navigation(agent)
    assert len(cached) == 1  # the counts come from the cache


def test_navigation_with_group_filters_costs_at_most_one_more_query_per_view(agent, customer, network):
    """Checking a view's chosen group (or person) is one query for that view: ten views stay
    within 2 + 10."""
    make_incident(requester=customer)
    for n in range(12):
        view_of(agent, name=f"Team {n:02}", query=f"state=open&assignment_group={network.pk}")
    assert _navigation_queries(agent) <= 2 + saved_views.NAV_LIMIT


def test_queue_page_queries_do_not_grow_with_the_number_of_views(desk, agent, customer):
    make_incident(requester=customer)
    view_of(agent, name="One", query="state=open")
    desk.get(LIST)
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        desk.get(LIST)
    for n in range(9):
        view_of(agent, name=f"More {n}", query="state=new&priority=P2")
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        desk.get(LIST)
    assert len(many) == len(few)


# --- Page size, columns, open work --------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "size"), [("50", 50), ("100", 100), ("7", 25), ("abc", 25), (str(10**30), 25)]
)
def test_page_size_is_25_50_or_100_and_anything_else_is_the_default(desk, customer, asked, size):
    response = desk.get(LIST, {"page_size": asked})
    assert response.status_code == 200
    assert response.context["page"].paginator.per_page == size


def test_page_size_shows_that_many_rows(desk, customer):
    for _ in range(55):
        make_incident(requester=customer)
    assert len(numbers(desk.get(LIST, {"page_size": 50}))) == 50


def test_columns_are_chosen_among_those_the_reader_may_read(client, organisation):
    helper = make_user("helper", Role.PLATFORM_AGENT, organisation=organisation)
    make_incident(requester=helper)
    client.force_login(helper)
    response = client.get(LIST, {"columns": ["number", "priority", "assignee", "state"]})
    assert [c["name"] for c in response.context["columns"]] == ["number", "state"]
    offered = {c["name"] for c in response.context["queue_options"]["columns"]}
    assert not offered & policy.hidden_fields(helper, Incident)


@pytest.mark.parametrize("url", [LIST, PROBLEMS])
def test_queue_opens_on_open_work_and_any_state_shows_the_rest(desk, agent, customer, url):
    if url == LIST:
        open_one = make_incident(requester=customer)
        done = resolved(make_incident(requester=customer), agent)
        workflows.incident_close(incident=done, actor=agent)
    else:
        from itsm import services
        from problems.models import Problem

        def make_problem(**system):
            data = {"short_description": "Outages"}
            return services.record_create(model=Problem, actor=agent, data=data, requester=agent, **system)

        open_one = make_problem()
        done = make_problem(state="closed")
    assert numbers(desk.get(url)) == [open_one.number]
    assert set(numbers(desk.get(url, {"state": ""}))) == {open_one.number, done.number}


# --- Bulk selection -----------------------------------------------------------------------------


def test_bulk_acknowledge_says_how_many_changed_and_which_were_refused_and_why(desk, agent, customer):
    a, b = make_incident(requester=customer), make_incident(requester=customer)
    done = resolved(make_incident(requester=customer), agent)
    response = desk.post(
        reverse("desk:incident-bulk"),
        {
            "action": "acknowledge",
            "ids": [a.pk, b.pk, done.pk],
            "comment": "On it",
            "next": f"{LIST}?state=new",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"{LIST}?state=new"
    page = text_of(response)
    assert "2 of 3 incidents changed." in page
    assert f"{done.number} was not changed: Cannot acknowledge a record that is resolved." in page
    a.refresh_from_db()
    done.refresh_from_db()
    assert (a.state, done.state) == ("in_progress", "resolved")


def test_select_all_on_this_page_acts_on_every_row_of_the_page(desk, agent, customer, network):
    incidents = [make_incident(requester=customer) for _ in range(3)]
    desk.post(
        reverse("desk:incident-bulk"),
        {"action": "assign", "all_on_page": "on", "page_ids": [i.pk for i in incidents],
         "assignment_group": network.pk, "assignee": agent.pk},
    )  # fmt: skip
    assert {(i.assignment_group_id, i.assignee_id) for i in Incident.objects.all()} == {
        (network.pk, agent.pk)
    }


def test_bulk_assign_refuses_an_assignee_outside_the_group_per_incident(desk, customer, outsider, network):
    incident = make_incident(requester=customer)
    response = desk.post(
        reverse("desk:incident-bulk"),
        {"action": "assign", "ids": [incident.pk], "assignment_group": network.pk, "assignee": outsider.pk},
        follow=True,
    )
    assert f"{incident.number} was not changed" in text_of(response)
    incident.refresh_from_db()
    assert incident.assignee is None


def test_bulk_form_without_a_selection_changes_nothing(desk, customer):
    incident = make_incident(requester=customer)
    response = desk.post(
        reverse("desk:incident-bulk"), {"action": "acknowledge", "comment": "x"}, follow=True
    )
    assert "tick the incidents" in text_of(response)
    incident.refresh_from_db()
    assert incident.state == "new"


def test_queue_rows_have_checkboxes_joined_to_the_bulk_form(desk, customer):
    incident = make_incident(requester=customer)
    html = desk.get(LIST).content.decode()
    assert f'name="ids" value="{incident.pk}" form="queue-bulk"' in html
    assert 'id="queue-bulk"' in html and "Select all on this page" in html


# --- CSV export ---------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_csv_exports_every_page_of_the_filtered_queue_with_the_shown_columns(desk, customer):
    for n in range(30):
        make_incident(requester=customer, priority="P1" if n % 2 else "P3")
    response = desk.get(
        LIST, {"state": "open", "priority": "P1", "columns": ["number", "priority"], "format": "csv"}
    )
    assert response["Content-Type"].startswith("text/csv")
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="incidents-{today}.csv"'
    rows = csv_rows(response)
    assert rows[0] == ["Number", "Priority"]
    assert len(rows) == 1 + 15
    assert {row[1] for row in rows[1:]} == {"P1 — critical"}


def test_csv_guards_against_formula_injection(desk, customer):
    make_incident(requester=customer, short_description='=HYPERLINK("http://evil","x")')
    make_incident(requester=customer, short_description="@SUM(A1)")
    make_incident(requester=customer, short_description="-2+3")
    rows = csv_rows(desk.get(LIST, {"columns": ["number", "short_description"], "format": "csv"}))
    cells = {row[1] for row in rows[1:]}
    assert cells == {'\'=HYPERLINK("http://evil","x")', "'@SUM(A1)", "'-2+3"}


def test_csv_export_queries_do_not_grow_with_the_rows(desk, customer, django_assert_max_num_queries):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            csv_rows(desk.get(LIST, {"format": "csv"}))
        return len(captured)

    make_incident(requester=customer)
    few = queries()
    for _ in range(40):
        make_incident(requester=customer)
    assert queries() == few


def test_a_customers_export_holds_only_its_incidents_and_fields_it_may_read(
    client, customer, customer2, agent
):
    own = make_incident(requester=customer, short_description="My printer", priority="P1")
    make_incident(requester=customer2, short_description="Someone else's")
    client.force_login(customer)
    response = client.get(reverse("portal:incident-list"), {"format": "csv"})
    rows = csv_rows(response)
    labels = {"Number": "number", "Short description": "short_description", "State": "state",
              "Opened": "opened_at", "Last update": "updated_at"}  # fmt: skip
    header = [labels[label] for label in rows[0]]
    assert set(header) <= policy.readable_fields(customer, Incident)
    assert not set(header) & policy.hidden_fields(customer, Incident)
    assert [row[0] for row in rows[1:]] == [own.number]
    body = "\n".join(",".join(row) for row in rows)
    assert "P1" not in body and "Someone else" not in body
    # The desk's export is not a door for customers.
    assert client.get(LIST, {"format": "csv"}).status_code == 403
