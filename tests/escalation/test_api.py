"""Escalation policies and notifications through the API: ITSM administrators write policies
with their stages (written whole), agents read them, customers are refused; one default per
organisation and one account-wide; everyone reads and marks read only their own notifications."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from conftest import make_user
from escalation.models import MAX_STAGES, MAX_TIMEOUT_MINUTES, EscalationPolicy, EscalationStage
from itsm.models import AssignmentGroup, AuditEntry
from itsm.roles import PERSONAS, Persona
from notifications.models import Kind, Notification
from oncall import services as oncall
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

POLICIES = "/api/v1/escalation-policies/"
NOTIFICATIONS = "/api/v1/notifications/"


@pytest.fixture
def group(db):
    return AssignmentGroup.objects.create(name="Network")


@pytest.fixture
def schedule(agent, l1):
    return oncall.schedule_create(
        actor=agent,
        data={
            "name": "Network on call", "time_zone": "UTC", "rotation": "daily",
            "start": datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "participants": [l1],
        },
    )  # fmt: skip


def stage(order, minutes=15, **values):
    return {"order": order, "timeout_minutes": minutes, **values}


def make_policy(name="Standard", stages=((1, 15), (2, 30)), **values):
    policy = EscalationPolicy.objects.create(name=name, **values)
    for order, minutes in stages:
        EscalationStage.objects.create(policy=policy, order=order, timeout_minutes=minutes)
    return policy


def stages_of(policy):
    return list(
        policy.stages.order_by("order").values_list("order", "timeout_minutes", "requires_acknowledgment")
    )


# --- Who reads and writes policies ----------------------------------------------------------------


def test_an_agent_reads_policies_with_their_stages_in_order(api, l1, group):
    policy = make_policy(stages=((20, 60), (10, 15)))
    policy.stages.get(order=10).users.set([l1])
    body = api.as_user(l1).get(f"{POLICIES}{policy.pk}/").json()
    assert [s["order"] for s in body["stages"]] == [10, 20]
    assert body["stages"][0] == {
        "order": 10, "timeout_minutes": 15, "requires_acknowledgment": False, "users": [l1.pk],
        "assignment_group": None, "schedule": None,
    }  # fmt: skip
    assert body["organisation"] is None
    assert body["is_default"] is False


def test_a_customer_may_not_read_policies(api, customer):
    policy = make_policy()
    client = api.as_user(customer)
    assert client.get(POLICIES).status_code == 403
    assert client.get(f"{POLICIES}{policy.pk}/").status_code == 403


@pytest.mark.parametrize("user_fixture", ["agent", "lead", "customer"])
def test_only_the_itsm_administrator_writes_policies(user_fixture, request, api):
    policy = make_policy()
    client = api.as_user(request.getfixturevalue(user_fixture))
    assert client.post(POLICIES, {"name": "New", "stages": [stage(1)]}, format="json").status_code == 403
    r = client.patch(f"{POLICIES}{policy.pk}/", {"stages": [stage(1, 99)]}, format="json")
    assert r.status_code == 403
    assert client.delete(f"{POLICIES}{policy.pk}/").status_code == 403
    assert stages_of(policy) == [(1, 15, False), (2, 30, False)]


def test_the_itsm_administrator_creates_a_policy_with_stages_and_their_targets(
    api, manager, l1, group, schedule, organisation
):
    body = {
        "name": "Acme out of hours",
        "organisation": organisation.pk,
        "is_default": True,
        "stages": [
            stage(1, 10, users=[l1.pk], requires_acknowledgment=True),
            stage(2, 30, assignment_group=group.pk, schedule=schedule.pk),
        ],
    }
    r = api.as_user(manager).post(POLICIES, body, format="json")
    assert r.status_code == 201, r.content
    policy = EscalationPolicy.objects.get(name="Acme out of hours")
    assert policy.organisation == organisation
    assert policy.is_default
    first, second = policy.stages.order_by("order")
    assert list(first.users.all()) == [l1]
    assert first.requires_acknowledgment
    assert (second.assignment_group, second.schedule) == (group, schedule)
    assert r.json()["stages"][1]["schedule"] == schedule.pk
    journal = AuditEntry.objects.get(object_id=str(policy.pk), field="stages")
    assert "1: 10 min, needs acknowledgment → l1" in journal.new_value


def test_stages_are_replaced_whole(api, manager, l1):
    policy = make_policy()
    policy.stages.get(order=1).users.set([l1])
    body = {"stages": [stage(5, 45, requires_acknowledgment=True)]}
    r = api.as_user(manager).patch(f"{POLICIES}{policy.pk}/", body, format="json")
    assert r.status_code == 200, r.content
    assert stages_of(policy) == [(5, 45, True)]
    assert not EscalationStage.users.through.objects.exists()
    assert [s["order"] for s in r.json()["stages"]] == [5]
    entry = AuditEntry.objects.get(object_id=str(policy.pk), field="stages")
    assert entry.old_value.startswith("1: 15 min → l1")


def test_a_patch_without_stages_keeps_them_and_empty_stages_clear_them(api, manager):
    policy = make_policy()
    client = api.as_user(manager)
    assert client.patch(f"{POLICIES}{policy.pk}/", {"name": "Renamed"}, format="json").status_code == 200
    assert len(stages_of(policy)) == 2
    assert client.patch(f"{POLICIES}{policy.pk}/", {"stages": []}, format="json").status_code == 200
    assert stages_of(policy) == []


BAD_STAGES = [
    [stage(1), stage(1, 30)],  # the same order twice
    [stage(n) for n in range(1, MAX_STAGES + 2)],  # too many
    [stage(1, 0)],  # no timeout
    [stage(1, MAX_TIMEOUT_MINUTES + 1)],  # beyond a week
    [stage(1, users=[999999])],  # no such user
    [stage(1, assignment_group=999999)],
    [stage(1, schedule=2**70)],
    [{"order": 1}],  # no timeout given
]


@pytest.mark.parametrize("stages", BAD_STAGES)
def test_bad_stages_are_400_naming_stages_and_write_nothing(stages, api, manager):
    policy = make_policy()
    journal = AuditEntry.objects.count()
    client = api.as_user(manager)
    r = client.patch(f"{POLICIES}{policy.pk}/", {"name": "Changed", "stages": stages}, format="json")
    assert r.status_code == 400, r.content
    assert "stages" in r.json()
    assert stages_of(policy) == [(1, 15, False), (2, 30, False)]
    assert EscalationPolicy.objects.get(pk=policy.pk).name == "Standard"
    r = client.post(POLICIES, {"name": "New", "stages": stages}, format="json")
    assert r.status_code == 400, r.content
    assert "stages" in r.json()
    assert not EscalationPolicy.objects.filter(name="New").exists()
    assert EscalationStage.objects.count() == 2
    assert AuditEntry.objects.count() == journal


def test_a_second_account_wide_default_is_400_naming_is_default(api, manager):
    make_policy("Account", is_default=True)
    other = make_policy("Other")
    client = api.as_user(manager)
    r = client.post(POLICIES, {"name": "New", "is_default": True, "stages": [stage(1)]}, format="json")
    assert r.status_code == 400, r.content
    assert "Account" in r.json()["is_default"][0]
    assert not EscalationPolicy.objects.filter(name="New").exists()
    assert EscalationStage.objects.count() == 4
    r = client.patch(f"{POLICIES}{other.pk}/", {"is_default": True}, format="json")
    assert r.status_code == 400, r.content
    assert "is_default" in r.json()
    assert list(EscalationPolicy.objects.filter(is_default=True).values_list("name", flat=True)) == [
        "Account"
    ]


def test_one_default_per_organisation_beside_the_account_wide_one(
    api, manager, organisation, other_organisation
):
    make_policy("Account", is_default=True)
    client = api.as_user(manager)
    body = {"name": "Acme", "organisation": organisation.pk, "is_default": True}
    assert client.post(POLICIES, body, format="json").status_code == 201
    body = {"name": "Globex", "organisation": other_organisation.pk, "is_default": True}
    assert client.post(POLICIES, body, format="json").status_code == 201
    body = {"name": "Acme 2", "organisation": organisation.pk, "is_default": True}
    r = client.post(POLICIES, body, format="json")
    assert r.status_code == 400, r.content
    assert "Acme" in r.json()["is_default"][0]
    globex = EscalationPolicy.objects.get(name="Globex")
    r = client.patch(f"{POLICIES}{globex.pk}/", {"organisation": organisation.pk}, format="json")
    assert r.status_code == 400, r.content
    assert "is_default" in r.json()
    body = {"name": "Acme extra", "organisation": organisation.pk, "is_default": False}
    assert client.post(POLICIES, body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Standard"}, "name"),
        ({"name": "X", "organisation": 999999}, "organisation"),
    ],
)
def test_bad_policy_input_is_400_naming_the_field(body, field, api, manager):
    make_policy()
    r = api.as_user(manager).post(POLICIES, body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    assert EscalationPolicy.objects.count() == 1


def test_the_itsm_administrator_deletes_a_policy_with_its_stages(api, manager):
    policy = make_policy()
    assert api.as_user(manager).delete(f"{POLICIES}{policy.pk}/").status_code == 204
    assert not EscalationStage.objects.exists()


def test_listing_policies_costs_the_same_queries_for_2_and_20(
    api, agent, l1, group, django_assert_max_num_queries
):
    client = api.as_user(agent)

    def add(n):
        policy = make_policy(f"P{n:02}", stages=((1, 5), (2, 10), (3, 15)))
        for s in policy.stages.all():
            s.users.set([agent, l1])
        EscalationStage.objects.filter(policy=policy).update(assignment_group=group)

    for n in range(2):
        add(n)
    client.get(POLICIES)
    with django_assert_max_num_queries(8) as few:
        assert client.get(POLICIES, {"page_size": 50}).json()["count"] == 2
    for n in range(2, 20):
        add(n)
    with django_assert_max_num_queries(len(few)):
        body = client.get(POLICIES, {"page_size": 50}).json()
    assert body["count"] == 20
    assert body["results"][-1]["stages"][2]["users"] == sorted([agent.pk, l1.pk])


# --- Notifications: your own, and only yours -------------------------------------------------------


def notify(user, n=1, **values):
    rows = [
        Notification(recipient=user, kind=Kind.SLA_BREACHED, subject=f"Breach {i}", body="…", **values)
        for i in range(n)
    ]
    return Notification.objects.bulk_create(rows)


def test_an_agent_lists_only_its_own_notifications_newest_first(api, agent, l1):
    mine = notify(agent, 3)
    notify(l1, 2)
    r = api.as_user(agent).get(NOTIFICATIONS)
    assert r.status_code == 200, r.content
    rows = r.json()["results"]
    assert r.json()["count"] == 3
    assert {row["id"] for row in rows} == {n.pk for n in mine}
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)
    assert rows[0]["read_at"] is None


def test_someone_elses_notification_is_404_and_stays_unread(api, agent, l1):
    [theirs] = notify(l1)
    client = api.as_user(agent)
    for method, suffix in (("get", ""), ("post", "read/")):
        r = getattr(client, method)(f"{NOTIFICATIONS}{theirs.pk}/{suffix}")
        missing = getattr(client, method)(f"{NOTIFICATIONS}999999/{suffix}")
        assert r.status_code == missing.status_code == 404
        assert r.json() == missing.json()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_unread_filter_and_marking_one_read(api, agent):
    first, second = notify(agent, 2)
    client = api.as_user(agent)
    r = client.post(f"{NOTIFICATIONS}{first.pk}/read/")
    assert r.status_code == 200, r.content
    read_at = r.json()["read_at"]
    assert read_at is not None
    assert [row["id"] for row in client.get(NOTIFICATIONS, {"unread": "true"}).json()["results"]] == [
        second.pk
    ]
    assert [row["id"] for row in client.get(NOTIFICATIONS, {"unread": "false"}).json()["results"]] == [
        first.pk
    ]
    assert (
        client.post(f"{NOTIFICATIONS}{first.pk}/read/").json()["read_at"] == read_at
    )  # the first time stays


def test_read_all_marks_only_your_own_unread_notifications(api, agent, l1):
    earlier = timezone.now() - timedelta(days=1)
    notify(agent, 3)
    notify(agent, 1, read_at=earlier)
    [theirs] = notify(l1)
    r = api.as_user(agent).post(f"{NOTIFICATIONS}read-all/")
    assert r.status_code == 200, r.content
    assert r.json() == {"marked": 3}
    assert not Notification.objects.filter(recipient=agent, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=agent, read_at=earlier).count() == 1
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_a_customer_has_no_notification_list(api, customer):
    client = api.as_user(customer)
    assert client.get(NOTIFICATIONS).status_code == 403
    assert client.post(f"{NOTIFICATIONS}read-all/").status_code == 403


def test_notifications_cannot_be_written_through_the_api(api, agent):
    [mine] = notify(agent)
    client = api.as_user(agent)
    assert client.post(NOTIFICATIONS, {"subject": "x"}, format="json").status_code == 405
    assert client.patch(f"{NOTIFICATIONS}{mine.pk}/", {"subject": "x"}, format="json").status_code == 405
    assert client.delete(f"{NOTIFICATIONS}{mine.pk}/").status_code == 405


def test_listing_notifications_costs_the_same_queries_for_2_and_40(api, django_assert_max_num_queries):
    from incidents import services

    agent = make_user("watcher", *PERSONAS[Persona.L2_AGENT])
    customer = make_user("raiser", *PERSONAS[Persona.EVERYONE])
    client = api.as_user(agent)
    incident = services.incident_create(actor=customer, data={"short_description": "Printer on fire"})
    notify(agent, 2, work=incident)
    client.get(NOTIFICATIONS)
    with django_assert_max_num_queries(6) as few:
        assert client.get(NOTIFICATIONS, {"page_size": 50}).json()["count"] == 2
    notify(agent, 38, work=incident)
    with django_assert_max_num_queries(len(few)):
        body = client.get(NOTIFICATIONS, {"page_size": 50}).json()
    assert body["count"] == 40
    assert body["results"][0]["work_number"] == incident.number


# --- Escalate and acknowledge through the incident actions --------------------------------------


def test_escalate_through_the_api_raises_the_level_moves_a_stage_and_journals_the_reason(
    customer, agent, lead, group, api
):
    from incidents.models import IncidentNote

    default = EscalationPolicy.objects.create(name="Default", is_default=True)
    EscalationStage.objects.create(policy=default, order=1, timeout_minutes=30)
    EscalationStage.objects.create(policy=default, order=2, timeout_minutes=30, assignment_group=group)
    incident = make_incident(requester=customer, short_description="VPN drops every hour")
    r = api.as_user(agent).post(f"/api/v1/incidents/{incident.pk}/escalate/", {"reason": "Whole floor down"})
    assert r.status_code == 200, r.content
    assert (r.json()["escalation_level"], r.json()["escalation_stage"]) == (1, 2)
    assert r.json()["assignment_group"] == group.pk
    assert IncidentNote.objects.filter(incident=incident, body="[Escalated] Whole floor down").exists()
    assert AuditEntry.objects.filter(
        object_id=str(incident.pk), field="escalation_level", new_value="1"
    ).exists()


def test_a_customer_cannot_escalate_and_never_learns_the_escalation_level(customer, customer2, api):
    incident = make_incident(requester=customer, short_description="VPN drops every hour")
    own = api.as_user(customer).post(f"/api/v1/incidents/{incident.pk}/escalate/", {"reason": "Please"})
    assert own.status_code == 403
    assert "escalation" not in own.content.decode().replace("escalate", "")
    assert api.as_user(customer2).post(f"/api/v1/incidents/{incident.pk}/escalate/", {}).status_code == 404
    body = api.as_user(customer).get(f"/api/v1/incidents/{incident.pk}/").json()
    assert body["id"] == incident.pk
    assert not any(name.startswith(("escalation_", "sla_")) for name in body)
    incident.refresh_from_db()
    assert incident.escalation_level == 0


def test_acknowledge_through_the_api_is_refused_on_a_resolved_incident(customer, agent, api):
    incident = make_incident(requester=customer, short_description="VPN drops every hour")
    api.as_user(agent).post(
        f"/api/v1/incidents/{incident.pk}/resolve/",
        {"resolution_code": "resolved", "resolution_notes": "Replaced the router."},
        format="json",
    )
    r = api.as_user(agent).post(f"/api/v1/incidents/{incident.pk}/acknowledge/", {})
    assert r.status_code == 400
    assert r.json()["state"] == ["resolved"]
