"""The capped count: exact below the cap, a lower bound past it, and every page still served."""

import pytest
from django.core.paginator import EmptyPage

from incidents import services
from incidents.models import Incident
from itsm.pagination import CappedPaginator

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
