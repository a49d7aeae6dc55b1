"""Desk pages for on-call: the list, who is on call now, the 14-day timeline, the forms."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from itsm.models import AssignmentGroup
from itsm.policy.rules import PERMISSIONS
from itsm.roles import PERSONAS, Persona, Role
from oncall import services
from oncall.models import FeedToken, Override, Schedule

pytestmark = pytest.mark.django_db

LIST = reverse("desk:oncall-list")
NOW = reverse("desk:oncall-now")
NEW = reverse("desk:oncall-new")
MY_FEED = reverse("desk:oncall-my-feed")


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return unescape(response.content.decode())


@pytest.fixture
def started():
    """A start at 09:00 UTC three whole days before the last 09:00: the rotation is in its fourth
    day whatever the time of day the test runs (before 09:00 too)."""
    last_nine = (timezone.now() - timedelta(hours=9)).replace(hour=9, minute=0, second=0, microsecond=0)
    return last_nine - timedelta(days=3)


@pytest.fixture
def schedule(make_schedule, alice, bob, started):
    return make_schedule([alice, bob], name="Tier 1 Support On-Call", start=started)


def detail_url(schedule):
    return reverse("desk:oncall-detail", args=[schedule.pk])


# --- Who gets in ----------------------------------------------------------------------------


def test_a_customer_is_refused_every_oncall_page(client, customer, schedule):
    client.force_login(customer)
    for url in (LIST, NOW, NEW, MY_FEED, detail_url(schedule)):
        assert client.get(url).status_code == 403


def test_a_platform_agent_sees_no_schedules(client, schedule):
    client.force_login(make_user("outsider", Role.PLATFORM_AGENT))
    assert "don't include reading on-call schedules" in page(client, LIST)
    assert client.get(detail_url(schedule)).status_code == 404


def test_an_unknown_schedule_is_404(client, agent):
    client.force_login(agent)
    assert client.get(reverse("desk:oncall-detail", args=[999999])).status_code == 404
    assert client.get(f"/desk/oncall/{2**70}/").status_code == 404


# --- Lists ----------------------------------------------------------------------------------


def test_the_list_shows_each_schedule_and_who_is_on_call_now(client, l1, schedule, bob):
    client.force_login(l1)
    html = page(client, LIST)
    assert "Tier 1 Support On-Call" in html
    assert "bob" in html  # day 3 of a two-person daily rotation started 3 days ago: index 1


def test_on_call_now_shows_since_and_until(client, l1, schedule, started):
    client.force_login(l1)
    html = page(client, NOW)
    since = (started + timedelta(days=3)).strftime("%a %-d %b %H:%M")
    assert "bob" in html and since in html


def _count(client, url, django_assert_max_num_queries, bound=14):
    client.get(url)
    with django_assert_max_num_queries(bound) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_list_costs_the_same_queries_for_2_and_25_schedules(
    client, agent, make_schedule, alice, bob, started, django_assert_max_num_queries
):
    client.force_login(agent)
    for n in range(2):
        make_schedule([alice, bob], name=f"S{n:02}", start=started)
    small = _count(client, LIST, django_assert_max_num_queries)
    small_now = _count(client, NOW, django_assert_max_num_queries)
    for n in range(2, 25):
        schedule = make_schedule(
            [alice, bob],
            name=f"S{n:02}",
            start=started,
            assignment_groups=[AssignmentGroup.objects.create(name=f"G{n}")],
        )
        services.override_create(
            schedule=schedule, actor=agent,
            data={"user": alice, "start": timezone.now(), "end": timezone.now() + timedelta(hours=2)},
        )  # fmt: skip
    assert _count(client, LIST, django_assert_max_num_queries) == small
    assert _count(client, NOW, django_assert_max_num_queries) == small_now


# --- The schedule page ----------------------------------------------------------------------


def test_the_schedule_page_draws_14_days_of_blocks(client, l1, schedule):
    client.force_login(l1)
    html = page(client, detail_url(schedule))
    assert len(re.findall(r'<li class="oc-day[ "]', html)) == 14
    assert "On call now" in html
    assert 'class="oc-seg' in html and "left: 0" in html


def test_the_timeline_marks_a_day_when_the_clocks_change(client, l1, make_schedule, alice, monkeypatch):
    # Seen from 20 March 2026, the next 14 days in London include the 23-hour 29 March.
    from datetime import UTC, datetime

    monkeypatch.setattr("oncall.views.timezone.now", lambda: datetime(2026, 3, 20, 12, 0, tzinfo=UTC))
    schedule = make_schedule([alice], time_zone="Europe/London")
    client.force_login(l1)
    html = page(client, detail_url(schedule))
    assert re.search(r"Sun 29 Mar <span[^>]*>\(23 h\)</span>", html)
    assert len(re.findall(r"\(2[35] h\)", html)) == 1


def test_the_schedule_page_costs_the_same_queries_with_few_or_many_overrides(
    client, agent, schedule, alice, bob, django_assert_max_num_queries
):
    client.force_login(agent)
    small = _count(client, detail_url(schedule), django_assert_max_num_queries, bound=20)
    now = timezone.now()
    for n in range(30):
        services.override_create(
            schedule=schedule, actor=agent,
            data={"user": alice if n % 2 else bob, "start": now + timedelta(hours=5 * n), "end": now + timedelta(hours=5 * n + 3)},
        )  # fmt: skip
    assert _count(client, detail_url(schedule), django_assert_max_num_queries, bound=20) == small


# --- Overrides through the desk -------------------------------------------------------------


def local_input(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M")


def test_an_agent_adds_an_override_through_the_form(client, agent, schedule, bob):
    client.force_login(agent)
    start = timezone.now().replace(microsecond=0, second=0) + timedelta(hours=1)
    response = client.post(
        reverse("desk:oncall-override-new", args=[schedule.pk]),
        {
            "participant": bob.pk,
            "start": local_input(start),
            "end": local_input(start + timedelta(hours=3)),
            "reason": "Swap",
        },
    )
    assert response.status_code == 302
    override = Override.objects.get()
    assert (override.user, override.start, override.reason, override.created_by) == (
        bob,
        start,
        "Swap",
        agent,
    )


def test_the_override_form_takes_someone_else_by_username(client, agent, schedule, carol):
    client.force_login(agent)
    start = timezone.now().replace(microsecond=0, second=0)
    client.post(
        reverse("desk:oncall-override-new", args=[schedule.pk]),
        {"username": "carol", "start": local_input(start), "end": local_input(start + timedelta(hours=3))},
    )
    assert Override.objects.get().user == carol


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "nobody"}, "No such user: nobody."),
        ({"username": "customer"}, "Only active service-desk agents can be on call."),
        ({"username": "alice", "end_offset": -1}, "The override must end after it starts."),
        ({}, "Say who covers."),
    ],
)
def test_a_bad_override_comes_back_on_the_form(client, agent, customer, schedule, data, message):
    client.force_login(agent)
    start = timezone.now().replace(microsecond=0, second=0)
    end = start + timedelta(hours=data.pop("end_offset", 3))
    response = client.post(
        reverse("desk:oncall-override-new", args=[schedule.pk]),
        {"start": local_input(start), "end": local_input(end), **data},
    )
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert not Override.objects.exists()


def test_an_agent_removes_an_override_from_the_page(client, agent, schedule, bob):
    now = timezone.now()
    override = services.override_create(
        schedule=schedule, actor=agent, data={"user": bob, "start": now, "end": now + timedelta(hours=2)}
    )
    client.force_login(agent)
    assert "Remove" in page(client, detail_url(schedule))
    response = client.post(reverse("desk:oncall-override-delete", args=[schedule.pk, override.pk]))
    assert response.status_code == 302
    assert not Override.objects.exists()


def test_without_incidents_manage_the_override_form_is_not_offered_nor_accepted(
    monkeypatch, client, l1, schedule, bob
):
    monkeypatch.setitem(PERMISSIONS, "incidents.manage", frozenset({Role.ITSM_MANAGER}))
    client.force_login(l1)
    assert "Add the override" not in page(client, detail_url(schedule))
    now = timezone.now()
    response = client.post(
        reverse("desk:oncall-override-new", args=[schedule.pk]),
        {"participant": bob.pk, "start": local_input(now), "end": local_input(now + timedelta(hours=1))},
    )
    assert response.status_code == 403
    assert not Override.objects.exists()


# --- Schedules through the desk -------------------------------------------------------------


def test_an_agent_creates_a_schedule_with_participants_in_order(client, agent, alice, bob):
    client.force_login(agent)
    response = client.post(
        NEW,
        {
            "name": "Nights",
            "time_zone": "Europe/London",
            "rotation": "weekly",
            "handoff_day": "0",
            "handoff_time": "09:00",
            "start": "2026-03-02T09:00",
            "participants": "bob\nalice\n",
        },
    )
    assert response.status_code == 302
    schedule = Schedule.objects.get()
    assert [row.user for row in schedule.participant_rows.all()] == [bob, alice]
    assert schedule.start.isoformat() == "2026-03-02T09:00:00+00:00"  # GMT in March


def test_the_start_is_read_on_the_schedules_clock(client, agent):
    client.force_login(agent)
    client.post(
        NEW,
        {
            "name": "Summer",
            "time_zone": "Europe/London",
            "rotation": "daily",
            "handoff_time": "09:00",
            "start": "2026-07-01T09:00",
        },
    )
    assert Schedule.objects.get().start.isoformat() == "2026-07-01T08:00:00+00:00"  # BST


def test_a_bad_schedule_comes_back_on_the_form(client, agent, customer):
    client.force_login(agent)
    response = client.post(
        NEW,
        {
            "name": "Bad",
            "time_zone": "UTC",
            "rotation": "weekly",
            "handoff_time": "09:00",
            "start": "2026-03-02T09:00",
            "participants": "customer",
        },
    )
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "A weekly rotation needs a handoff day" in html
    assert "not an active service-desk agent" in html
    assert not Schedule.objects.exists()


def test_an_agent_edits_a_schedule(client, agent, schedule, alice, bob):
    client.force_login(agent)
    url = reverse("desk:oncall-edit", args=[schedule.pk])
    assert "alice\nbob" in page(client, url)
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(participants="bob\nalice", start=form["start"].value().strftime("%Y-%m-%dT%H:%M"))
    data.pop("assignment_groups", None)
    response = client.post(url, data)
    assert response.status_code == 302, unescape(response.content.decode())
    schedule.refresh_from_db()
    assert [row.user for row in schedule.participant_rows.all()] == [bob, alice]


# --- Feeds ----------------------------------------------------------------------------------


def test_the_schedule_page_offers_its_feed_link_and_a_reset(client, agent, schedule):
    client.force_login(agent)
    old = FeedToken.objects.get(schedule=schedule).token
    assert old in page(client, detail_url(schedule))
    client.post(reverse("desk:oncall-feed-reset", args=[schedule.pk]))
    assert FeedToken.objects.get(schedule=schedule).token != old


def test_my_feed_page_shows_my_link_and_my_shifts_and_resets_it(client, alice, schedule):
    client.force_login(alice)
    html = page(client, MY_FEED)
    token = FeedToken.objects.get(user=alice).token
    assert token in html and "Tier 1 Support On-Call" in html
    client.post(MY_FEED)
    assert FeedToken.objects.get(user=alice).token != token


def test_the_desk_home_of_l1_links_nowhere_broken(client):
    # The persona bundles reach the on-call pages.
    user = make_user("l1x", *PERSONAS[Persona.L1_AGENT])
    client.force_login(user)
    assert client.get(LIST).status_code == 200


def test_without_incidents_manage_the_feed_link_cannot_be_reset(monkeypatch, client, l1, schedule):
    monkeypatch.setitem(PERMISSIONS, "incidents.manage", frozenset({Role.ITSM_MANAGER}))
    old = FeedToken.objects.get(schedule=schedule).token
    client.force_login(l1)
    assert "Change the link" not in page(client, detail_url(schedule))
    assert client.post(reverse("desk:oncall-feed-reset", args=[schedule.pk])).status_code == 403
    assert FeedToken.objects.get(schedule=schedule).token == old


# --- Words (issue 17, defect 6) -------------------------------------------------------------


def test_a_whole_day_shift_reads_all_day_not_midnight_to_midnight(client, l1, make_schedule, alice):
    from datetime import UTC, datetime, time

    schedule = make_schedule([alice], handoff_time=time(0), start=datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    client.force_login(l1)
    html = page(client, detail_url(schedule))
    assert "All day: " in html and "all day (rotation)" in html
    assert "00:00 to 00:00" not in html and "00:00–00:00" not in html


def test_the_time_zone_list_offers_canonical_names_only(client, agent):
    client.force_login(agent)
    html = page(client, NEW)
    offered = set(re.findall(r'<option value="([^"]+)"', html))
    assert {"UTC", "Europe/London", "America/New_York", "Asia/Kolkata"} <= offered
    for legacy in ("localtime", "Zulu", "W-SU", "US/Eastern", "Etc/GMT+5", "Asia/Calcutta", "GB", "UCT"):
        assert legacy not in offered, legacy
    response = client.post(
        NEW, {"name": "Legacy", "time_zone": "W-SU", "rotation": "daily", "handoff_time": "09:00",
              "start": "2026-03-02T09:00"},
    )  # fmt: skip
    assert response.status_code == 400 and not Schedule.objects.exists()


def test_a_schedule_stored_with_a_legacy_zone_name_stays_valid_and_editable(client, agent, make_schedule, alice):
    schedule = make_schedule([alice], time_zone="US/Eastern")
    client.force_login(agent)
    url = reverse("desk:oncall-edit", args=[schedule.pk])
    assert '<option value="US/Eastern" selected>' in page(client, url)
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(name="Renamed", participants="alice", start=form["start"].value().strftime("%Y-%m-%dT%H:%M"))
    data.pop("assignment_groups", None)
    response = client.post(url, data)
    assert response.status_code == 302, unescape(response.content.decode())
    schedule.refresh_from_db()
    assert (schedule.name, schedule.time_zone) == ("Renamed", "US/Eastern")
