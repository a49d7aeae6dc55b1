"""The desk shows each SLA clock with its due time and why (calendar, holidays, pauses, history),
and the escalation policy with Acknowledge and Escalate; the queue filters on breaches and shows
each incident's SLA status. Customers see none of it (SPEC §4, issue #4)."""

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape

import pytest
from django.urls import reverse

from conftest import make_user
from escalation.models import EscalationPolicy, EscalationStage
from incidents import workflows
from incidents.models import IncidentNote
from itsm.models import AssignmentGroup, GroupMembership, SlaDefinition
from itsm.roles import Role
from sla import clocks
from sla.models import BusinessCalendar, Holiday, WorkingPeriod
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

LIST = reverse("desk:incident-list")
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')
# A Wednesday afternoon before Christmas, in the future (the clocks are still running "now").
START = datetime(2026, 12, 23, 16, 0, tzinfo=UTC)
# Session, user with its roles, the incident with its related rows, the clocks (with definition and
# calendar) and their events, periods and holidays (4 queries whatever their number), the
# escalation stages and their users (2), and the navigation's unread-notification count (1).
SLA_TAB_BOUND = 10


def url(name, incident, *args):
    return reverse(f"desk:{name}", args=[incident.pk, *args])


def text_of(response) -> str:
    html = CSRF_INPUT.sub("", unescape(response.content.decode()))
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def office():
    calendar = BusinessCalendar.objects.create(name="London office", time_zone="Europe/London")
    WorkingPeriod.objects.bulk_create(
        WorkingPeriod(calendar=calendar, weekday=day, start=time(9), end=time(17)) for day in range(5)
    )
    Holiday.objects.create(
        calendar=calendar, name="Christmas Day", date=datetime(2020, 12, 25).date(), recurring=True
    )
    Holiday.objects.create(
        calendar=calendar, name="Boxing Day", date=datetime(2020, 12, 26).date(), recurring=True
    )
    return calendar


@pytest.fixture
def standard(office):
    targets = {}
    for n, (response, resolution) in enumerate([(15, 240), (60, 480), (240, 1440), (480, 2400)], start=1):
        targets[f"p{n}_response_minutes"] = response
        targets[f"p{n}_resolution_minutes"] = resolution
    return SlaDefinition.objects.create(name="Standard", is_default=True, calendar=office, **targets)


@pytest.fixture
def group(agent, lead):
    group = AssignmentGroup.objects.create(name="Service desk")
    GroupMembership.objects.create(group=group, user=agent)
    GroupMembership.objects.create(group=group, user=lead, role=GroupMembership.Role.LEAD)
    return group


@pytest.fixture
def escalation_policy(group, lead):
    policy = EscalationPolicy.objects.create(name="Out of hours", is_default=True)
    EscalationStage.objects.create(policy=policy, order=1, timeout_minutes=30, assignment_group=group)
    second = EscalationStage.objects.create(
        policy=policy, order=2, timeout_minutes=60, requires_acknowledgment=True
    )
    second.users.add(lead)
    return policy


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def desk_user(organisation):
    """Desk access without the SLA: reads only its own incidents, none of their hidden fields."""
    return make_user("deskuser", Role.PLATFORM_AGENT, organisation=organisation)


def christmas_incident(customer, pauses=1):
    """An incident whose clocks started at ``START`` (before Christmas) and were on hold
    ``pauses`` times, on the London office calendar."""
    incident = make_incident(requester=customer, short_description="Payroll export fails")
    clocks.cancel(incident, at=START)  # the clocks incident_create started "now" are not wanted
    clocks.restart(incident, at=START)
    at = START
    for n in range(pauses):
        clocks.pause(incident, at=at + timedelta(minutes=10), note=f"Waiting for the supplier ({n + 1})")
        at += timedelta(days=1)
        clocks.resume(incident, at=at)
    incident.refresh_from_db()
    return incident


# --- The SLA tab -----------------------------------------------------------------------------


def test_agent_sees_each_clock_with_its_due_time_calendar_holidays_and_pauses(desk, customer, standard):
    incident = christmas_incident(customer)
    response = desk.get(url("incident-sla", incident))
    assert response.status_code == 200
    current = response.context["clocks"]
    assert [clock["target"] for clock in current] == ["response", "resolution"]
    resolution = current[1]
    assert resolution["due_at"] is not None and resolution["due_at"] > START
    text = text_of(response)
    assert "SLA: Standard" in text
    assert "Resolution (P4)" in text and "Response (P4)" in text
    assert "In progress" in text
    assert "40 h of business time" in text  # 2,400 business minutes
    due_local = resolution["due_local"]
    assert f"{due_local:%H:%M} Europe/London" in text
    # Why: the calendar, the holidays between start and due time, the pause.
    assert "London office" in text and "Mon–Fri 09:00–17:00 (Europe/London)" in text
    assert "Christmas Day" in text and "Fri 25 Dec 2026" in text
    assert "Waiting for the supplier (1)" in text
    assert "Paused while on hold" in text
    # The history: what happened to each clock.
    assert "Started" in text and "Paused" in text and "Resumed" in text
    # The earlier clocks, retired by the restart, are kept as history.
    assert response.context["retired_clocks"]


def test_the_header_shows_the_sla_status_and_next_due_time_on_every_tab(desk, customer, standard):
    incident = make_incident(requester=customer)
    response = desk.get(url("incident-conversation", incident))
    badge = response.context["sla_badge"]
    assert badge["status"] == "in_progress" and badge["due_at"] == incident.sla_due_at
    assert "SLA: In progress" in text_of(response)


def test_an_incident_without_an_sla_says_so(desk, customer):
    incident = make_incident(requester=customer)
    text = text_of(desk.get(url("incident-sla", incident)))
    assert "No SLA clock runs for this incident" in text


def test_the_sla_tab_query_count_does_not_grow_with_pauses_events_and_holidays(
    desk, customer, standard, office, escalation_policy, django_assert_max_num_queries
):
    few = christmas_incident(customer, pauses=1)
    many = christmas_incident(customer, pauses=6)
    for day in range(1, 20):
        Holiday.objects.create(calendar=office, name=f"Closure {day}", date=datetime(2027, 1, day).date())

    def count(incident):
        desk.get(url("incident-sla", incident))
        with django_assert_max_num_queries(SLA_TAB_BOUND) as captured:
            assert desk.get(url("incident-sla", incident)).status_code == 200
        return len(captured)

    assert count(few) == count(many)


# --- Escalation ------------------------------------------------------------------------------


def test_agent_sees_the_escalation_policy_stage_and_next_advance(desk, customer, standard, escalation_policy):
    incident = make_incident(requester=customer)
    assert incident.escalation_stage == 1
    response = desk.get(url("incident-sla", incident))
    escalation = response.context["escalation"]
    assert escalation["policy"] == escalation_policy
    assert escalation["current"]["number"] == 1 and escalation["following"]["number"] == 2
    assert escalation["next_at"] == incident.escalation_next_at
    text = text_of(response)
    assert "Out of hours" in text
    assert "Notification stage Stage 1 of 2: group Service desk" in text
    # The level (SLA breaches and escalations by hand) is not read as a second, clashing stage.
    assert "Escalated Not yet (each SLA breach or escalation by hand)" in text
    assert "Escalation level" not in text
    assert response.context["escalate_form"] is not None
    assert 'action="' + url("incident-sla-action", incident, "escalate") + '"' in response.content.decode()


def test_on_hold_the_sla_tab_says_the_escalation_timer_is_stopped(
    desk, customer, agent, standard, escalation_policy
):
    incident = make_incident(requester=customer)
    workflows.incident_hold(incident=incident, actor=agent, reason="Waiting for a part")
    text = text_of(desk.get(url("incident-sla", incident)))
    assert re.search(
        r"Next stage Stage 2 \(lead\) (29|30) min after the incident comes off hold: "
        r"the timer is stopped while it is on hold",
        text,
    )


def test_agent_escalates_from_the_sla_tab_with_a_reason(
    desk, customer, agent, lead, standard, escalation_policy
):
    incident = make_incident(requester=customer)
    response = desk.post(
        url("incident-sla-action", incident, "escalate"), {"escalate-reason": "Payroll is due today."}
    )
    assert response.status_code == 302
    assert response["Location"] == url("incident-sla", incident) + "#escalation"
    incident.refresh_from_db()
    assert (incident.escalation_level, incident.escalation_stage) == (1, 2)
    note = incident.notes.get(kind=IncidentNote.Kind.WORK_NOTE)
    assert note.body == "[Escalated] Payroll is due today."
    page = text_of(desk.get(response["Location"]))
    assert f"{incident.number} is escalated to level 1" in page
    assert "Stage 2 of 2" in page


def test_agent_acknowledges_from_the_sla_tab(desk, customer, agent, standard, escalation_policy):
    incident = make_incident(requester=customer)
    response = desk.post(url("incident-sla-action", incident, "acknowledge"), {"acknowledge-comment": ""})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.assignee == agent and incident.escalation_acknowledged_at is not None


def test_escalating_a_resolved_incident_is_refused_with_a_message_not_an_error_page(desk, customer, agent):
    incident = make_incident(requester=customer)
    workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes="Done."
    )
    page = desk.get(url("incident-sla", incident))
    assert page.context["escalate_form"] is None and page.context["acknowledge_form"] is None
    response = desk.post(url("incident-sla-action", incident, "escalate"), {"escalate-reason": "Late"})
    assert response.status_code in (400, 409)
    assert "Error:" in text_of(response)
    incident.refresh_from_db()
    assert incident.escalation_level == 0


def test_an_unknown_sla_action_is_not_found_and_get_on_an_action_is_refused(desk, customer):
    incident = make_incident(requester=customer)
    assert desk.post(url("incident-sla-action", incident, "resolve")).status_code == 404
    assert desk.get(url("incident-sla-action", incident, "escalate")).status_code == 405


def test_a_desk_user_without_the_permission_gets_no_sla_tab_and_cannot_escalate(
    client, desk_user, agent, standard, escalation_policy
):
    own = make_incident(by=agent, short_description="My laptop", requester=desk_user)
    client.force_login(desk_user)
    overview = client.get(url("incident-detail", own))
    assert overview.status_code == 200
    assert "sla" not in [tab["name"] for tab in overview.context["tabs"]]
    assert overview.context["sla_badge"] is None
    assert "escalate" not in [action["name"] for action in overview.context["actions"]]
    text = text_of(overview)
    assert "SLA" not in text and "Escalat" not in text and "Out of hours" not in text
    assert client.get(url("incident-sla", own)).status_code == 404
    assert (
        client.post(url("incident-sla-action", own, "escalate"), {"escalate-reason": "x"}).status_code == 404
    )
    assert client.post(url("incident-action", own, "escalate"), {"escalate-reason": "x"}).status_code == 403
    own.refresh_from_db()
    assert own.escalation_level == 0


# --- The customer's portal -------------------------------------------------------------------


def test_the_customer_portal_never_shows_sla_status_or_escalation(
    client, customer, agent, standard, escalation_policy
):
    incident = christmas_incident(customer)
    workflows.incident_escalate(incident=incident, actor=agent, reason="Payroll is due today.")
    client.force_login(customer)
    pages = [
        client.get(reverse("portal:incident-list")),
        client.get(reverse("portal:incident-detail", args=[incident.pk])),
        client.get(reverse("portal:home")),
    ]
    for response in pages:
        assert response.status_code == 200
        text = text_of(response)
        for secret in ("SLA", "Standard", "London office", "Christmas", "Breach", "breach", "Escalat",
                       "escalat", "Out of hours", "Payroll is due", "In progress", "Due "):  # fmt: skip
            assert secret not in text, secret
        assert "sla_badge" not in (response.context or {})


# --- The queue -------------------------------------------------------------------------------


def breached_incident(customer, text="Server down"):
    """An incident whose clocks started long enough ago on 24×7 to be past due now."""
    incident = make_incident(requester=customer, short_description=text)
    clocks.restart(incident, at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    incident.refresh_from_db()
    return incident


def test_breached_filter_lists_only_incidents_past_an_sla_target(desk, customer):
    SlaDefinition.objects.create(
        name="24×7",
        is_default=True,
        **{f"p{n}_{t}_minutes": 60 for n in range(1, 5) for t in ("response", "resolution")},
    )
    late = breached_incident(customer)
    fresh = make_incident(requester=customer, short_description="Fresh")
    response = desk.get(LIST, {"breached": "on"})
    numbers = [incident.number for incident in response.context["page"].object_list]
    assert numbers == [late.number]
    all_rows = {i.number: i for i in desk.get(LIST).context["page"].object_list}
    assert all_rows[late.number].sla_live == "breached"
    assert all_rows[fresh.number].sla_live == "in_progress"
    text = text_of(desk.get(LIST))
    assert "Breached" in text and "In progress" in text and "due " in text


def test_breached_filter_query_count_is_the_same_for_3_and_30_incidents(
    desk, customer, django_assert_max_num_queries
):
    SlaDefinition.objects.create(
        name="24×7",
        is_default=True,
        **{f"p{n}_{t}_minutes": 60 for n in range(1, 5) for t in ("response", "resolution")},
    )

    def count():
        desk.get(LIST, {"breached": "on"})
        # Session, user with its roles, group and assignee choices, count, page, and the navigation's
        # unread-notification count, the saved views, the groups to share one with and the bulk
        # form's group and agent choices: never one per row.
        with django_assert_max_num_queries(12) as captured:
            response = desk.get(LIST, {"breached": "on", "state": "open"})
        assert response.status_code == 200
        return len(captured)

    for n in range(3):
        breached_incident(customer, f"Late {n}")
    few = count()
    for n in range(27):
        breached_incident(customer, f"Later {n}")
    assert count() == few
