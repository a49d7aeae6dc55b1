"""The capped count: exact below the cap, a lower bound past it, and every page still served."""

import pytest
from django.core.paginator import EmptyPage
from django.db import connection
from django.db.models import Exists, F, OuterRef
from django.test.utils import CaptureQueriesContext

from incidents import services
from incidents.models import Incident
from itsm.models import Work
from itsm.pagination import CappedPaginator
from tests.problems.factories import make_problem

pytestmark = pytest.mark.django_db


class SmallCap(CappedPaginator):
    cap = 5


@pytest.fixture
def seven(customer):
    for n in range(7):
        services.incident_create(actor=customer, data={"short_description": f"Printer {n}"})
    return Incident.objects.order_by("pk")


def test_below_the_cap_the_count_is_exact(seven):
    paginator = SmallCap(seven[:4], 2)
    assert (paginator.count, paginator.capped, paginator.num_pages) == (4, False, 2)
    assert not paginator.page(2).has_next()


def test_past_the_cap_the_count_is_a_lower_bound_and_later_pages_still_exist(seven):
    paginator = SmallCap(seven, 2)
    assert (paginator.count, paginator.capped, paginator.count_label) == (5, True, "more than 5")
    last = paginator.page(4)  # past the counted pages (5 rows = 3 pages)
    assert [i.short_description for i in last] == ["Printer 6"]
    assert paginator.page(3).has_next() and not last.has_next()
    with pytest.raises(EmptyPage):
        paginator.page(5)


def test_the_count_query_stops_at_the_cap(seven, django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        SmallCap(seven, 2).count  # noqa: B018
    assert "LIMIT 6" in captured.captured_queries[0]["sql"].upper()


def test_the_api_says_when_the_count_is_capped(seven, agent, api, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 5)
    body = api.as_user(agent).get("/api/v1/incidents/", {"page_size": 2}).json()
    assert (body["count"], body["count_capped"]) == (5, True)
    body = api.as_user(agent).get("/api/v1/incidents/", {"page_size": 2, "page": 4}).json()
    assert len(body["results"]) == 1 and body["next"] is None
    assert api.as_user(agent).get("/api/v1/incidents/", {"page_size": 2, "page": 5}).status_code == 404


def test_a_page_number_no_database_could_offset_to_is_a_404_not_a_crash(seven, agent, api, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 5)
    response = api.as_user(agent).get("/api/v1/incidents/", {"page_size": 2, "page": 10**20})
    assert response.status_code == 404


def test_a_page_past_the_last_row_of_a_capped_list_shows_the_last_counted_page(seven):
    page = SmallCap(seven, 2).get_page(9)
    assert page.number == 3 and [i.short_description for i in page] == ["Printer 4", "Printer 5"]


def test_the_browsable_api_shows_a_page_past_the_counted_ones(seven, agent, client, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 3)
    client.force_login(agent)
    response = client.get("/api/v1/incidents/", {"page": 4, "page_size": 2}, HTTP_ACCEPT="text/html")
    assert response.status_code == 200  # was an AssertionError in DRF's page links (a 500)
    assert "INC0000001" in response.content.decode()


# --- Which tables the count reads -----------------------------------------------------------


def _count_sql(queryset, django_assert_num_queries) -> tuple[int, str]:
    with django_assert_num_queries(1) as captured:
        count = SmallCap(queryset, 2).count
    return count, captured.captured_queries[0]["sql"]


@pytest.fixture
def mixed(customer, agent):
    """Three new incidents (one high impact), one in progress, and a problem: new as well,
    and a row of ``itsm_work`` like them."""
    incidents = [
        services.incident_create(actor=customer, data={"short_description": f"Printer {n}"}) for n in range(3)
    ]
    Incident.objects.filter(pk=incidents[0].pk).update(impact=1)
    started = services.incident_create(actor=customer, data={"short_description": "Scanner"})
    Work.objects.filter(pk=started.pk).update(state="in_progress")
    make_problem(by=agent)
    return incidents


def test_a_count_filtered_on_work_columns_reads_itsm_work_alone_and_only_the_kinds_rows(
    mixed, django_assert_num_queries
):
    count, sql = _count_sql(
        Incident.objects.filter(state="new").select_related("assignee").order_by("-opened_at"),
        django_assert_num_queries,
    )
    assert count == 3  # not the new problem
    assert "incidents_incident" not in sql and "itsm_user" not in sql
    assert "LIMIT 6" in sql.upper()


def test_a_count_filtered_on_the_kinds_own_columns_still_reads_its_table(mixed, django_assert_num_queries):
    count, sql = _count_sql(Incident.objects.filter(impact=1), django_assert_num_queries)
    assert count == 1 and "incidents_incident" in sql
    count, sql = _count_sql(Incident.objects.filter(state="new", impact=3), django_assert_num_queries)
    assert count == 2 and "incidents_incident" in sql


def test_a_count_filtered_through_a_relation_or_a_subquery_about_the_record_keeps_its_join(
    mixed, agent, django_assert_num_queries
):
    mixed[1].collaborators.add(agent)
    count, sql = _count_sql(
        Incident.objects.filter(state="new", collaborators=agent), django_assert_num_queries
    )
    assert count == 1 and "incidents_incident" in sql
    linked = Exists(Incident.collaborators.through.objects.filter(incident=OuterRef("pk")))
    count, sql = _count_sql(Incident.objects.filter(linked, state="new"), django_assert_num_queries)
    assert count == 1 and "incidents_incident" in sql


TO_MANY = {  # each joins the collaborators' table without a condition on it
    "annotation": lambda new: new.annotate(collaborator=F("collaborators__id")),
    "alias": lambda new: new.alias(collaborator=F("collaborators__id")),
    "values": lambda new: new.values("number", "collaborators__id"),
}


@pytest.mark.parametrize("joined", TO_MANY)
def test_a_count_of_rows_a_to_many_join_repeats_keeps_its_join(
    mixed, agent, manager, django_assert_num_queries, joined
):
    """A join through a to-many relation gives a record once per related row: the pages slice
    those rows, so the count must be of them (4 here, not the 3 incidents ``itsm_work`` alone
    would count)."""
    mixed[1].collaborators.add(agent, manager)
    queryset = TO_MANY[joined](Incident.objects.filter(state="new"))
    assert len(queryset) == 4
    count, sql = _count_sql(queryset, django_assert_num_queries)
    assert count == 4 and "incidents_incident" in sql


def test_a_count_annotated_with_the_kinds_own_column_reads_its_table(mixed, django_assert_num_queries):
    count, sql = _count_sql(
        Incident.objects.filter(state="new").annotate(level=F("impact")), django_assert_num_queries
    )
    assert count == 3 and "incidents_incident" in sql


def test_a_count_annotated_with_work_columns_only_still_reads_itsm_work_alone(
    mixed, django_assert_num_queries
):
    count, sql = _count_sql(
        Incident.objects.filter(state="new").annotate(opened=F("opened_at")), django_assert_num_queries
    )
    assert count == 3 and "incidents_incident" not in sql


def test_a_count_of_nothing_is_zero(mixed):
    assert SmallCap(Incident.objects.filter(state="new").none(), 2).count == 0
    assert SmallCap(Incident.objects.filter(state="closed"), 2).count == 0


def test_an_incident_saved_without_its_kind_gets_it(customer):
    incident = Incident.objects.create(number="INC7777777", short_description="Kindless", state="new")
    assert Work.objects.get(pk=incident.pk).kind == "incident"
    assert SmallCap(Incident.objects.filter(state="new"), 2).count == 1


def _counts(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"] and "itsm_work" in q["sql"]]


def test_the_desk_queue_and_the_api_count_open_incidents_without_reading_the_incident_table(
    mixed, agent, api, client
):
    client.force_login(agent)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/desk/incidents/").status_code == 200
    assert len(_counts(captured)) == 1 and "incidents_incident" not in _counts(captured)[0]
    caller = api.as_user(agent)
    with CaptureQueriesContext(connection) as captured:
        body = caller.get("/api/v1/incidents/", {"state": "in_progress"}).json()
    assert body["count"] == 1
    assert len(_counts(captured)) == 1 and "incidents_incident" not in _counts(captured)[0]
