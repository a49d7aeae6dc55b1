"""Keyset ("cursor") pagination: past the capped count, lists go on by cursor instead of a deep
OFFSET, in the API (``?cursor=``) and on the desk and portal pages (``?after=`` / ``?before=``).

The cap is made small here (``CappedPaginator.cap``) so a dozen rows stand in for a million."""

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.models import Incident
from itsm import policy
from itsm.models import Work
from itsm.pagination import CURSOR_INVALID, CURSOR_UNAVAILABLE, CappedPaginator, Keyset, keyset_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"
CAP = 4
ORDERINGS = {
    None: ("-opened_at", "-id"),
    "priority": ("priority", "-opened_at", "-id"),
    "-priority": ("-priority", "opened_at", "id"),  # the list upside down (itsm.ordering)
    "state": ("state", "-opened_at", "-id"),
    "number": ("number",),
}


@pytest.fixture(autouse=True)
def small_cap(monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", CAP)


@pytest.fixture
def incidents(customer):
    """Thirteen incidents of ``customer`` with ties everywhere: up to three share each moment and
    the priorities repeat, so only the tiebreak (newest first, then id) orders them fully. The
    moments are shuffled against the ids, so no field's order can stand in for another's."""
    base = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    rows = []
    for n in range(13):
        incident = Incident.objects.create(
            number=f"INC{n:07d}",
            kind=Incident.KIND,
            state="new" if n % 2 else "in_progress",
            short_description=f"Printer {n}",
            priority=("P1", "P2", "P3")[n % 3],
            requester=customer,
        )
        rows.append(incident)
    for n, incident in enumerate(rows):
        Incident.objects.filter(pk=incident.pk).update(opened_at=base + timedelta(minutes=(n * 7) % 13 // 3))
    return rows


def expected(ordering, model=Incident):
    """The ids in the order the list promises (``ordering``: an API ``ordering``, or the fields)."""
    fields = ordering if isinstance(ordering, tuple) else ORDERINGS[ordering]
    return list(model.objects.order_by(*fields).values_list("pk", flat=True))


def decode(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def token_of(link: str) -> str:
    return re.search(r"[?&]cursor=([^&]+)", link).group(1)


def walk(client, url, params, *, key="next"):
    """Follow ``next`` (or ``previous``) from ``url`` to the end; every page's ids and the links."""
    response = client.get(url, params)
    pages, links = [], []
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([row["id"] for row in body["results"]])
        assert {"count", "count_capped"} <= set(body)  # on every page, by number or by cursor
        if not body[key]:
            return pages, links
        links.append(body[key])
        response = client.get(body[key])


# --- The API --------------------------------------------------------------------------------


@pytest.mark.parametrize("ordering", list(ORDERINGS))
def test_following_next_returns_every_incident_once_in_order(incidents, agent, api, ordering):
    params = {"page_size": 2, **({"ordering": ordering} if ordering else {})}
    pages, links = walk(api.as_user(agent), URL, params)
    assert [pk for page in pages for pk in page] == expected(ordering)
    # Page numbers while the next page starts within the counted rows (4), then cursors only.
    assert "page=2" in links[0] and "cursor=" not in links[0]
    assert all("cursor=" in link and "page=" not in link for link in links[1:])


def test_following_next_through_the_work_queue_returns_every_record_once(incidents, agent, api):
    pages, links = walk(api.as_user(agent), "/api/v1/work/", {"page_size": 3})
    assert [pk for page in pages for pk in page] == expected(None, Work)
    assert "cursor=" in links[-1]


def test_a_cursor_page_keeps_the_capped_count(incidents, agent, api):
    client = api.as_user(agent)
    link = client.get(URL, {"page_size": 2, "page": 2}).json()["next"]
    body = client.get(link).json()
    assert (body["count"], body["count_capped"]) == (CAP, True)


def test_below_the_cap_next_keeps_page_numbers(incidents, agent, api, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 1_000)
    pages, links = walk(api.as_user(agent), URL, {"page_size": 5})
    assert [pk for page in pages for pk in page] == expected(None)
    assert [parse_qs(urlsplit(link).query)["page"] for link in links] == [["2"], ["3"]]


@pytest.mark.parametrize("ordering", [None, "priority"])
def test_following_previous_from_the_last_page_returns_the_same_pages_backwards(
    incidents, agent, api, ordering
):
    client = api.as_user(agent)
    params = {"page_size": 2, **({"ordering": ordering} if ordering else {})}
    forward, links = walk(client, URL, params)
    backward, back_links = walk(client, links[-1], {}, key="previous")
    assert backward == list(reversed(forward))  # read back to the first page, by cursor
    assert all("cursor=" in link for link in back_links)


def test_previous_on_the_first_cursor_page_leads_to_the_rows_before_it(incidents, agent, api):
    client = api.as_user(agent)
    page2 = client.get(URL, {"page_size": 2, "page": 2}).json()
    page3 = client.get(page2["next"]).json()
    assert [row["id"] for row in client.get(page3["previous"]).json()["results"]] == [
        row["id"] for row in page2["results"]
    ]


def _token(payload: dict) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _good(**changes) -> dict:
    payload = {
        "ordering": ["-opened_at", "-id"],
        "values": ["2024-05-01T09:01:00+00:00", 5],
        "direction": "next",
    }
    return {**payload, **changes}


BAD_CURSORS = {
    "garbage": "garbage!",
    "not json": base64.urlsafe_b64encode(b"not json").decode(),
    "not an object": _token([1, 2]),
    "missing keys": _token({"values": [1]}),
    "another ordering": _token(_good(ordering=["priority", "-opened_at", "-id"])),
    "too few values": _token(_good(values=[5])),
    "an id as text": _token(_good(values=["2024-05-01T09:01:00+00:00", "5"])),
    "an id as a float": _token(_good(values=["2024-05-01T09:01:00+00:00", 5.0])),
    "an id past 64 bits": _token(_good(values=["2024-05-01T09:01:00+00:00", 2**70])),
    "a time without zone": _token(_good(values=["2024-05-01T09:01:00", 5])),
    "a time in another zone": _token(_good(values=["2024-05-01T11:01:00+02:00", 5])),
    "not a time": _token(_good(values=["yesterday", 5])),
    "a null": _token(_good(values=[None, 5])),
    "an unknown direction": _token(_good(direction="sideways")),
    "too long": "A" * 5_000,
}


@pytest.mark.parametrize("token", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
def test_a_cursor_that_does_not_fit_the_list_is_a_400_naming_cursor(incidents, agent, api, token):
    response = api.as_user(agent).get(URL, {"cursor": token})
    assert response.status_code == 400
    assert response.json() == {"cursor": [CURSOR_INVALID]}


def test_a_cursor_made_in_one_ordering_is_a_400_in_another(incidents, agent, api):
    client = api.as_user(agent)
    link = client.get(URL, {"page_size": 2, "page": 2, "ordering": "priority"}).json()["next"]
    response = client.get(URL, {"cursor": token_of(link), "ordering": "-priority"})
    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]


def test_a_string_with_a_nul_character_is_refused_as_a_cursor_not_a_database_error(incidents, agent, api):
    token = _token({"ordering": ["number"], "values": ["INC\x00"], "direction": "next"})
    response = api.as_user(agent).get(URL, {"ordering": "number", "cursor": token})
    assert response.status_code == 400 and list(response.json()) == ["cursor"]


def test_a_customers_cursor_carries_only_fields_it_may_read(incidents, customer, api):
    client = api.as_user(customer)
    hidden = policy.hidden_fields(customer, Incident)
    assert "priority" in hidden
    for ordering in (None, "priority", "-priority", "impact", "number", "state"):
        params = {"page_size": 2, **({"ordering": ordering} if ordering else {})}
        _, links = walk(client, URL, params)
        cursors = [decode(token_of(link)) for link in links if "cursor=" in link]
        assert cursors, ordering
        for cursor in cursors:
            assert not {name.lstrip("-") for name in cursor["ordering"]} & hidden
            assert not {"P1", "P2", "P3"} & set(cursor["values"])  # no priority value rides along


def test_no_cursor_is_offered_on_a_field_hidden_from_the_reader(incidents, customer, agent):
    queryset = Incident.objects.order_by("priority", "-id")
    assert keyset_for(queryset, user=customer) is None
    assert keyset_for(queryset, user=agent).ordering == ("priority", "-id")


@pytest.mark.parametrize(
    "ordering",
    [
        ("resolved_at", "-id"),  # nullable: NULLs would be skipped by a > bound
        ("priority",),  # not total: ties have no order
        ("assignee", "-id"),  # a relation orders by the related model's ordering
        ("requester__username", "-id"),  # a lookup across a relation
    ],
)
def test_orderings_a_cursor_cannot_follow_keep_page_numbers(incidents, agent, ordering):
    assert keyset_for(Incident.objects.order_by(*ordering), user=agent) is None


def test_the_keyset_stops_at_the_first_unique_field(agent):
    keyset = keyset_for(Incident.objects.order_by("-number", "-opened_at", "-id", "-pk"), user=agent)
    assert isinstance(keyset, Keyset) and keyset.ordering == ("-number",)


def test_a_cursor_page_bounds_the_leading_field_so_an_index_range_serves_it(incidents, agent, api):
    client = api.as_user(agent)
    link = client.get(URL, {"page_size": 2, "page": 2}).json()["next"]
    with CaptureQueriesContext(connection) as captured:
        assert client.get(link).status_code == 200
    bounded = [q["sql"] for q in captured.captured_queries if '"opened_at" <= ' in q["sql"]]
    assert len(bounded) == 1  # the page's query, with the bound outside the OR expansion
    assert "OFFSET" not in bounded[0].upper() and "LIMIT 3" in bounded[0].upper()


CURSOR_PAGE_BOUND = 12  # session, token, roles, count, page, one per prefetched relation


def test_a_cursor_page_costs_the_same_queries_for_2_and_8_rows(
    incidents, agent, api, django_assert_max_num_queries
):
    client = api.as_user(agent)

    def queries(size):
        link = client.get(URL, {"page_size": size, "page": 1 + CAP // size}).json()["next"]
        assert "cursor=" in link
        with django_assert_max_num_queries(CURSOR_PAGE_BOUND) as captured:
            body = client.get(link).json()
        assert body["results"]
        return len(captured)

    assert queries(2) == queries(8)


def test_the_schema_documents_the_cursor_parameter(agent, api):
    schema = api.as_user(agent).get("/api/schema/", {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/incidents/"]["get"]["parameters"]
    assert "cursor" in {p["name"] for p in parameters}


# --- The desk and portal pages ----------------------------------------------------------------


NEXT_LINK = re.compile(r'href="([^"]*)" rel="next"')
PREVIOUS_LINK = re.compile(r'href="([^"]*)" rel="prev"')


def page_walk(client, url, link=NEXT_LINK):
    """Follow the page's Next (or Previous) link to the end: each page's rows and the links."""
    response = client.get(url)
    pages, hrefs, html = [], [], []
    while True:
        assert response.status_code == 200
        pages.append([row.pk for row in response.context["page"].object_list])
        html.append(unescape(response.content.decode()))
        found = link.search(html[-1])
        if not found:
            return pages, hrefs, html
        hrefs.append(unescape(found.group(1)))
        response = client.get(url.split("?")[0] + hrefs[-1])


@pytest.fixture
def small_pages(monkeypatch):
    for module in ("incidents.views.desk.queue", "incidents.views.portal", "itsm.views.pages"):
        monkeypatch.setattr(f"{module}.PAGE_SIZE", 2)


def test_desk_queue_says_more_than_when_capped_and_its_next_link_walks_on(
    incidents, agent, client, small_pages
):
    client.force_login(agent)
    pages, hrefs, html = page_walk(client, reverse("desk:incident-list") + "?sort=priority")
    assert "more than 4 incidents" in html[0]
    assert "Page 1" in html[0] and "Page 1 of" not in html[0]
    as_the_api = expected(("priority", "-opened_at", "-id"))
    assert [pk for page in pages for pk in page] == as_the_api
    assert hrefs[0] == "?sort=priority&page=2"
    assert all("after=" in href and "sort=priority" in href for href in hrefs[1:])
    assert "Page 7" in html[-1]  # the page number rides along as a label


def test_desk_queue_previous_link_walks_back_by_cursor(incidents, agent, client, small_pages):
    client.force_login(agent)
    list_url = reverse("desk:incident-list")
    forward, hrefs, _ = page_walk(client, list_url)
    backward, back_hrefs, html = page_walk(client, list_url + hrefs[-1], link=PREVIOUS_LINK)
    assert backward == list(reversed(forward))
    assert "before=" in back_hrefs[0]
    assert "Page 1" in html[-1]


def test_desk_sort_links_start_the_new_order_at_its_first_page(incidents, agent, client, small_pages):
    client.force_login(agent)
    list_url = reverse("desk:incident-list")
    _, _, html = page_walk(client, list_url)
    assert "after=" not in re.search(r'class="sort-link" href="([^"]*)"', html[-1]).group(1)


def test_a_page_link_whose_cursor_does_not_fit_shows_the_first_page_and_says_so(
    incidents, agent, client, small_pages
):
    client.force_login(agent)
    list_url = reverse("desk:incident-list")
    first = client.get(list_url)
    going_back = _token(_good(ordering=["-opened_at", "-pk"], direction="previous"))
    for params in ({"after": "garbage"}, {"after": going_back}, {"before": "garbage"}):
        response = client.get(list_url, params)
        assert response.status_code == 200
        assert [i.pk for i in response.context["page"].object_list] == [
            i.pk for i in first.context["page"].object_list
        ]
        assert "That page link did not fit this list" in unescape(response.content.decode())


@pytest.mark.parametrize(
    ("url_name", "user_fixture", "model", "word"),
    [
        ("portal:incident-list", "customer", Incident, "incidents"),
        ("portal:home", "customer", Incident, None),
        ("desk:home", "agent", Work, "records"),
    ],
)
def test_portal_and_desk_home_lists_walk_past_the_cap_by_cursor(
    incidents, url_name, user_fixture, model, word, client, request, small_pages
):
    client.force_login(request.getfixturevalue(user_fixture))
    pages, hrefs, html = page_walk(client, reverse(url_name))
    assert [pk for page in pages for pk in page] == expected(None, model)
    assert "after=" in hrefs[-1]
    if word:
        assert f"more than 4 {word}" in html[0]


def test_below_the_cap_pages_say_how_many_there_are(incidents, agent, client, small_pages, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 1_000)
    client.force_login(agent)
    pages, hrefs, html = page_walk(client, reverse("desk:incident-list"))
    assert "13 incidents" in html[0] and "Page 1 of 7" in html[0]
    assert all("after=" not in href for href in hrefs)
    assert [pk for page in pages for pk in page] == expected(None)


def test_an_ordering_on_a_nullable_field_keeps_page_numbers_and_refuses_cursors(
    incidents, agent, api, monkeypatch
):
    from incidents.api.views import IncidentViewSet

    monkeypatch.setattr(IncidentViewSet, "ordering_fields", [*IncidentViewSet.ordering_fields, "resolved_at"])
    client = api.as_user(agent)
    pages, links = walk(client, URL, {"page_size": 2, "ordering": "resolved_at"})
    assert sorted(pk for page in pages for pk in page) == sorted(i.pk for i in incidents)
    assert all("cursor=" not in link for link in links)
    token = token_of(client.get(URL, {"page_size": 2, "page": 3}).json()["next"])
    response = client.get(URL, {"ordering": "resolved_at", "cursor": token})
    assert response.status_code == 400
    assert response.json() == {"cursor": [CURSOR_UNAVAILABLE]}


@pytest.mark.parametrize(
    ("who", "path"),
    [("agent", "desk:incident-list"), ("agent", "desk:home"), ("customer", "portal:incident-list")],
)
def test_a_page_reached_by_cursor_costs_the_same_queries_as_the_first_for_2_and_8_rows(
    incidents, agent, customer, client, monkeypatch, django_assert_max_num_queries, who, path
):
    client.force_login(agent if who == "agent" else customer)
    counts = []
    for size in (2, 8):
        for module in ("incidents.views.desk.queue", "incidents.views.portal", "itsm.views.pages"):
            monkeypatch.setattr(f"{module}.PAGE_SIZE", size)
        _, hrefs, _ = page_walk(client, reverse(path))
        deep = next(href for href in hrefs if "after=" in href)
        for url in (reverse(path), reverse(path) + deep):
            with django_assert_max_num_queries(12) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured.captured_queries))
    assert len(set(counts)) == 1, counts
