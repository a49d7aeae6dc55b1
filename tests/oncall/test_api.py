"""``/api/v1/oncall-schedules/``: schedules, who is on call, blocks, overrides and feed links."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from conftest import make_user
from itsm.models import AssignmentGroup
from itsm.policy.rules import PERMISSIONS
from itsm.roles import Role
from oncall import services
from oncall.models import FeedToken, Override, Schedule

pytestmark = pytest.mark.django_db

URL = "/api/v1/oncall-schedules/"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def detail(schedule, suffix=""):
    return f"{URL}{schedule.pk}/{suffix}"


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.fixture
def schedule(make_schedule, alice, bob, carol):
    return make_schedule([alice, bob, carol])


# --- Who may do what ------------------------------------------------------------------------


def test_a_customer_may_not_list_read_or_create_schedules(api, customer, schedule):
    api.as_user(customer)
    assert api.get(URL).status_code == 403
    assert api.get(detail(schedule)).status_code in (403, 404)
    assert api.get(detail(schedule, "who/")).status_code in (403, 404)
    assert api.post(URL, {"name": "Mine", "start": iso(T0)}, format="json").status_code == 403
    assert api.get(f"{URL}my-feed/").status_code == 403


def test_a_platform_agent_without_itsm_roles_may_not_read_schedules(api, schedule):
    api.as_user(make_user("outsider", Role.PLATFORM_AGENT))
    assert api.get(URL).status_code == 403


def test_an_agent_reads_schedules_with_participants_in_order(api, l1, schedule, alice, bob, carol):
    body = api.as_user(l1).get(URL).json()
    assert body["count"] == 1
    item = body["results"][0]
    assert item["participants"] == [alice.pk, bob.pk, carol.pk]
    assert item["feed_url"].startswith("http://testserver/oncall/feeds/")


def test_incidents_manage_creates_a_schedule(api, agent, alice, bob):
    group = AssignmentGroup.objects.create(name="Network")
    response = api.as_user(agent).post(
        URL,
        {
            "name": "Tier 1 Support On-Call",
            "time_zone": "Europe/London",
            "rotation": "weekly",
            "handoff_day": 0,
            "handoff_time": "09:00",
            "start": "2026-03-02T09:00:00Z",
            "participants": [bob.pk, alice.pk],
            "assignment_groups": [group.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["participants"] == [bob.pk, alice.pk]
    assert response.json()["assignment_groups"] == [group.pk]


def test_managing_schedules_is_refused_without_incidents_manage(monkeypatch, api, l1, schedule, alice):
    monkeypatch.setitem(PERMISSIONS, "incidents.manage", frozenset({Role.ITSM_MANAGER}))
    api.as_user(l1)
    assert api.get(detail(schedule, "who/")).status_code == 200  # still reads
    body = {"user": alice.pk, "start": iso(T0), "end": iso(T0 + timedelta(hours=2))}
    assert api.post(detail(schedule, "overrides/"), body, format="json").status_code == 403
    assert api.post(detail(schedule, "feed-token/reset/")).status_code == 403
    assert not Override.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rotation": "weekly"}, "handoff_day"),
        ({"rotation": "weekly", "handoff_day": 7}, "handoff_day"),
        ({"rotation": "custom", "custom_rotation_hours": 0}, "custom_rotation_hours"),
        ({"rotation": "custom"}, "custom_rotation_hours"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2999-01-01T00:00:00Z"}, "start"),
        ({"participants": [2**70]}, "participants"),
        ({"participants": "alice"}, "participants"),
        ({"rotation": "hourly"}, "rotation"),
        ({"version": 7}, "version"),
    ],
)
def test_bad_schedule_input_is_400_naming_the_field(api, agent, body, field):
    data = {"name": "X", "start": "2026-03-02T09:00:00Z", **body}
    response = api.as_user(agent).post(URL, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Schedule.objects.exists()


def test_a_stale_if_match_is_a_conflict(api, agent, schedule):
    api.as_user(agent)
    assert api.patch(detail(schedule), {"name": "Renamed"}, format="json").status_code == 200
    response = api.patch(detail(schedule), {"name": "Again"}, format="json", HTTP_IF_MATCH="1")
    assert response.status_code == 409


def test_the_journal_shows_the_schedules_changes(api, agent, schedule, alice):
    api.as_user(agent).patch(detail(schedule), {"participants": [alice.pk]}, format="json")
    fields = [entry["field"] for entry in api.get(detail(schedule, "journal/")).json()]
    assert "participants" in fields


def test_an_agent_holding_incidents_manage_deletes_a_schedule(api, agent, customer, schedule):
    assert api.as_user(customer).delete(detail(schedule)).status_code in (403, 404)
    assert api.as_user(agent).delete(detail(schedule)).status_code == 204
    assert not Schedule.objects.exists()


def test_listing_schedules_costs_the_same_queries_for_2_and_25(
    api, agent, make_schedule, alice, bob, django_assert_max_num_queries
):
    def count():
        api.get(URL)
        with django_assert_max_num_queries(12) as captured:
            assert api.get(URL).status_code == 200
        return len(captured)

    api.as_user(agent)
    for n in range(2):
        make_schedule([alice, bob], name=f"S{n}")
    small = count()
    for n in range(2, 25):
        make_schedule(
            [alice, bob], name=f"S{n}", assignment_groups=[AssignmentGroup.objects.create(name=f"G{n}")]
        )
    assert count() == small


# --- Who is on call -------------------------------------------------------------------------


def test_who_answers_user_source_and_block_bounds(api, l1, schedule, bob):
    body = api.as_user(l1).get(detail(schedule, "who/"), {"at": "2026-03-03T10:00:00Z"}).json()
    assert body == {
        "at": "2026-03-03T10:00:00Z",
        "start": "2026-03-03T09:00:00Z",
        "end": "2026-03-04T09:00:00Z",
        "user": bob.pk,
        "user_display": "bob",
        "source": "rotation",
        "override": None,
    }


def test_who_defaults_to_now(api, l1, schedule):
    body = api.as_user(l1).get(detail(schedule, "who/")).json()
    at = datetime.fromisoformat(body["at"])
    assert abs(at - datetime.now(UTC)) < timedelta(minutes=1)
    assert datetime.fromisoformat(body["start"]) <= at < datetime.fromisoformat(body["end"])


def test_who_before_the_start_is_nobody_with_an_open_start(api, l1, schedule):
    body = api.as_user(l1).get(detail(schedule, "who/"), {"at": "2026-01-01T00:00:00Z"}).json()
    assert (body["user"], body["source"], body["start"], body["end"]) == (
        None,
        "none",
        None,
        "2026-03-02T09:00:00Z",
    )


@pytest.mark.parametrize("value", ["soon", "2026-13-01T00:00:00Z", "1900-01-01T00:00:00Z"])
def test_a_bad_at_is_400_naming_at(api, l1, schedule, value):
    response = api.as_user(l1).get(detail(schedule, "who/"), {"at": value})
    assert response.status_code == 400
    assert "at" in response.json()


# --- Blocks ---------------------------------------------------------------------------------


def test_blocks_cover_the_range_without_gaps(api, l1, schedule, alice, bob, carol):
    body = (
        api.as_user(l1)
        .get(detail(schedule, "blocks/"), {"start": "2026-03-01T00:00:00Z", "end": "2026-03-05T00:00:00Z"})
        .json()
    )
    assert [(b["start"], b["end"], b["user"], b["source"]) for b in body] == [
        ("2026-03-01T00:00:00Z", "2026-03-02T09:00:00Z", None, "none"),
        ("2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z", alice.pk, "rotation"),
        ("2026-03-03T09:00:00Z", "2026-03-04T09:00:00Z", bob.pk, "rotation"),
        ("2026-03-04T09:00:00Z", "2026-03-05T00:00:00Z", carol.pk, "rotation"),
    ]


def test_blocks_may_cover_90_days(api, l1, schedule):
    response = api.as_user(l1).get(
        detail(schedule, "blocks/"), {"start": "2026-03-01T00:00:00Z", "end": "2026-05-30T00:00:00Z"}
    )
    assert response.status_code == 200
    assert len(response.json()) == 90  # the gap before the start, then 89 shifts


def test_blocks_over_more_than_90_days_are_400_naming_the_limit(api, l1, schedule):
    response = api.as_user(l1).get(
        detail(schedule, "blocks/"), {"start": "2026-03-01T00:00:00Z", "end": "2026-05-30T00:00:01Z"}
    )
    assert response.status_code == 400
    assert "90 days" in response.json()["end"][0]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-03-05T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "end"),
        ({"start": "tomorrow"}, "start"),
        ({"end": "2026-02-30T00:00:00Z"}, "end"),
        ({"start": "0001-01-01T00:00:00Z", "end": "0001-01-02T00:00:00Z"}, "start"),
    ],
)
def test_bad_block_ranges_are_400_naming_the_field(api, l1, schedule, params, field):
    response = api.as_user(l1).get(detail(schedule, "blocks/"), params)
    assert response.status_code == 400
    assert field in response.json()


# --- Overrides ------------------------------------------------------------------------------


def post_override(api, schedule, user, start, end, **extra):
    body = {"user": user.pk, "start": iso(start), "end": iso(end), **extra}
    return api.post(detail(schedule, "overrides/"), body, format="json")


def test_overrides_are_created_listed_and_removed(api, agent, schedule, carol):
    api.as_user(agent)
    created = post_override(
        api, schedule, carol, T0 + timedelta(hours=2), T0 + timedelta(hours=5), reason="Swap"
    )
    assert created.status_code == 201
    assert created.json()["created_by"] == agent.pk
    listed = api.get(detail(schedule, "overrides/")).json()
    assert [o["id"] for o in listed["results"]] == [created.json()["id"]]
    assert api.delete(detail(schedule, f"overrides/{created.json()['id']}/")).status_code == 204
    assert api.get(detail(schedule, "overrides/")).json()["count"] == 0


def test_the_override_list_filters_by_range(api, agent, schedule, carol):
    api.as_user(agent)
    post_override(api, schedule, carol, T0, T0 + timedelta(hours=1))
    later = post_override(api, schedule, carol, T0 + timedelta(days=5), T0 + timedelta(days=6)).json()
    body = api.get(detail(schedule, "overrides/"), {"start": iso(T0 + timedelta(days=1))}).json()
    assert [o["id"] for o in body["results"]] == [later["id"]]


def test_an_override_wins_and_the_newest_of_overlapping_ones_wins(api, agent, schedule, alice, bob, carol):
    api.as_user(agent)
    post_override(api, schedule, bob, T0 + timedelta(hours=1), T0 + timedelta(hours=10))
    newest = post_override(api, schedule, carol, T0 + timedelta(hours=3), T0 + timedelta(hours=4)).json()
    blocks = api.get(
        detail(schedule, "blocks/"), {"start": iso(T0), "end": iso(T0 + timedelta(hours=12))}
    ).json()
    assert [(b["user"], b["source"]) for b in blocks] == [
        (alice.pk, "rotation"),
        (bob.pk, "override"),
        (carol.pk, "override"),
        (bob.pk, "override"),
        (alice.pk, "rotation"),
    ]
    who = api.get(detail(schedule, "who/"), {"at": iso(T0 + timedelta(hours=3, minutes=30))}).json()
    assert (who["user"], who["source"], who["override"]) == (carol.pk, "override", newest["id"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"end": "2026-03-02T08:00:00Z"}, "end"),
        ({"user": 2**70}, "user"),
        ({"start": "noon"}, "start"),
        ({"reason": "x" * 201}, "reason"),
    ],
)
def test_bad_override_input_is_400_naming_the_field(api, agent, schedule, alice, body, field):
    data = {"user": alice.pk, "start": "2026-03-02T09:00:00Z", "end": "2026-03-02T12:00:00Z", **body}
    response = api.as_user(agent).post(detail(schedule, "overrides/"), data, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_an_override_of_another_schedule_is_not_found_here(api, agent, schedule, make_schedule, alice):
    other = make_schedule([alice], name="Other")
    override = services.override_create(
        schedule=other, actor=agent, data={"user": alice, "start": T0, "end": T0 + timedelta(hours=1)}
    )
    api.as_user(agent)
    assert api.delete(detail(schedule, f"overrides/{override.pk}/")).status_code == 404
    assert api.delete(detail(schedule, f"overrides/{2**70}/")).status_code == 404
    assert Override.objects.filter(pk=override.pk).exists()


# --- Feed links -----------------------------------------------------------------------------


def test_resetting_the_feed_link_makes_the_old_one_404(api, agent, schedule):
    client = Client()
    api.as_user(agent)
    old = api.get(detail(schedule)).json()["feed_url"].removeprefix("http://testserver")
    assert client.get(old).status_code == 200
    new = api.post(detail(schedule, "feed-token/reset/")).json()["feed_url"].removeprefix("http://testserver")
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_my_feed_gives_my_own_link_and_reset_changes_it(api, alice):
    api.as_user(alice)
    first = api.get(f"{URL}my-feed/").json()["feed_url"]
    assert api.get(f"{URL}my-feed/").json()["feed_url"] == first
    second = api.post(f"{URL}my-feed/reset/").json()["feed_url"]
    assert second != first
    assert FeedToken.objects.get(user=alice).token in second


def test_a_manager_resets_someone_elses_link_without_seeing_it(api, lead, alice):
    old = services.person_feed(user=alice).token
    response = api.as_user(lead).post(f"{URL}my-feed/reset/", {"user": alice.pk}, format="json")
    assert response.status_code == 200
    assert response.json() == {"feed_url": None}
    assert FeedToken.objects.get(user=alice).token != old


def test_an_agent_may_not_reset_someone_elses_link(api, l1, alice):
    services.person_feed(user=alice)
    assert api.as_user(l1).post(f"{URL}my-feed/reset/", {"user": alice.pk}, format="json").status_code == 403
