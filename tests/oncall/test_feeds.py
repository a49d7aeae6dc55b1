"""Calendar feeds: RFC 5545 text behind secret links that can be reset."""

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from itsm.models import UserRole
from itsm.roles import forget_roles
from oncall import feeds, ics, services
from oncall.models import FeedToken

pytestmark = pytest.mark.django_db


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


def path(token: FeedToken) -> str:
    return feeds.feed_path(token)


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def schedule(make_schedule, alice, bob, now):
    # 09:00 UTC three whole days before the last 09:00, whatever the time of day the test runs.
    start = (now - timedelta(hours=9)).replace(hour=9, minute=0, second=0) - timedelta(days=3)
    return make_schedule([alice, bob], name="Tier 1, nights; weekends", start=start)


# --- RFC 5545 text --------------------------------------------------------------------------


def test_long_lines_are_folded_at_75_octets_without_splitting_characters():
    line = "SUMMARY:" + "é" * 100
    folded = ics.fold(line)
    physical = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in physical)
    assert all(p.startswith(" ") for p in physical[1:])
    assert folded.replace("\r\n ", "") == line


def test_text_values_escape_backslash_semicolon_comma_and_newline():
    assert ics.text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"


def test_a_schedule_feed_is_a_calendar_of_its_shifts_in_utc(client, schedule, now, monkeypatch):
    # The feed runs 90 days from the moment it is asked: pin that moment to the test's own, or
    # a request that starts in the next second ends a second later (a flake seen in CI).
    monkeypatch.setattr(timezone, "now", lambda: now)
    response = client.get(path(schedule.feed))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    lines = unfold(body)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    assert "X-WR-CALNAME:On call: Tier 1\\, nights\\; weekends" in lines
    found = events(body)
    assert found
    for event in found:
        for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert name in event
        for name in ("DTSTAMP", "DTSTART", "DTEND"):
            assert re.fullmatch(r"\d{8}T\d{6}Z", event[name])
    assert len({e["UID"] for e in found}) == len(found)
    assert {e["SUMMARY"] for e in found} == {"On call: alice", "On call: bob"}
    last = max(datetime.strptime(e["DTEND"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) for e in found)
    assert last == now + timedelta(days=90)


def test_a_feed_marks_overrides(client, schedule, agent, carol, now):
    services.override_create(
        schedule=schedule,
        actor=agent,
        data={"user": carol, "start": now + timedelta(days=2), "end": now + timedelta(days=3)},
    )
    found = events(client.get(path(schedule.feed)).content.decode())
    assert "On call: carol (override)" in {e["SUMMARY"] for e in found}


def test_a_persons_feed_lists_only_their_own_shifts_in_every_schedule(
    client, make_schedule, schedule, alice, carol, now
):
    make_schedule([carol, alice], name="Databases", start=schedule.start)
    body = client.get(path(services.person_feed(user=alice))).content.decode()
    summaries = {e["SUMMARY"] for e in events(body)}
    assert summaries == {"On call: Tier 1\\, nights\\; weekends", "On call: Databases"}
    carol_body = client.get(path(services.person_feed(user=carol))).content.decode()
    assert {e["SUMMARY"] for e in events(carol_body)} == {"On call: Databases"}


def test_event_ids_stay_the_same_from_one_fetch_to_the_next(client, schedule):
    first = [e["UID"] for e in events(client.get(path(schedule.feed)).content.decode())]
    second = [e["UID"] for e in events(client.get(path(schedule.feed)).content.decode())]
    assert first == second


# --- The secret link ------------------------------------------------------------------------


def test_a_wrong_token_is_404(client, schedule):
    token = schedule.feed
    assert client.get(f"/oncall/feeds/{token.pk}/{'x' * 43}.ics").status_code == 404
    assert client.get(f"/oncall/feeds/{token.pk + 1000}/{token.token}.ics").status_code == 404
    assert client.get(f"/oncall/feeds/{2**70}/{token.token}.ics").status_code == 404


def test_after_a_reset_the_old_link_is_404_and_the_new_one_works(client, agent, schedule):
    old = path(schedule.feed)
    token = services.feed_reset(actor=agent, schedule=schedule)
    assert client.get(old).status_code == 404
    assert client.get(path(token)).status_code == 200


def test_a_persons_old_link_is_404_after_they_reset_it(client, alice):
    old = path(services.person_feed(user=alice))
    new = path(services.feed_reset(actor=alice, person=alice))
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_tokens_are_compared_in_constant_time(client, schedule):
    with mock.patch("oncall.feeds.hmac.compare_digest", return_value=False) as compare:
        assert client.get(path(schedule.feed)).status_code == 404
    compare.assert_called_once()


def test_a_person_who_lost_the_agent_role_loses_their_feed(client, alice):
    link = path(services.person_feed(user=alice))
    UserRole.objects.filter(user=alice).delete()
    forget_roles(alice)
    assert client.get(link).status_code == 404


def test_the_feed_needs_no_sign_in_and_answers_only_get(client, schedule):
    assert client.get(path(schedule.feed)).status_code == 200
    assert client.post(path(schedule.feed)).status_code == 405
