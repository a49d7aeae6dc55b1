"""The change calendar's iCalendar feed (issue 14 item 7): RFC 5545 text behind a secret per-person
link, which its owner resets (the old link then stops working); a link whose owner may not read
changes shows nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from changes import feeds
from changes.models import CalendarFeedToken, ChangeFreeze, MaintenanceWindow
from itsm.models import AuditEntry, UserRole
from itsm.roles import forget_roles
from tests.changes.factories import make_change

pytestmark = pytest.mark.django_db

API = "/api/v1/change-calendar/"


def unfold(body: str) -> list[str]:
    """Content lines of an iCalendar text (RFC 5545 §3.1 unfolding)."""
    assert "\n" not in body.replace("\r\n", "")  # every line ends in CRLF
    return body.replace("\r\n ", "").split("\r\n")[:-1]


def events(body: str) -> list[dict[str, str]]:
    result, current = [], None
    for line in unfold(body):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            result.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return result


def link_path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.fixture
def soon():
    return (timezone.now() + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture
def planned(agent, lead, soon):
    change = make_change(
        by=agent, short_description="Patch the core switches; both racks", planned_start=soon,
        planned_end=soon + timedelta(hours=2),
    )  # fmt: skip
    window = MaintenanceWindow.objects.create(
        name="Sunday patching", start=soon + timedelta(days=1), end=soon + timedelta(days=1, hours=4), created_by=lead
    )
    freeze = ChangeFreeze.objects.create(
        name="Year-end", start=soon + timedelta(days=30), end=soon + timedelta(days=40), created_by=lead
    )
    return change, window, freeze


def test_an_agent_gets_a_feed_link_from_the_api_and_the_feed_lists_the_calendar(api, client, agent, planned):
    change, window, freeze = planned
    r = api.as_user(agent).get(f"{API}feed/")
    assert r.status_code == 200, r.content
    url = r.json()["feed_url"]
    assert url.startswith("http://testserver/changes/feeds/") and url.endswith(".ics")
    response = client.get(link_path(url))  # no sign-in: a calendar app subscribes
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    lines = unfold(body)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR" and "VERSION:2.0" in lines
    assert "PRODID:-//ITSM//Change calendar//EN" in lines
    found = {e["UID"]: e for e in events(body)}
    assert set(found) == {
        f"change-{change.pk}@itsm-changes", f"maintenance-{window.pk}@itsm-changes",
        f"freeze-{freeze.pk}@itsm-changes",
    }  # fmt: skip
    event = found[f"change-{change.pk}@itsm-changes"]
    assert "Patch the core switches\\; both racks" in event["SUMMARY"]  # RFC 5545 escaping
    assert event["SUMMARY"].startswith("Change")
    assert "normal change\\, draft\\, risk " in event["DESCRIPTION"]
    assert event["DTSTART"] == change.planned_start.strftime("%Y%m%dT%H%M%SZ")
    assert found[f"maintenance-{window.pk}@itsm-changes"]["SUMMARY"].startswith("Maintenance")
    assert found[f"freeze-{freeze.pk}@itsm-changes"]["SUMMARY"].startswith("Change freeze")


def test_the_link_is_the_same_until_reset(api, agent):
    first = api.as_user(agent).get(f"{API}feed/").json()["feed_url"]
    assert api.as_user(agent).get(f"{API}feed/").json()["feed_url"] == first
    assert CalendarFeedToken.objects.filter(user=agent).count() == 1


def test_resetting_the_link_stops_the_old_one(api, client, agent, planned):
    old = api.as_user(agent).get(f"{API}feed/").json()["feed_url"]
    r = api.as_user(agent).post(f"{API}feed/reset/")
    assert r.status_code == 200, r.content
    new = r.json()["feed_url"]
    assert new != old
    assert client.get(link_path(old)).status_code == 404
    assert client.get(link_path(new)).status_code == 200
    token = CalendarFeedToken.objects.get(user=agent)
    entry = AuditEntry.objects.get(object_id=str(token.pk), field="feed_link")
    assert token.token not in (entry.old_value + entry.new_value)  # the journal never holds the secret


def test_a_wrong_secret_or_id_is_404(client, agent):
    token = feeds.feed_token(user=agent)
    assert client.get(f"/changes/feeds/{token.pk}/{'x' * 43}.ics").status_code == 404
    assert client.get(f"/changes/feeds/{token.pk + 1}/{token.token}.ics").status_code == 404
    assert client.get(f"/changes/feeds/99999999999999999999999/{token.token}.ics").status_code == 404


def test_a_link_stops_working_when_its_owner_may_no_longer_read_changes(client, agent, planned):
    token = feeds.feed_token(user=agent)
    assert client.get(feeds.feed_path(token)).status_code == 200
    UserRole.objects.filter(user=agent).exclude(role="platform_selfservice").delete()
    forget_roles(agent)
    assert client.get(feeds.feed_path(token)).status_code == 404


def test_a_deactivated_owner_s_link_stops_working(client, agent):
    token = feeds.feed_token(user=agent)
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert client.get(feeds.feed_path(token)).status_code == 404


def test_a_customer_gets_no_feed_link_and_a_customer_token_shows_nothing(api, client, customer, planned):
    assert api.as_user(customer).get(f"{API}feed/").status_code == 404
    assert not CalendarFeedToken.objects.filter(user=customer).exists()
    # A token made for a customer by other means (e.g. before its roles were taken away).
    token = CalendarFeedToken.objects.create(user=customer)
    response = client.get(feeds.feed_path(token))
    assert response.status_code == 404 and b"Patch" not in response.content


def test_the_feed_answers_only_reads(client, agent):
    token = feeds.feed_token(user=agent)
    assert client.post(feeds.feed_path(token)).status_code == 405


def test_the_feed_covers_the_past_month_and_the_next_six_months(agent, lead):
    now = timezone.now()
    inside = MaintenanceWindow.objects.create(
        name="Later", start=now + timedelta(days=170), end=now + timedelta(days=170, hours=1), created_by=lead
    )
    MaintenanceWindow.objects.create(
        name="Too far", start=now + timedelta(days=200), end=now + timedelta(days=200, hours=1), created_by=lead
    )
    MaintenanceWindow.objects.create(
        name="Long ago", start=now - timedelta(days=60), end=now - timedelta(days=59), created_by=lead
    )
    body = feeds.calendar_text(feeds.feed_token(user=agent), now=now)
    assert [e["UID"] for e in events(body)] == [f"maintenance-{inside.pk}@itsm-changes"]
