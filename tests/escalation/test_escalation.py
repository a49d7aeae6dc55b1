"""Escalation policies (issue #4 items 6 and 7).

A new incident gets its organisation's default policy, else the account-wide one (inactive ones
skipped), and enters the first stage: its targets (users, the group's members, whoever is on
call in its schedule) are told, and an unassigned incident is assigned. The sweep moves an
incident whose stage timed out to the next stage unless that stage requires acknowledgment and
was acknowledged. Acknowledge assigns the acknowledging user and is refused on resolved and
closed incidents; resolve and cancel stop the advance, reopen restarts the stage timer; manual
escalation raises the level and moves on. What a customer receives never names a hidden field.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import override_settings

from conftest import make_user
from escalation import services as escalation
from escalation.models import EscalationPolicy, EscalationStage
from incidents import services, workflows
from incidents.models import Incident, IncidentNote
from itsm.models import AssignmentGroup, AuditEntry, GroupMembership
from itsm.roles import PERSONAS, Persona
from notifications import services as notify
from notifications.models import Kind, Notification
from notifications.services import Message
from oncall import services as oncall
from tests.incidents.factories import make_incident
from tests.sla.support import fresh, make_definition, now_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/{}/{}/"


@pytest.fixture
def alice(db):
    return make_user("alice", *PERSONAS[Persona.L1_AGENT])


@pytest.fixture
def bob(db):
    return make_user("bob", *PERSONAS[Persona.L1_AGENT])


@pytest.fixture
def desk(lead, agent):
    group = AssignmentGroup.objects.create(name="Service Desk")
    GroupMembership.objects.create(group=group, user=lead, role=GroupMembership.Role.LEAD)
    GroupMembership.objects.create(group=group, user=agent)
    return group


@pytest.fixture
def network(bob):
    group = AssignmentGroup.objects.create(name="Network")
    GroupMembership.objects.create(group=group, user=bob, role=GroupMembership.Role.LEAD)
    return group


@pytest.fixture
def make_schedule(agent):
    """``make_schedule(participants, **fields)``: a daily on-call schedule (as tests/oncall)."""

    def make(participants=(), **fields):
        data = {
            "name": fields.pop("name", "Tier 1 Support On-Call"),
            "time_zone": "UTC",
            "rotation": "daily",
            "start": datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            "participants": list(participants),
            **fields,
        }
        return oncall.schedule_create(actor=agent, data=data)

    return make


def policy(name="Default", *, organisation=None, is_default=True, is_active=True, stages=()):
    """``stages``: dicts of EscalationStage fields (``users`` a list); orders 1, 2, 3…"""
    row = EscalationPolicy.objects.create(
        name=name, organisation=organisation, is_default=is_default, is_active=is_active
    )
    for order, fields in enumerate(stages, start=1):
        fields = dict(fields)
        users = fields.pop("users", [])
        stage = EscalationStage.objects.create(
            policy=row, order=order, timeout_minutes=fields.pop("timeout_minutes", 10), **fields
        )
        stage.users.set(users)
    return row


def told(kind, incident):
    return {n.recipient for n in Notification.objects.filter(kind=kind, work_id=incident.pk)}


def sweep(now, **delta):
    return escalation.sweep(now=now.advance(**delta))["advanced"]


# --- Which policy -------------------------------------------------------------------------------


def test_no_policy_no_escalation(customer, now):
    incident = fresh(make_incident(requester=customer))
    assert (incident.escalation_policy, incident.escalation_stage, incident.escalation_next_at) == (
        None,
        None,
        None,
    )


def test_the_organisation_default_comes_before_the_account_wide_one(customer, organisation, now):
    policy("Account", stages=[{}])
    own = policy("Acme", organisation=organisation, stages=[{}])
    assert fresh(make_incident(requester=customer)).escalation_policy == own


def test_the_account_wide_default_applies_to_an_organisation_without_one(customer, other_organisation, now):
    account = policy("Account", stages=[{}])
    policy("Globex", organisation=other_organisation, stages=[{}])
    assert fresh(make_incident(requester=customer)).escalation_policy == account


def test_inactive_policies_are_skipped(customer, organisation, now):
    account = policy("Account", stages=[{}])
    policy("Acme", organisation=organisation, is_active=False, stages=[{}])
    assert fresh(make_incident(requester=customer)).escalation_policy == account
    account.is_active = False
    account.save()
    assert fresh(make_incident(requester=customer)).escalation_policy is None


# --- Entering the first stage ------------------------------------------------------------------


def test_creation_enters_stage_1_and_tells_its_targets(
    customer, alice, bob, lead, agent, desk, make_schedule, now, django_capture_on_commit_callbacks
):
    schedule = make_schedule([alice], name="Night shift")
    policy(stages=[{"users": [bob], "assignment_group": desk, "schedule": schedule}, {}])
    with django_capture_on_commit_callbacks(execute=True):
        incident = fresh(make_incident(requester=customer))
    assert incident.escalation_stage == 1
    assert incident.escalation_stage_started_at == now()
    assert incident.escalation_next_at == now().replace(minute=10)
    # Users, the group's members and whoever is on call.
    assert told(Kind.STAGE, incident) == {bob, lead, agent, alice}
    # (The customer who raised it gets its acknowledgement, issue #17; nothing else.)
    staged = [m for m in mail.outbox if m.to != [customer.email]]
    assert sorted(m.to[0] for m in staged) == sorted(u.email for u in (bob, lead, agent, alice))
    assert all("stage 1" in m.subject for m in staged)
    # An unassigned incident goes to the stage's group and the on-call person.
    assert (incident.assignment_group, incident.assignee) == (desk, alice)


def test_the_first_stage_does_not_reassign_an_assigned_incident(
    agent, alice, desk, network, make_schedule, now
):
    schedule = make_schedule([alice], name="Night shift")
    policy(stages=[{"assignment_group": network, "schedule": schedule}])
    incident = services.incident_create(
        actor=agent, data={"short_description": "Mine"}, assignee=agent, assignment_group=desk
    )
    incident = fresh(incident)
    assert (incident.assignment_group, incident.assignee) == (desk, agent)
    assert incident.escalation_stage == 1
    # The on-call person is still told.
    assert alice in told(Kind.STAGE, incident)


def test_a_person_named_twice_is_told_once(customer, agent, desk, now):
    policy(stages=[{"users": [agent], "assignment_group": desk}])
    incident = make_incident(requester=customer)
    assert Notification.objects.filter(kind=Kind.STAGE, work_id=incident.pk, recipient=agent).count() == 1


# --- The sweep ----------------------------------------------------------------------------------


def test_the_sweep_advances_after_the_timeout_and_tells_the_next_stage(customer, bob, network, now):
    policy(
        stages=[
            {"timeout_minutes": 15},
            {"users": [bob], "assignment_group": network, "timeout_minutes": 30},
            {},
        ]
    )
    incident = make_incident(requester=customer)
    assert sweep(now, minutes=14) == []
    assert fresh(incident).escalation_stage == 1
    assert sweep(now, minutes=1) == [incident.pk]
    incident = fresh(incident)
    assert incident.escalation_stage == 2
    assert incident.escalation_stage_started_at == now()
    assert incident.escalation_next_at == now().replace(minute=45)
    assert incident.assignment_group == network
    assert told(Kind.STAGE, incident) == {bob}
    # The last stage does not time out.
    assert sweep(now, minutes=30) == [incident.pk]
    incident = fresh(incident)
    assert (incident.escalation_stage, incident.escalation_next_at) == (3, None)
    assert sweep(now, days=1) == []
    journal = AuditEntry.objects.filter(object_id=str(incident.pk), field="escalation_stage")
    assert [e.new_value for e in journal.order_by("at", "id")] == ["1", "2", "3"]


def test_an_acknowledged_stage_that_requires_it_does_not_advance(customer, agent, now):
    policy(stages=[{"requires_acknowledgment": True}, {}])
    incident = make_incident(requester=customer)
    now.advance(minutes=5)
    incident = workflows.incident_acknowledge(incident=incident, actor=agent)
    assert incident.escalation_acknowledged_at == now()
    assert incident.escalation_next_at is None
    assert sweep(now, minutes=30) == []
    assert fresh(incident).escalation_stage == 1


def test_an_unacknowledged_stage_that_requires_it_advances(customer, now):
    policy(stages=[{"requires_acknowledgment": True}, {}])
    incident = make_incident(requester=customer)
    assert sweep(now, minutes=10) == [incident.pk]


def test_acknowledging_a_stage_that_does_not_require_it_does_not_stop_the_advance(customer, agent, now):
    policy(stages=[{}, {}])
    incident = make_incident(requester=customer)
    now.advance(minutes=5)
    workflows.incident_acknowledge(incident=incident, actor=agent)
    assert sweep(now, minutes=5) == [incident.pk]
    assert fresh(incident).escalation_stage == 2


def test_on_hold_incidents_do_not_advance(customer, agent, now):
    policy(stages=[{}, {}])
    incident = make_incident(requester=customer)
    workflows.incident_hold(incident=incident, actor=agent, reason="Waiting")
    assert sweep(now, hours=2) == []
    assert fresh(incident).escalation_stage == 1


def test_on_hold_stops_the_stage_timer_and_resume_goes_on_with_what_was_left(customer, agent, now):
    policy(stages=[{"timeout_minutes": 30}, {}])
    incident = make_incident(requester=customer)  # stage 1 until 30 minutes from now
    now.advance(minutes=20)
    incident = workflows.incident_hold(incident=fresh(incident), actor=agent, reason="Waiting")
    incident = fresh(incident)
    assert (incident.escalation_next_at, incident.escalation_time_left) == (None, timedelta(minutes=10))
    assert sweep(now, hours=3) == []  # three hours on hold
    resumed_at = now()
    incident = fresh(workflows.incident_resume(incident=fresh(incident), actor=agent))
    assert incident.escalation_next_at == resumed_at + timedelta(minutes=10)
    assert incident.escalation_time_left is None
    assert sweep(now, minutes=9) == []  # not the minute it comes back
    assert sweep(now, minutes=1) == [incident.pk]
    # Timer bookkeeping is not journaled; the stage move is.
    fields = set(AuditEntry.objects.filter(object_id=str(incident.pk)).values_list("field", flat=True))
    assert "escalation_time_left" not in fields and "escalation_stage" in fields


def test_acknowledging_a_stage_that_requires_it_while_on_hold_leaves_nothing_to_resume(customer, agent, now):
    policy(stages=[{"requires_acknowledgment": True, "timeout_minutes": 30}, {}])
    incident = make_incident(requester=customer)
    incident = workflows.incident_hold(incident=incident, actor=agent, reason="Waiting")
    incident = workflows.incident_acknowledge(incident=fresh(incident), actor=agent)
    assert fresh(incident).escalation_time_left is None
    incident = fresh(workflows.incident_resume(incident=fresh(incident), actor=agent))
    assert incident.escalation_next_at is None
    assert sweep(now, hours=2) == []


def test_escalating_an_incident_on_hold_keeps_the_new_stage_timer_for_the_resume(customer, agent, now):
    policy(stages=[{}, {"timeout_minutes": 15}, {}])
    incident = make_incident(requester=customer)
    incident = workflows.incident_hold(incident=incident, actor=agent, reason="Waiting")
    incident = fresh(workflows.incident_escalate(incident=fresh(incident), actor=agent, reason="VIP"))
    assert incident.escalation_stage == 2
    assert (incident.escalation_next_at, incident.escalation_time_left) == (None, timedelta(minutes=15))
    now.advance(hours=1)
    incident = fresh(workflows.incident_resume(incident=incident, actor=agent))
    assert incident.escalation_next_at == now() + timedelta(minutes=15)


def test_customers_never_see_the_paused_stage_timer(customer, agent, api, now):
    policy(stages=[{}, {}])
    incident = make_incident(requester=customer)
    workflows.incident_hold(incident=incident, actor=agent, reason="Waiting")
    body = api.as_user(customer).get(f"/api/v1/incidents/{incident.pk}/").json()
    assert body["id"] == incident.pk and body["state"] == "on_hold"
    assert not any(name.startswith("escalation") for name in body)


@pytest.mark.parametrize("finish", ["resolve", "cancel"])
def test_resolved_and_cancelled_incidents_stop_advancing(finish, customer, agent, now):
    policy(stages=[{}, {}])
    incident = make_incident(requester=customer)
    if finish == "resolve":
        incident = workflows.incident_resolve(
            incident=incident, actor=agent, resolution_code="resolved", resolution_notes="ok"
        )
    else:
        incident = workflows.incident_cancel(incident=incident, actor=customer)
    assert fresh(incident).escalation_next_at is None
    assert fresh(incident).escalation_time_left is None
    assert sweep(now, hours=1) == []
    assert fresh(incident).escalation_stage == 1


def test_reopening_restarts_the_stage_timer(customer, agent, now):
    policy(stages=[{"requires_acknowledgment": True, "timeout_minutes": 20}, {}])
    incident = make_incident(requester=customer)
    incident = workflows.incident_acknowledge(incident=incident, actor=agent)
    incident = workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes="ok"
    )
    reopened_at = now.advance(hours=3)
    incident = fresh(workflows.incident_reopen(incident=incident, actor=agent, notes="Back"))
    assert incident.escalation_stage_started_at == reopened_at
    assert incident.escalation_acknowledged_at is None  # needs acknowledging again
    assert incident.escalation_next_at == reopened_at.replace(minute=20)
    assert sweep(now, minutes=19) == []
    assert sweep(now, minutes=1) == [incident.pk]


# --- Acknowledge ----------------------------------------------------------------------------------


def test_acknowledge_assigns_the_acknowledging_user(customer, agent, api, now):
    policy(stages=[{"requires_acknowledgment": True}, {}])
    incident = make_incident(requester=customer)
    r = api.as_user(agent).post(URL.format(incident.pk, "acknowledge"), {}, format="json")
    assert r.status_code == 200, r.content
    incident = fresh(incident)
    assert incident.assignee == agent
    assert incident.escalation_acknowledged_at == now()


@pytest.mark.parametrize("state", ["resolved", "closed"])
def test_acknowledge_is_refused_on_resolved_and_closed_incidents(state, customer, agent, api, now):
    policy(stages=[{"requires_acknowledgment": True}, {}])
    incident = make_incident(requester=customer)
    incident = workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes="ok"
    )
    if state == "closed":
        incident = workflows.incident_close(incident=incident, actor=agent)
    r = api.as_user(agent).post(URL.format(incident.pk, "acknowledge"), {}, format="json")
    assert r.status_code == 400, r.content
    assert state in r.content.decode()
    incident = fresh(incident)
    assert incident.escalation_acknowledged_at is None
    assert incident.assignee is None


# --- Manual escalation -------------------------------------------------------------------------


def test_manual_escalation_raises_the_level_moves_on_and_tells_the_leads(
    customer, agent, lead, desk, network, bob, api, now, django_capture_on_commit_callbacks
):
    policy(stages=[{"assignment_group": desk, "timeout_minutes": 60}, {"assignment_group": network}])
    incident = make_incident(requester=customer)
    with django_capture_on_commit_callbacks(execute=True):
        r = api.as_user(agent).post(
            URL.format(incident.pk, "escalate"), {"reason": "VIP down"}, format="json"
        )
    assert r.status_code == 200, r.content
    incident = fresh(incident)
    assert incident.escalation_level == 1
    assert incident.escalation_stage == 2
    assert incident.assignment_group == network
    # The new group's lead is told of the escalation (and of the stage).
    assert bob in told(Kind.ESCALATED, incident)
    assert bob in told(Kind.STAGE, incident)
    assert any("escalated to level 1" in m.subject for m in mail.outbox)
    journal = AuditEntry.objects.filter(object_id=str(incident.pk), field="escalation_level").get()
    assert (journal.old_value, journal.new_value, journal.actor) == ("0", "1", agent)
    note = IncidentNote.objects.get(incident=incident, kind=IncidentNote.Kind.WORK_NOTE)
    assert note.body == "[Escalated] VIP down"
    assert note.author == agent


def test_manual_escalation_at_the_last_stage_still_raises_the_level(customer, agent, lead, desk, now):
    policy(stages=[{"assignment_group": desk}])
    incident = make_incident(requester=customer)
    incident = workflows.incident_escalate(incident=incident, actor=agent, reason="Still down")
    incident = fresh(incident)
    assert (incident.escalation_level, incident.escalation_stage) == (1, 1)
    assert lead in told(Kind.ESCALATED, incident)


def test_customers_cannot_escalate(customer, api, now):
    policy(stages=[{}, {}])
    incident = make_incident(requester=customer)
    r = api.as_user(customer).post(URL.format(incident.pk, "escalate"), {"reason": "Hurry"}, format="json")
    assert r.status_code in (403, 404), r.content
    assert fresh(incident).escalation_level == 0


# --- What customers receive ------------------------------------------------------------------------

HIDDEN_PROBE = (
    "P={{ work.priority }}|A={{ work.assignee }}|AN={{ work.assignee_name }}|S={{ work.sla_status }}|"
    "L={{ work.escalation_level }}|X={{ priority }}|Y={{ sla_status }}|Z={{ escalation_level }}|"
    "D={{ due_at }}|N={{ work.number }}"
)


def _probe_templates(kind):
    return override_settings(
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "OPTIONS": {
                    "loaders": [
                        (
                            "django.template.loaders.locmem.Loader",
                            {
                                f"notifications/email/{kind}.txt": HIDDEN_PROBE,
                                f"notifications/email/{kind}_subject.txt": "About {{ work.number }}",
                            },
                        )
                    ]
                },
            }
        ]
    )


def test_a_customers_e_mail_never_names_a_hidden_field(
    customer, agent, desk, now, django_capture_on_commit_callbacks
):
    """Even a template that asks for priority, assignee, SLA status and escalation level, with
    those values passed as extra context, renders none of them for a customer."""
    make_definition("Standard", is_default=True)
    incident = make_incident(requester=customer, priority="P1")
    incident = services.incident_assign(incident=incident, actor=agent, assignee=agent, assignment_group=desk)
    incident = fresh(incident)
    assert (incident.priority, incident.sla_status) == ("P1", "in_progress")
    extra = {"priority": "P1", "sla_status": "in_progress", "escalation_level": 7, "due_at": "2026-03-02"}
    kind = "customer_probe"
    with _probe_templates(kind), django_capture_on_commit_callbacks(execute=True):
        notify.send([Message(customer, kind, incident, extra), Message(agent, kind, incident, extra)])
    by_recipient = {m.to[0]: m.body for m in mail.outbox}
    customer_body = by_recipient[customer.email]
    assert f"N={incident.number}" in customer_body
    for value in ("P1", "agent", "in_progress", "In progress", "7", "2026-03-02"):
        assert value not in customer_body.replace(incident.number, ""), (value, customer_body)
    # The agent, who may read them, gets them.
    assert "P=P1" in by_recipient[agent.email]
    assert "S=in_progress" in by_recipient[agent.email]
    # Customers have no in-app list: only the agent's notification is stored.
    assert set(Notification.objects.filter(kind=kind).values_list("recipient", flat=True)) == {agent.pk}


@pytest.mark.parametrize("kind", [Kind.SLA_WARNING, Kind.SLA_BREACHED, Kind.ESCALATED, Kind.STAGE])
def test_customers_are_never_sent_sla_or_escalation_messages(
    kind, customer, now, django_capture_on_commit_callbacks
):
    incident = make_incident(requester=customer)
    extra = {"target": "response", "due_at": now(), "breached_at": now(), "escalation_level": 1, "by": "x",
             "stage": 2, "policy": "Default", "timeout_minutes": 10, "requires_acknowledgment": True, "has_next": True}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        notify.send([Message(customer, kind, incident, extra)])
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_a_customer_named_as_a_stage_user_is_not_told_of_the_escalation(
    customer, agent, now, django_capture_on_commit_callbacks
):
    policy(stages=[{"users": [customer, agent]}, {}])
    with django_capture_on_commit_callbacks(execute=True):
        incident = make_incident(requester=customer)
    assert told(Kind.STAGE, incident) == {agent}
    # The customer gets only its acknowledgement (issue #17), never the stage message.
    assert sorted(m.to[0] for m in mail.outbox) == [agent.email, customer.email]
    assert all("stage" not in m.subject for m in mail.outbox if m.to == [customer.email])


def test_stage_e_mails_read_well(customer, agent, now, django_capture_on_commit_callbacks):
    policy(
        "Out of hours",
        stages=[{"users": [agent], "requires_acknowledgment": True, "timeout_minutes": 15}, {}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        incident = make_incident(requester=customer, short_description="VPN down")
    message = mail.outbox[0]
    assert message.subject == f"{incident.number} needs you: escalation stage 1 of Out of hours"
    assert "Acknowledge it within 15 minutes" in message.body
    assert '"VPN down"' in message.body
    assert f"/desk/incidents/{incident.pk}/" in message.body


def test_an_on_call_schedule_stage_tells_whoever_is_on_call_at_the_time(
    customer, alice, bob, make_schedule, now
):
    schedule = make_schedule([alice, bob], name="Rota", start=datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    policy(stages=[{}, {"schedule": schedule}])
    # Daily hand-offs at 09:00 UTC from Sunday 1 March: Monday 2 March is bob's day.
    incident = make_incident(requester=customer)
    sweep(now, minutes=10)
    incident = fresh(incident)
    assert incident.assignee == bob
    assert told(Kind.STAGE, incident) == {bob}


def _sweep_queries(customer, now, count, django_assert_max_num_queries) -> int:
    incidents = [make_incident(requester=customer, short_description=f"Disk {n}") for n in range(count)]
    for incident in incidents:  # at the last stage, or acknowledged: nothing to move on to
        Incident.objects.filter(pk=incident.pk).update(escalation_next_at=now() - timedelta(minutes=1))
    with django_assert_max_num_queries(40) as captured:
        assert escalation.sweep(now=now())["advanced"] == []
    assert not Incident.objects.filter(escalation_next_at__isnull=False).exists()
    return len(captured.captured_queries)


def test_the_sweep_stops_timers_with_nothing_to_move_on_to_in_the_same_queries_for_2_and_12(
    customer, now, django_assert_max_num_queries
):
    policy(stages=[{}])  # one stage: the last
    few = _sweep_queries(customer, now, 2, django_assert_max_num_queries)
    assert _sweep_queries(customer, now, 12, django_assert_max_num_queries) == few


# --- A reassigning sweep withdraws "needs you" as a single reassignment does ---------------------


def needs_you(person, incident, kind=Kind.SLA_WARNING):
    notify.send([Message(person, kind, incident, {"stage": 1, "policy": "P"})])
    return Notification.objects.get(recipient=person, work=incident, kind=kind)


def unread(notice) -> bool:
    notice.refresh_from_db()
    return notice.read_at is None


def test_a_sweep_that_reassigns_withdraws_the_former_assignees_needs_you_and_tells_the_new_one(
    customer, agent, bob, make_schedule, now
):
    schedule = make_schedule([bob], name="Rota")
    policy(stages=[{}, {"schedule": schedule}])
    incident = make_incident(requester=customer, assignee=agent)
    former, new = needs_you(agent, incident), needs_you(bob, incident)
    held = make_incident(requester=customer, assignee=agent, short_description="Other")
    other_work = needs_you(agent, workflows.incident_hold(incident=held, actor=agent))  # it does not move
    assert sweep(now, minutes=10) == [incident.pk]
    assert fresh(incident).assignee == bob
    assert not unread(former)  # the former assignee's is gone
    assert unread(new)  # the new assignee's stays…
    assert Notification.objects.filter(recipient=bob, work=incident, kind=Kind.STAGE, read_at=None).exists()
    assert unread(other_work)  # …and so does what the former assignee has on other work
    assert notify.unread_count(agent) == 1


def test_a_sweep_that_unassigns_withdraws_only_the_former_assignees_needs_you(
    customer, agent, bob, network, now
):
    # The next stage's group has nobody on call and the assignee is not its member: unassigned.
    policy(stages=[{}, {"assignment_group": network}])
    incident = make_incident(requester=customer, assignee=agent)
    former, member = needs_you(agent, incident), needs_you(bob, incident)
    assert sweep(now, minutes=10) == [incident.pk]
    incident = fresh(incident)
    assert (incident.assignment_group, incident.assignee) == (network, None)
    assert not unread(former)
    assert unread(member)


def _reassigning_sweep_queries(customer, agent, now, count, django_assert_max_num_queries) -> int:
    incidents = [make_incident(requester=customer, assignee=agent) for _ in range(count)]
    for incident in incidents:
        needs_you(agent, incident)
    due = now() - timedelta(minutes=1)
    Incident.objects.filter(pk__in=[i.pk for i in incidents]).update(escalation_next_at=due)
    with django_assert_max_num_queries(60) as captured:
        assert sorted(escalation.sweep(now=now())["advanced"]) == sorted(i.pk for i in incidents)
    assert notify.unread_count(agent) == 0
    Incident.objects.all().delete()
    return len(captured.captured_queries)


def test_a_reassigning_sweep_withdraws_in_the_same_queries_for_5_and_50(
    customer, agent, bob, make_schedule, now, django_assert_max_num_queries
):
    policy(stages=[{}, {"schedule": make_schedule([bob], name="Rota")}, {}])
    few = _reassigning_sweep_queries(customer, agent, now, 5, django_assert_max_num_queries)
    assert _reassigning_sweep_queries(customer, agent, now, 50, django_assert_max_num_queries) == few
