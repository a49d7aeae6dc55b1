"""On-call writes: who may manage schedules, what a valid schedule is, overrides, feed links."""

from datetime import UTC, datetime, time

import pytest

from conftest import make_user
from itsm.errors import Conflict, InvalidInput, NotAllowed
from itsm.models import AssignmentGroup, AuditEntry
from itsm.policy import rules_for
from itsm.policy.rules import PERMISSIONS
from itsm.roles import Role
from oncall import selectors, services
from oncall.models import FeedToken, GroupSchedule, Override, Schedule

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def fields_of(exc) -> set[str]:
    return set(exc.value.fields)


# --- Who manages ----------------------------------------------------------------------------


def test_managing_schedules_is_declared_as_the_holders_of_incidents_manage():
    holders = PERMISSIONS["incidents.manage"]
    for model in (Schedule, Override, GroupSchedule):
        rules = rules_for(model)
        assert rules.create == holders
        assert rules.delete == holders
        assert {u.role for u in rules.update} == holders


def test_a_platform_agent_without_incidents_manage_cannot_create_a_schedule(make_schedule):
    outsider = make_user("outsider", Role.PLATFORM_AGENT)
    with pytest.raises(NotAllowed):
        make_schedule(actor=outsider)
    assert not Schedule.objects.exists()


def test_an_agent_holding_incidents_manage_creates_a_schedule(l1, alice, make_schedule):
    schedule = make_schedule([alice], actor=l1)
    assert schedule.pk is not None
    assert AuditEntry.objects.filter(object_id=str(schedule.pk), action="create").exists()


# --- A valid schedule -----------------------------------------------------------------------


def test_participants_keep_their_order_index_0_first(alice, bob, carol, make_schedule):
    schedule = make_schedule([carol, alice, bob])
    assert selectors.participants(schedule) == [carol, alice, bob]
    assert selectors.who_is_on_call(schedule=schedule, at=T0).user == carol


def test_weekly_rotation_needs_a_handoff_day(make_schedule):
    with pytest.raises(InvalidInput) as exc:
        make_schedule(rotation="weekly")
    assert "handoff_day" in fields_of(exc)


def test_handoff_day_is_only_for_weekly_rotations(make_schedule):
    with pytest.raises(InvalidInput) as exc:
        make_schedule(rotation="daily", handoff_day=2)
    assert "handoff_day" in fields_of(exc)


def test_custom_rotation_needs_at_least_one_hour(make_schedule):
    for hours in (None, 0):
        with pytest.raises(InvalidInput) as exc:
            make_schedule(rotation="custom", custom_rotation_hours=hours)
        assert "custom_rotation_hours" in fields_of(exc)
    assert make_schedule(rotation="custom", custom_rotation_hours=1).custom_rotation_hours == 1


def test_time_zone_must_be_an_iana_name(make_schedule):
    with pytest.raises(InvalidInput) as exc:
        make_schedule(time_zone="Mars/Olympus_Mons")
    assert fields_of(exc) == {"time_zone"}


def test_start_must_be_within_the_accepted_years(make_schedule):
    with pytest.raises(InvalidInput) as exc:
        make_schedule(start=datetime(2999, 1, 1, tzinfo=UTC))
    assert "start" in fields_of(exc)


def test_a_participant_must_be_an_active_agent(customer, alice, make_schedule):
    with pytest.raises(InvalidInput) as exc:
        make_schedule([alice, customer])
    assert fields_of(exc) == {"participants"}
    assert "customer" in exc.value.fields["participants"][0]


def test_a_participant_has_one_place_in_the_rotation(alice, make_schedule):
    with pytest.raises(InvalidInput) as exc:
        make_schedule([alice, alice])
    assert "participants" in fields_of(exc)


def test_every_error_is_reported_at_once_and_nothing_is_written(customer, make_schedule):
    with pytest.raises(InvalidInput) as exc:
        make_schedule([customer], rotation="weekly", time_zone="Nowhere")
    assert fields_of(exc) == {"participants", "handoff_day", "time_zone"}
    assert not Schedule.objects.exists()


def test_switching_rotation_clears_the_fields_the_new_one_does_not_use(agent, make_schedule):
    schedule = make_schedule(rotation="weekly", handoff_day=4)
    schedule = services.schedule_update(
        schedule=schedule, actor=agent, data={"rotation": "custom", "custom_rotation_hours": 8}
    )
    assert (schedule.handoff_day, schedule.custom_rotation_hours) == (None, 8)
    schedule = services.schedule_update(schedule=schedule, actor=agent, data={"rotation": "daily"})
    assert (schedule.handoff_day, schedule.custom_rotation_hours) == (None, None)


def test_updating_participants_replaces_the_order_and_is_journaled(agent, alice, bob, carol, make_schedule):
    schedule = make_schedule([alice, bob])
    schedule = services.schedule_update(
        schedule=schedule, actor=agent, data={"participants": [bob, carol, alice]}
    )
    assert selectors.participants(schedule) == [bob, carol, alice]
    entries = AuditEntry.objects.filter(object_id=str(schedule.pk), field="participants").order_by("pk")
    assert [(e.old_value, e.new_value) for e in entries] == [
        ("", "alice, bob"),
        ("alice, bob", "bob, carol, alice"),
    ]
    assert schedule.version == 2


def test_a_stale_version_is_refused_as_a_conflict(agent, make_schedule):
    schedule = make_schedule()
    services.schedule_update(schedule=schedule, actor=agent, data={"name": "First edit"})
    with pytest.raises(Conflict):
        services.schedule_update(schedule=schedule, actor=agent, data={"name": "Second"}, expected_version=1)
    assert Schedule.objects.get().name == "First edit"


def test_a_group_routes_to_one_schedule_at_most(agent, make_schedule):
    group = AssignmentGroup.objects.create(name="Network")
    first = make_schedule(assignment_groups=[group])
    with pytest.raises(InvalidInput) as exc:
        make_schedule(name="Other", assignment_groups=[group])
    assert fields_of(exc) == {"assignment_groups"}
    assert GroupSchedule.objects.get().schedule == first


def test_a_schedule_with_routed_groups_cannot_be_deleted_until_unlinked(agent, make_schedule):
    schedule = make_schedule(assignment_groups=[AssignmentGroup.objects.create(name="Network")])
    with pytest.raises(Conflict):
        services.schedule_delete(schedule=schedule, actor=agent)
    services.schedule_update(schedule=schedule, actor=agent, data={"assignment_groups": []})
    services.schedule_delete(schedule=schedule, actor=agent)
    assert not Schedule.objects.exists()


def test_a_new_schedule_gets_a_feed_link(make_schedule):
    schedule = make_schedule()
    assert len(FeedToken.objects.get(schedule=schedule).token) >= 40


def test_handoff_time_defaults_to_nine(make_schedule):
    assert make_schedule().handoff_time == time(9, 0)


# --- Overrides ------------------------------------------------------------------------------


def override_data(user, start=T0, end=datetime(2026, 3, 2, 17, 0, tzinfo=UTC)):
    return {"user": user, "start": start, "end": end, "reason": "Dentist"}


def test_an_override_records_who_created_it(agent, alice, bob, make_schedule):
    schedule = make_schedule([alice])
    override = services.override_create(schedule=schedule, actor=agent, data=override_data(bob))
    assert (override.created_by, override.schedule) == (agent, schedule)
    assert selectors.who_is_on_call(schedule=schedule, at=T0).user == bob


def test_an_override_must_end_after_it_starts(agent, alice, make_schedule):
    schedule = make_schedule([alice])
    with pytest.raises(InvalidInput) as exc:
        services.override_create(schedule=schedule, actor=agent, data=override_data(alice, end=T0))
    assert fields_of(exc) == {"end"}


def test_only_an_agent_can_cover_a_shift(agent, customer, alice, make_schedule):
    schedule = make_schedule([alice])
    with pytest.raises(InvalidInput) as exc:
        services.override_create(schedule=schedule, actor=agent, data=override_data(customer))
    assert fields_of(exc) == {"user"}


def test_overriding_takes_incidents_manage(monkeypatch, agent, l1, alice, make_schedule):
    schedule = make_schedule([alice])
    monkeypatch.setitem(PERMISSIONS, "incidents.manage", frozenset({Role.ITSM_MANAGER}))
    with pytest.raises(NotAllowed):
        services.override_create(schedule=schedule, actor=l1, data=override_data(alice))
    assert not Override.objects.exists()


def test_removing_an_override_brings_the_rotation_back(agent, alice, bob, make_schedule):
    schedule = make_schedule([alice])
    override = services.override_create(schedule=schedule, actor=agent, data=override_data(bob))
    services.override_delete(override=override, actor=agent)
    assert selectors.who_is_on_call(schedule=schedule, at=T0).user == alice
    assert AuditEntry.objects.filter(object_id=str(override.pk), action="delete").exists()


# --- Feed links -----------------------------------------------------------------------------


def test_resetting_a_feed_link_replaces_the_secret_and_journals_no_secret(agent, make_schedule):
    schedule = make_schedule()
    old = FeedToken.objects.get(schedule=schedule).token
    new = services.feed_reset(actor=agent, schedule=schedule).token
    assert new != old
    entry = AuditEntry.objects.get(object_id=str(schedule.pk), field="feed_link")
    assert old not in entry.new_value and new not in entry.new_value


def test_only_the_owner_or_a_manager_resets_a_persons_feed_link(l1, alice, lead):
    services.person_feed(user=alice)
    with pytest.raises(NotAllowed):
        services.feed_reset(actor=l1, person=alice)
    assert services.feed_reset(actor=alice, person=alice).user == alice
    assert services.feed_reset(actor=lead, person=alice).user == alice  # a team leader is a manager
