"""``/api/v1/change-calendar/`` (issue 14 item 7): changes, maintenance windows and freezes between
two moments, colour-coded and labelled; start and end are required ISO dates or date-times; a
range over 366 days is a 400 naming it; self-service users get 404."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from changes.models import ChangeFreeze, MaintenanceWindow
from tests.changes.factories import make_change

pytestmark = pytest.mark.django_db

URL = "/api/v1/change-calendar/"


def at(day: int, hour: int = 0, month: int = 3) -> datetime:
    return datetime(2030, month, day, hour, tzinfo=UTC)


@pytest.fixture
def month(agent, lead):
    """March 2030: a change, a maintenance window, a freeze; and things outside the month."""
    change = make_change(
        by=agent, short_description="Patch the core switches", planned_start=at(10, 22), planned_end=at(11, 2)
    )
    window = MaintenanceWindow.objects.create(name="Sunday patching", start=at(3, 1), end=at(3, 5), created_by=lead)
    freeze = ChangeFreeze.objects.create(name="Quarter end", start=at(28), end=at(2, 0, 4), created_by=lead)
    MaintenanceWindow.objects.create(name="February", start=at(1, 1, 2), end=at(1, 5, 2), created_by=lead)
    make_change(by=agent, short_description="May work", planned_start=at(5, 9, 5), planned_end=at(5, 10, 5))
    return change, window, freeze


def test_the_calendar_lists_changes_windows_and_freezes_in_the_range(api, agent, month):
    change, window, freeze = month
    r = api.as_user(agent).get(URL, {"start": "2030-03-01", "end": "2030-04-01"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["start"] == "2030-03-01T00:00:00Z" and body["end"] == "2030-04-01T00:00:00Z"
    found = {(e["kind"], e["id"]) for e in body["results"]}
    assert found == {("change", change.pk), ("maintenance", window.pk), ("freeze", freeze.pk)}


def test_entries_are_colour_coded_and_labelled_in_words(api, agent, month):
    body = api.as_user(agent).get(URL, {"start": "2030-03-01", "end": "2030-04-01"}).json()
    by_kind = {e["kind"]: e for e in body["results"]}
    assert by_kind["change"]["colour"] == "blue"
    assert by_kind["maintenance"]["colour"] == "green"
    assert by_kind["freeze"]["colour"] == "red"
    assert all(e["label"] for e in body["results"])
    assert "Patch the core switches" in by_kind["change"]["title"]
    assert by_kind["change"]["start"] == "2030-03-10T22:00:00Z" and by_kind["change"]["end"] == "2030-03-11T02:00:00Z"


def test_an_entry_overlapping_the_range_edge_is_listed(api, agent, month):
    # The freeze runs from 28 March to 2 April: April's calendar shows it too.
    body = api.as_user(agent).get(URL, {"start": "2030-04-01T00:00:00Z", "end": "2030-04-08T00:00:00Z"}).json()
    assert [e["kind"] for e in body["results"]] == ["freeze"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "2030-04-01"}, "start"),
        ({"start": "2030-03-01"}, "end"),
        ({"start": "yesterday", "end": "2030-04-01"}, "start"),
        ({"start": "2030-03-01", "end": "2030-02-30"}, "end"),
        ({"start": "0001-01-01", "end": "2030-04-01"}, "start"),
    ],
)
def test_a_missing_or_invalid_date_is_a_400_naming_the_parameter(api, agent, params, field):
    r = api.as_user(agent).get(URL, params)
    assert r.status_code == 400, r.content
    assert field in r.json()


def test_a_range_over_366_days_is_a_400_naming_the_range(api, agent):
    r = api.as_user(agent).get(URL, {"start": "2030-01-01", "end": "2031-01-03"})
    assert r.status_code == 400, r.content
    body = r.json()
    assert "end" in body and "366" in str(body)


def test_a_range_of_366_days_is_allowed(api, agent):
    assert api.as_user(agent).get(URL, {"start": "2032-01-01", "end": "2033-01-01"}).status_code == 200


def test_an_end_before_the_start_is_a_400_naming_end(api, agent):
    r = api.as_user(agent).get(URL, {"start": "2030-03-10", "end": "2030-03-01"})
    assert r.status_code == 400 and "end" in r.json(), r.content


def test_self_service_users_get_404_on_the_calendar(api, customer, month):
    client = api.as_user(customer)
    assert client.get(URL, {"start": "2030-03-01", "end": "2030-04-01"}).status_code == 404
    assert client.get(f"{URL}feed/").status_code == 404
    assert client.post(f"{URL}feed/reset/").status_code == 404


def test_anonymous_requests_are_refused(api):
    # Session authentication comes first, so DRF answers 403 (no WWW-Authenticate challenge).
    assert api.get(URL, {"start": "2030-03-01", "end": "2030-04-01"}).status_code == 403


def test_calendar_query_count_is_fixed(api, agent, lead, django_assert_max_num_queries):
    for day in range(1, 25):
        make_change(by=agent, short_description=f"C{day}", planned_start=at(day, 9), planned_end=at(day, 10))
        MaintenanceWindow.objects.create(name=f"W{day}", start=at(day, 1), end=at(day, 2), created_by=lead)
    client = api.as_user(agent)
    # the token with its user and roles, the changes, the windows, the freezes
    with django_assert_max_num_queries(4):
        r = client.get(URL, {"start": "2030-03-01", "end": "2030-04-01"})
    assert r.status_code == 200 and len(r.json()["results"]) == 48
