"""The desk queues refresh themselves (issue 17, item 14): each queue page marks its results to be
re-fetched from the same URL, and the re-fetch (htmx's ``HX-Request``) answers only the results,
with the same filters, the same hidden-field rules, and fewer queries than the page."""

import re

import pytest
from django.urls import reverse

from conftest import make_user
from itsm.roles import Role
from tests.catalog.factories import make_request
from tests.changes.factories import make_change
from tests.incidents.factories import make_incident
from tests.problems.factories import make_problem

pytestmark = pytest.mark.django_db

REFRESH = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "queue-results"}  # as htmx sends them
QUEUES = {
    "work": reverse("desk:home"),
    "incidents": reverse("desk:incident-list"),
    "problems": reverse("desk:problem-list"),
    "changes": reverse("desk:change-list"),
    "requests": reverse("desk:request-list"),
}


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def records(customer, agent):
    """One record of each kind."""
    return {
        "incident": make_incident(requester=customer, short_description="Printer on fire"),
        "problem": make_problem(by=agent, short_description="Disks keep failing"),
        "change": make_change(by=agent, short_description="Patch the web servers"),
        "request": make_request(requester=customer, short_description="New laptop"),
    }


@pytest.mark.parametrize("queue", QUEUES)
def test_a_queue_page_marks_its_results_to_refresh_from_its_own_url_and_loads_htmx(desk, records, queue):
    url = QUEUES[queue]
    html = desk.get(url, {"sort": "number"} if queue != "work" else {"kind": "incident"}).content.decode()
    query = "sort=number" if queue != "work" else "kind=incident"
    assert (
        f'<div id="queue-results" class="queue-results" hx-get="{url}?{query}" hx-trigger="every 30s"' in html
    )
    assert re.search(r'<script src="/static/itsm/vendor/htmx\.min\.js" defer></script>', html)
    assert '<script src="/static/itsm/live.js" defer></script>' in html


@pytest.mark.parametrize("queue", QUEUES)
def test_a_refresh_answers_only_the_queue_results(desk, records, queue):
    response = desk.get(QUEUES[queue], **REFRESH)
    assert response.status_code == 200
    html = response.content.decode().strip()
    assert html.startswith('<div id="queue-results"')
    assert html.endswith("</div>")
    assert "<html" not in html and "site-header" not in html and "<form" not in html.split("<table")[0]
    assert "HX-Request" in response["Vary"]
    # The whole page varies too, so a cache never serves one for the other.
    assert "HX-Request" in desk.get(QUEUES[queue])["Vary"]
    number = {
        "work": records["incident"].number,
        "incidents": records["incident"].number,
        "problems": records["problem"].number,
        "changes": records["change"].number,
        "requests": records["request"].number,
    }[queue]
    assert number in html


def test_htmx_fetching_another_part_of_the_queue_gets_the_whole_page(desk, records):
    """The bulk form's fields, fetched as its card opens (``?open=bulk``), come from the whole page."""
    response = desk.get(QUEUES["incidents"], {"open": "bulk"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" in html
    assert re.search(r'<div class="queue-bulk-fields">\s*<div class="field-inline"><label for="id_action">', html)


def test_a_refresh_keeps_the_filters_of_the_page(desk, customer, agent):
    mine = make_incident(requester=customer, short_description="Mine", assignee=agent)
    other = make_incident(requester=customer, short_description="Not mine")
    html = desk.get(QUEUES["incidents"], {"mine": "on"}, **REFRESH).content.decode()
    assert mine.number in html
    assert other.number not in html


def test_a_refresh_shows_new_work_since_the_page_was_loaded(desk, customer):
    page = desk.get(QUEUES["incidents"]).content.decode()
    late = make_incident(requester=customer, short_description="Raised a moment later")
    assert late.number not in page
    assert late.number in desk.get(QUEUES["incidents"], **REFRESH).content.decode()


def test_a_refresh_with_a_bad_filter_is_a_400_like_the_page(desk, records):
    assert desk.get(QUEUES["incidents"], {"state": "nonsense"}, **REFRESH).status_code == 400


def test_a_refresh_shows_no_column_the_reader_may_not_read(client, organisation, records):
    """A desk user who is no agent reads its own incidents without the hidden fields: the
    refreshed results leave out the same columns as the page."""
    desk_user = make_user("deskuser", Role.PLATFORM_AGENT, organisation=organisation)
    make_incident(requester=desk_user, short_description="My own")
    client.force_login(desk_user)
    html = client.get(QUEUES["incidents"], **REFRESH).content.decode()
    assert "My own" in html
    assert records["incident"].number not in html  # someone else's
    headings = {re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)}
    assert "Number" in headings
    assert not headings & {"Priority", "SLA", "Group", "Assignee"}, headings


def test_anonymous_refresh_is_sent_to_sign_in(client):
    response = client.get(QUEUES["incidents"], **REFRESH)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_customer_refresh_is_refused_like_the_page(client, customer):
    client.force_login(customer)
    assert client.get(QUEUES["incidents"], **REFRESH).status_code == 403


# Session, user with its roles, then the queue's count and rows; the page adds the filter form's choices
# (groups, assignees) and the navigation's unread count.
REFRESH_BOUND = 5


def _queries(client, url, django_assert_max_num_queries, bound, **headers) -> int:
    client.get(url, **headers)  # warm process-wide caches (content types)
    with django_assert_max_num_queries(bound) as captured:
        assert client.get(url, **headers).status_code == 200
    return len(captured)


def test_a_refresh_costs_fewer_queries_than_the_page_and_the_same_for_3_and_30_incidents(
    desk, customer, agent, django_assert_max_num_queries
):
    url = QUEUES["incidents"]
    for n in range(3):
        make_incident(requester=customer, short_description=f"Few {n}", assignee=agent)
    few = _queries(desk, url, django_assert_max_num_queries, REFRESH_BOUND, **REFRESH)
    page = _queries(desk, url, django_assert_max_num_queries, 10)
    assert few < page
    for n in range(27):
        make_incident(requester=customer, short_description=f"Many {n}", assignee=agent)
    assert _queries(desk, url, django_assert_max_num_queries, REFRESH_BOUND, **REFRESH) == few
