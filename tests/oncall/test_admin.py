"""On-call admin: schedules (participants in order, routed groups), overrides, group routing;
permissions from the policy, saves through the services."""

from datetime import UTC, datetime

import pytest

from itsm.models import AssignmentGroup, AuditEntry
from oncall.models import FeedToken, GroupSchedule, Override, Schedule

pytestmark = pytest.mark.django_db

SCHEDULES = "/admin/oncall/schedule/"
OVERRIDES = "/admin/oncall/override/"
ROUTING = "/admin/oncall/groupschedule/"


def schedule_form(**values):
    return {
        "name": "Nights",
        "description": "",
        "time_zone": "Europe/London",
        "rotation": "weekly",
        "handoff_day": "0",
        "handoff_time": "09:00",
        "custom_rotation_hours": "",
        "start_0": "2026-03-02",
        "start_1": "09:00",
        "participant_usernames": "bob\nalice",
        **values,
    }


def test_the_admin_lists_schedules_overrides_and_routing(client, manager, make_schedule, alice):
    make_schedule([alice])
    client.force_login(manager)
    for url in (SCHEDULES, OVERRIDES, ROUTING, f"{SCHEDULES}add/", f"{OVERRIDES}add/", f"{ROUTING}add/"):
        assert client.get(url).status_code == 200, url


def test_a_manager_adds_a_schedule_with_participants_in_order(client, manager, alice, bob):
    group = AssignmentGroup.objects.create(name="Network")
    client.force_login(manager)
    response = client.post(f"{SCHEDULES}add/", schedule_form(routed_groups=[group.pk]))
    assert response.status_code == 302, response.context["adminform"].form.errors
    schedule = Schedule.objects.get()
    assert [row.user for row in schedule.participant_rows.all()] == [bob, alice]
    assert GroupSchedule.objects.get().schedule == schedule
    assert FeedToken.objects.filter(schedule=schedule).exists()
    assert AuditEntry.objects.filter(object_id=str(schedule.pk), action="create", actor=manager).exists()


def test_the_admin_refuses_an_invalid_schedule_on_the_form(client, manager, customer):
    client.force_login(manager)
    response = client.post(
        f"{SCHEDULES}add/", schedule_form(handoff_day="", participant_usernames="customer\nghost")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "handoff_day" in errors and "participant_usernames" in errors
    assert not Schedule.objects.exists()


def test_a_manager_reorders_participants_in_the_admin(client, manager, make_schedule, alice, bob, carol):
    schedule = make_schedule([alice, bob])
    client.force_login(manager)
    response = client.post(
        f"{SCHEDULES}{schedule.pk}/change/",
        schedule_form(
            name=schedule.name,
            time_zone="UTC",
            rotation="daily",
            handoff_day="",
            participant_usernames="carol\nalice",
            version=schedule.version,
        ),
    )
    assert response.status_code == 302
    assert [row.user for row in schedule.participant_rows.all()] == [carol, alice]


def test_an_override_added_in_the_admin_records_its_creator(client, manager, make_schedule, alice):
    schedule = make_schedule([alice])
    client.force_login(manager)
    response = client.post(
        f"{OVERRIDES}add/",
        {
            "schedule": schedule.pk,
            "user": alice.pk,
            "start_0": "2026-03-03",
            "start_1": "09:00",
            "end_0": "2026-03-03",
            "end_1": "12:00",
            "reason": "Cover",
        },
    )
    assert response.status_code == 302
    override = Override.objects.get()
    assert override.created_by == manager
    assert override.start == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def test_a_group_routed_twice_is_refused_in_the_admin(client, manager, make_schedule):
    group = AssignmentGroup.objects.create(name="Network")
    schedule = make_schedule(assignment_groups=[group])
    client.force_login(manager)
    response = client.post(f"{ROUTING}add/", {"group": group.pk, "schedule": schedule.pk})
    assert response.status_code == 200
    assert GroupSchedule.objects.count() == 1


def test_the_reset_action_changes_the_feed_links(client, manager, make_schedule):
    schedule = make_schedule()
    old = schedule.feed.token
    client.force_login(manager)
    client.post(SCHEDULES, {"action": "reset_feed_links", "_selected_action": [schedule.pk]})
    assert FeedToken.objects.get(schedule=schedule).token != old


def test_a_customer_cannot_open_the_oncall_admin(client, customer):
    client.force_login(customer)
    assert client.get(SCHEDULES).status_code == 302  # to the admin sign-in
