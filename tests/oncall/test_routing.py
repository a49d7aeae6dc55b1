"""Routing to whoever is on call: a group linked to a schedule, or a schedule itself."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from itsm.models import AssignmentGroup, UserRole
from oncall import routing, services

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def group(db):
    return AssignmentGroup.objects.create(name="Network")


def test_a_group_without_a_schedule_routes_to_nobody(group):
    assert routing.on_call_assignee(group, at=T0) is None
    assert routing.on_call_assignee(None) is None


def test_a_linked_group_routes_to_whoever_is_on_call_then(make_schedule, group, alice, bob):
    make_schedule([alice, bob], assignment_groups=[group])
    assert routing.on_call_assignee(group, at=T0 + timedelta(hours=1)) == alice
    assert routing.on_call_assignee(group, at=T0 + timedelta(days=1, hours=1)) == bob


def test_routing_follows_overrides(make_schedule, agent, group, alice, carol):
    schedule = make_schedule([alice], assignment_groups=[group])
    services.override_create(
        schedule=schedule, actor=agent, data={"user": carol, "start": T0, "end": T0 + timedelta(hours=4)}
    )
    assert routing.on_call_assignee(group, at=T0 + timedelta(hours=1)) == carol


def test_routing_defaults_to_now(make_schedule, group, alice):
    make_schedule([alice], assignment_groups=[group], start=timezone.now() - timedelta(days=1))
    assert routing.on_call_assignee(group) == alice


def test_nobody_on_call_routes_to_nobody(make_schedule, group, alice):
    make_schedule([alice], assignment_groups=[group])
    assert routing.on_call_assignee(group, at=T0 - timedelta(days=1)) is None


def test_someone_who_can_no_longer_take_work_is_not_routed_to(make_schedule, group, alice, bob):
    make_schedule([alice, bob], assignment_groups=[group])
    alice.is_active = False
    alice.save()
    assert routing.on_call_assignee(group, at=T0) is None
    UserRole.objects.filter(user=bob).delete()
    assert routing.on_call_assignee(group, at=T0 + timedelta(days=1)) is None


def test_a_schedule_resolves_the_same_way_for_escalation(make_schedule, alice, bob):
    schedule = make_schedule([alice, bob])
    assert routing.schedule_assignee(schedule, at=T0 + timedelta(days=1)) == bob


def test_an_incident_assigned_to_a_linked_group_goes_to_whoever_is_on_call(
    make_schedule, group, agent, alice, bob, customer, api
):
    from incidents import services as incident_services

    # The first shift began an hour ago and hands off at that time of day, so whatever the clock
    # says when the test runs, the next handoff is a day away (09:00 made it fail from 09:00 to 10:00).
    start = (timezone.now() - timedelta(hours=1)).replace(second=0, microsecond=0)
    make_schedule([alice, bob], assignment_groups=[group], start=start, handoff_time=start.time())
    incident = incident_services.incident_create(actor=customer, data={"short_description": "Switch down"})
    response = api.as_user(agent).post(
        f"/api/v1/incidents/{incident.pk}/assign/", {"assignment_group": group.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"] == alice.pk
    assert response.json()["assignment_group"] == group.pk


def test_a_group_without_a_schedule_keeps_the_incident_group_only(group, agent, customer, api):
    from incidents import services as incident_services

    incident = incident_services.incident_create(actor=customer, data={"short_description": "Switch down"})
    response = api.as_user(agent).post(
        f"/api/v1/incidents/{incident.pk}/assign/", {"assignment_group": group.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["assignee"] is None
