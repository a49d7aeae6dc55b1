"""SLA clocks through the incident services and workflows (issue #4 items 2 and 4).

An incident gets its SLA on creation — its hosts' group's, else its organisation's default,
else the account-wide default; inactive ones are skipped — and a clock per target its priority
has. Clocks pause while on hold, the response clock stops at the first agent response or
acknowledgment, resolution stops both, cancel cancels, reopen retires them and starts new ones,
a priority change retargets them. ``sla_status`` is in_progress, at_risk, breached, met or
paused at the right moments, and every clock's history is kept as events.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from incidents import alerts, services, workflows
from incidents.models import IncidentNote
from itsm.models import Host, HostGroup
from sla import clocks as sla_clocks
from sla.models import ClockEvent, ClockState, SlaClock, SlaStatus
from sla.tasks import sla_sweep
from tests.incidents.factories import make_incident
from tests.sla.support import (
    clock,
    clocks_of,
    fresh,
    holiday,
    kinds,
    make_definition,
    now_fixture,  # noqa: F401 (the ``now`` fixture)
    office_calendar,
)

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture
def standard(db):
    """The account-wide default SLA, 24×7: P4 response 4 h, resolution 24 h; P1 15 min / 1 h."""
    return make_definition("Standard", is_default=True)


def resolve(incident, actor):
    return workflows.incident_resolve(
        incident=incident, actor=actor, resolution_code="resolved", resolution_notes="Fixed."
    )


# --- Which SLA ----------------------------------------------------------------------------------


def test_without_any_sla_definition_no_clock_starts(customer, now):
    incident = make_incident(requester=customer)
    assert incident.sla_definition is None
    assert not SlaClock.objects.filter(work_id=incident.pk).exists()
    assert fresh(incident).sla_status == ""


def test_the_account_wide_default_applies_when_nothing_else_does(customer, standard, now):
    incident = make_incident(requester=customer)
    assert fresh(incident).sla_definition == standard


def test_the_organisation_default_comes_before_the_account_wide_one(customer, organisation, standard, now):
    gold = make_definition("Gold")
    organisation.default_sla = gold
    organisation.save()
    assert fresh(make_incident(requester=customer)).sla_definition == gold


def test_an_inactive_organisation_default_is_skipped(customer, organisation, standard, now):
    organisation.default_sla = make_definition("Retired", is_active=False)
    organisation.save()
    assert fresh(make_incident(requester=customer)).sla_definition == standard


def test_an_inactive_account_wide_default_is_not_used(customer, now):
    make_definition("Old", is_default=True, is_active=False)
    incident = make_incident(requester=customer)
    assert fresh(incident).sla_definition is None
    assert not SlaClock.objects.filter(work_id=incident.pk).exists()


def _alert(monitor, host="db01"):
    payload = {
        "source": "prometheus", "rule": "DiskFull", "host": host, "severity": "minor",
        "message": "/var is 97% full", "fingerprint": f"diskfull-{host}",
    }  # fmt: skip
    return alerts.event_ingest(actor=monitor, payload=payload)


@pytest.fixture
def monitor(db):
    from conftest import make_user
    from itsm.roles import Role

    return make_user("monitoring", Role.ITSM_AGENT)


def test_an_alert_incident_takes_its_host_groups_sla_first(monitor, organisation, standard, now):
    platinum = make_definition("Platinum")
    organisation.default_sla = make_definition("Gold")
    organisation.save()
    group = HostGroup.objects.create(name="Databases", sla=platinum)
    Host.objects.create(hostname="db01", host_group=group, organisation=organisation)
    result = _alert(monitor)
    incident = result.incident
    assert fresh(incident).sla_definition == platinum
    assert {c.definition for c in clocks_of(incident).values()} == {platinum}


def test_an_inactive_host_group_sla_falls_back_to_the_organisation_default(
    monitor, organisation, standard, now
):
    gold = make_definition("Gold")
    organisation.default_sla = gold
    organisation.save()
    group = HostGroup.objects.create(name="Databases", sla=make_definition("Off", is_active=False))
    Host.objects.create(hostname="db01", host_group=group, organisation=organisation)
    incident = _alert(monitor).incident
    assert fresh(incident).sla_definition == gold


def test_hosts_passed_to_the_create_service_choose_the_sla(agent, standard, now):
    platinum = make_definition("Platinum")
    group = HostGroup.objects.create(name="Databases", sla=platinum)
    host = Host.objects.create(hostname="db02", host_group=group)
    incident = services.incident_create(actor=agent, data={"short_description": "db02 down"}, hosts=[host])
    assert fresh(incident).sla_definition == platinum


# --- The clocks of a new incident ----------------------------------------------------------------


def test_a_clock_per_target_of_the_priority(customer, standard, now):
    incident = make_incident(requester=customer, priority="P1")
    found = clocks_of(incident)
    assert set(found) == {"response", "resolution"}
    assert found["response"].target_duration == 15 * M
    assert found["resolution"].target_duration == 60 * M
    assert found["response"].due_at == now() + 15 * M
    assert found["resolution"].due_at == now() + 60 * M
    assert found["resolution"].warn_at == now() + 45 * M
    assert all(c.state == ClockState.RUNNING and c.priority == "P1" for c in found.values())
    incident = fresh(incident)
    assert incident.sla_status == SlaStatus.IN_PROGRESS
    assert incident.sla_due_at == now() + 15 * M


def test_a_priority_without_a_target_gets_no_clock_for_it(customer, now):
    make_definition("Resolution only", is_default=True, targets={"P4": (None, 600)})
    assert set(clocks_of(make_incident(requester=customer))) == {"resolution"}


def test_due_times_follow_the_business_calendar(customer, now):
    calendar = office_calendar()
    make_definition("Office", calendar=calendar, is_default=True)
    now.set(datetime(2026, 3, 6, 16, 0, tzinfo=UTC))  # Friday 16:00 London
    incident = make_incident(requester=customer)  # P4: response 4 h, resolution 24 h of office time
    found = clocks_of(incident)
    assert found["response"].due_at == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # Monday 12:00
    assert found["resolution"].due_at == datetime(2026, 3, 11, 16, 0, tzinfo=UTC)  # 1 + 8 + 8 + 7 h
    assert found["resolution"].calendar == calendar


def test_holidays_push_the_due_time(customer, now):
    calendar = office_calendar()
    holiday(calendar, date(2025, 3, 9), recurring=True)  # every 9 March: Monday in 2026
    make_definition("Office", calendar=calendar, is_default=True)
    now.set(datetime(2026, 3, 6, 16, 0, tzinfo=UTC))
    incident = make_incident(requester=customer)
    assert clock(incident, "response").due_at == datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


# --- Hold and resume ---------------------------------------------------------------------------


def test_hold_pauses_clearing_the_due_time_and_banking_the_elapsed_time(customer, agent, standard, now):
    incident = make_incident(requester=customer)
    now.advance(hours=2)
    incident = workflows.incident_hold(incident=incident, actor=agent, reason="Waiting for the vendor")
    for found in clocks_of(incident).values():
        assert found.state == ClockState.PAUSED
        assert (found.due_at, found.warn_at, found.running_since) == (None, None, None)
        assert found.elapsed == 2 * H
    incident = fresh(incident)
    assert incident.sla_status == SlaStatus.PAUSED
    assert incident.sla_due_at is None
    # Paused clocks do not use time.
    now.advance(days=3)
    assert clock(incident).elapsed_at(now()) == 2 * H
    assert clock(incident).status(now()) == SlaStatus.PAUSED


def test_resume_pushes_the_due_time_by_the_paused_business_time(customer, agent, now):
    make_definition("Office", calendar=office_calendar(), is_default=True)
    incident = make_incident(requester=customer)  # Monday 09:00; resolution 24 office hours: Wednesday 17:00
    assert clock(incident).due_at == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)
    now.set(datetime(2026, 3, 2, 11, 0, tzinfo=UTC))
    incident = workflows.incident_hold(incident=incident, actor=agent)
    now.set(datetime(2026, 3, 3, 10, 0, tzinfo=UTC))  # paused 6 h Monday + 1 h Tuesday of office time
    incident = workflows.incident_resume(incident=incident, actor=agent)
    resolution = clock(incident)
    assert resolution.elapsed == 2 * H
    assert resolution.state == ClockState.RUNNING
    assert resolution.due_at == datetime(2026, 3, 5, 16, 0, tzinfo=UTC)  # Wednesday 17:00 + 7 h
    assert fresh(incident).sla_status == SlaStatus.IN_PROGRESS


def test_a_clock_already_past_due_when_put_on_hold_is_recorded_as_breached_once(
    customer, agent, standard, now
):
    incident = make_incident(requester=customer, priority="P1")  # response 15 min
    now.advance(minutes=20)  # no sweep ran
    incident = workflows.incident_hold(incident=incident, actor=agent)
    response = clock(incident, "response")
    assert response.breached_at == now() - 5 * M
    assert response.state == ClockState.PAUSED
    incident = fresh(incident)
    assert incident.escalation_level == 1
    assert incident.sla_status == SlaStatus.BREACHED
    sla_sweep()
    assert fresh(incident).escalation_level == 1
    assert kinds(response) == [ClockEvent.STARTED, ClockEvent.BREACHED, ClockEvent.PAUSED]


# --- Responses -----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["acknowledge", "start", "agent comment"])
def test_the_first_agent_response_stops_the_response_clock(how, customer, agent, standard, now):
    incident = make_incident(requester=customer)
    now.advance(minutes=30)
    if how == "acknowledge":
        workflows.incident_acknowledge(incident=incident, actor=agent)
    elif how == "start":
        workflows.incident_start(incident=incident, actor=agent)
    else:
        services.note_add(incident=incident, actor=agent, kind=IncidentNote.Kind.COMMENT, body="Looking.")
    found = clocks_of(incident)
    assert found["response"].state == ClockState.STOPPED
    assert found["response"].stopped_at == now()
    assert found["response"].elapsed == 30 * M
    assert found["response"].status(now()) == SlaStatus.MET
    assert found["resolution"].state == ClockState.RUNNING
    assert fresh(incident).sla_due_at == found["resolution"].due_at


def test_a_customers_comment_and_an_agents_work_note_do_not_stop_the_response_clock(
    customer, agent, standard, now
):
    incident = make_incident(requester=customer)
    now.advance(minutes=10)
    services.note_add(incident=incident, actor=customer, kind=IncidentNote.Kind.COMMENT, body="Any news?")
    services.note_add(incident=incident, actor=agent, kind=IncidentNote.Kind.WORK_NOTE, body="Internal.")
    assert clock(incident, "response").state == ClockState.RUNNING


def test_a_second_response_changes_nothing(customer, agent, standard, now):
    incident = make_incident(requester=customer)
    now.advance(minutes=5)
    workflows.incident_acknowledge(incident=incident, actor=agent)
    stopped = clock(incident, "response")
    now.advance(minutes=5)
    services.note_add(incident=incident, actor=agent, kind=IncidentNote.Kind.COMMENT, body="On it.")
    again = clock(incident, "response")
    assert (again.stopped_at, again.elapsed) == (stopped.stopped_at, stopped.elapsed)
    assert kinds(again) == [ClockEvent.STARTED, ClockEvent.STOPPED]


# --- Resolve, cancel, reopen -------------------------------------------------------------------


def test_resolving_in_time_stops_both_clocks_met(customer, agent, standard, now):
    incident = make_incident(requester=customer)
    now.advance(hours=3)
    incident = resolve(incident, agent)
    found = clocks_of(incident)
    assert {c.state for c in found.values()} == {ClockState.STOPPED}
    assert {c.status(now()) for c in found.values()} == {SlaStatus.MET}
    incident = fresh(incident)
    assert (incident.sla_status, incident.sla_due_at) == (SlaStatus.MET, None)
    assert incident.escalation_level == 0


def test_resolving_late_stops_both_clocks_breached(customer, agent, standard, now):
    incident = make_incident(requester=customer)  # P4: response 4 h, resolution 24 h
    now.advance(hours=25)  # no sweep ran: the resolution records the breaches
    incident = resolve(incident, agent)
    found = clocks_of(incident)
    assert {c.status(now()) for c in found.values()} == {SlaStatus.BREACHED}
    assert found["response"].breached_at == found["response"].started_at + 4 * H
    assert found["resolution"].elapsed == 25 * H
    incident = fresh(incident)
    assert incident.sla_status == SlaStatus.BREACHED
    assert incident.escalation_level == 2  # one per breach


def test_cancelling_cancels_the_clocks(customer, agent, standard, now):
    incident = make_incident(requester=customer)
    now.advance(hours=1)
    incident = workflows.incident_cancel(incident=incident, actor=customer, reason="Works again")
    found = clocks_of(incident)
    assert {c.state for c in found.values()} == {ClockState.CANCELLED}
    assert all(c.elapsed == H and c.due_at is None for c in found.values())
    assert kinds(found["resolution"]) == [ClockEvent.STARTED, ClockEvent.CANCELLED]
    incident = fresh(incident)
    assert (incident.sla_status, incident.sla_due_at) == ("", None)


def test_reopening_retires_the_clocks_and_starts_new_ones_from_the_reopen_time(
    customer, agent, standard, now
):
    incident = make_incident(requester=customer)
    now.advance(hours=2)
    incident = resolve(incident, agent)
    old = set(SlaClock.objects.filter(work_id=incident.pk).values_list("pk", flat=True))
    now.advance(hours=5)
    incident = workflows.incident_reopen(incident=incident, actor=agent, notes="Broke again")
    retired = SlaClock.objects.filter(pk__in=old)
    assert {c.is_current for c in retired} == {False}
    assert {c.state for c in retired} == {ClockState.STOPPED}
    assert all(kinds(c)[-1] == ClockEvent.RETIRED for c in retired)
    found = clocks_of(incident)
    assert set(found) == {"response", "resolution"}
    assert not old & {c.pk for c in found.values()}
    for new in found.values():
        assert (new.started_at, new.running_since, new.elapsed) == (now(), now(), timedelta(0))
        assert new.due_at == now() + new.target_duration
    incident = fresh(incident)
    assert incident.sla_status == SlaStatus.IN_PROGRESS
    assert incident.sla_due_at == now() + 4 * H


# --- Priority changes --------------------------------------------------------------------------


def test_a_priority_change_retargets_keeping_the_elapsed_time(customer, agent, standard, now):
    incident = make_incident(requester=customer)  # P4
    now.advance(minutes=20)
    incident = services.incident_update(incident=incident, actor=agent, data={"priority": "P2"})
    found = clocks_of(incident)
    assert found["resolution"].priority == "P2"
    assert found["resolution"].target_duration == 240 * M
    assert found["resolution"].elapsed == 20 * M
    assert found["resolution"].due_at == now() + 220 * M
    assert found["response"].due_at == now() + 10 * M
    assert kinds(found["resolution"]) == [ClockEvent.STARTED, ClockEvent.RETARGETED]
    assert fresh(incident).sla_due_at == now() + 10 * M


def test_a_tighter_target_already_used_up_breaches_at_the_next_sweep(customer, agent, standard, now):
    incident = make_incident(requester=customer)  # P4: response 4 h
    now.advance(minutes=40)
    incident = services.incident_update(incident=incident, actor=agent, data={"priority": "P1"})  # 15 min
    assert clock(incident, "response").due_at == now()
    sla_sweep()
    assert fresh(incident).sla_status == SlaStatus.BREACHED
    assert fresh(incident).escalation_level == 1


def test_a_target_the_new_priority_does_not_have_is_cancelled(customer, agent, now):
    make_definition("Mixed", is_default=True, targets={"P4": (240, 1440), "P2": (None, 240)})
    incident = make_incident(requester=customer)
    now.advance(minutes=10)
    incident = services.incident_update(incident=incident, actor=agent, data={"priority": "P2"})
    found = clocks_of(incident)
    assert found["response"].state == ClockState.CANCELLED
    assert kinds(found["response"])[-1] == ClockEvent.CANCELLED
    assert found["resolution"].state == ClockState.RUNNING
    assert found["resolution"].target_duration == 240 * M


def test_a_priority_change_while_on_hold_keeps_the_clocks_paused(customer, agent, standard, now):
    incident = make_incident(requester=customer)
    now.advance(hours=1)
    incident = workflows.incident_hold(incident=incident, actor=agent)
    incident = services.incident_update(incident=incident, actor=agent, data={"priority": "P2"})
    resolution = clock(incident)
    assert (resolution.state, resolution.due_at, resolution.elapsed) == (ClockState.PAUSED, None, H)
    assert resolution.target_duration == 240 * M
    now.advance(hours=1)
    incident = workflows.incident_resume(incident=incident, actor=agent)
    assert clock(incident).due_at == now() + 3 * H


# --- sla_status at the right moments -------------------------------------------------------------


def test_sla_status_moves_through_in_progress_at_risk_breached(customer, standard, now):
    incident = make_incident(requester=customer)  # P4 response 4 h: at risk at 3 h
    assert fresh(incident).sla_status == SlaStatus.IN_PROGRESS
    now.advance(hours=2, minutes=59)
    sla_sweep()
    assert fresh(incident).sla_status == SlaStatus.IN_PROGRESS
    now.advance(minutes=1)
    sla_sweep()
    assert fresh(incident).sla_status == SlaStatus.AT_RISK
    now.advance(hours=1)
    incident = fresh(incident)
    # Past due before the sweep ran: what agents see is already breached.
    assert sla_clocks.live_status(incident, now()) == SlaStatus.BREACHED
    assert type(incident).objects.filter(sla_clocks.breached_q(now()), pk=incident.pk).exists()
    sla_sweep()
    assert fresh(incident).sla_status == SlaStatus.BREACHED


def test_sla_status_met_and_paused(customer, agent, standard, now):
    incident = make_incident(requester=customer)
    workflows.incident_hold(incident=incident, actor=agent)
    assert fresh(incident).sla_status == SlaStatus.PAUSED
    workflows.incident_resume(incident=fresh(incident), actor=agent)
    assert fresh(incident).sla_status == SlaStatus.IN_PROGRESS
    resolve(fresh(incident), agent)
    assert fresh(incident).sla_status == SlaStatus.MET


def test_a_breached_response_keeps_the_incident_breached_after_it_stops(customer, agent, standard, now):
    incident = make_incident(requester=customer)
    now.advance(hours=5)
    sla_sweep()
    workflows.incident_acknowledge(incident=fresh(incident), actor=agent)
    incident = fresh(incident)
    assert clock(incident, "response").status(now()) == SlaStatus.BREACHED
    assert incident.sla_status == SlaStatus.BREACHED
    assert incident.sla_due_at == clock(incident).due_at


# --- History -----------------------------------------------------------------------------------


def test_the_clock_history_is_complete(customer, agent, standard, now):
    start = now()
    incident = make_incident(requester=customer)  # P4 resolution 24 h: warned at 18 h
    now.advance(hours=2)
    incident = workflows.incident_hold(incident=incident, actor=agent, reason="Vendor")
    now.advance(hours=10)
    incident = workflows.incident_resume(incident=incident, actor=agent)
    now.advance(hours=17)
    sla_sweep()  # 19 h used: at risk
    now.advance(hours=6)
    sla_sweep()  # 25 h used: breached
    incident = resolve(fresh(incident), agent)
    resolution = clock(incident)
    history = [(e.kind, e.at - start, e.elapsed, e.note) for e in resolution.events.order_by("at", "id")]
    assert history == [
        (ClockEvent.STARTED, timedelta(0), timedelta(0), "Standard, P4"),
        (ClockEvent.PAUSED, 2 * H, 2 * H, "Vendor"),
        (ClockEvent.RESUMED, 12 * H, 2 * H, ""),
        (ClockEvent.WARNED, 28 * H, 18 * H, ""),
        (ClockEvent.BREACHED, 34 * H, 24 * H, ""),
        (ClockEvent.STOPPED, 35 * H, 25 * H, "breached; resolved"),
    ]
    # Every event is in order and the elapsed time never goes back.
    elapsed = [e.elapsed for e in resolution.events.order_by("at", "id")]
    assert elapsed == sorted(elapsed)


def test_a_target_that_comes_back_with_a_later_priority_change_gets_a_new_clock(customer, agent, now):
    make_definition("Mixed", is_default=True, targets={"P4": (240, 1440), "P2": (None, 240)})
    incident = make_incident(requester=customer)
    now.advance(minutes=10)
    incident = services.incident_update(incident=incident, actor=agent, data={"priority": "P2"})
    cancelled = clock(incident, "response")
    now.advance(minutes=10)
    incident = services.incident_update(incident=incident, actor=agent, data={"priority": "P4"})
    response = clock(incident, "response")
    assert response.pk != cancelled.pk
    assert response.state == ClockState.RUNNING
    assert response.due_at == incident.opened_at + 4 * H  # counted from the opening, like any new target
    cancelled.refresh_from_db()
    assert not cancelled.is_current
    assert kinds(cancelled)[-1] == ClockEvent.RETIRED
    assert fresh(incident).sla_due_at == response.due_at


def test_a_response_target_that_comes_back_after_work_started_gets_no_late_clock(customer, agent, now):
    make_definition("Mixed", is_default=True, targets={"P4": (240, 1440), "P2": (None, 240)})
    incident = make_incident(requester=customer)
    incident = services.incident_update(incident=incident, actor=agent, data={"priority": "P2"})
    incident = workflows.incident_start(incident=incident, actor=agent)  # the response, on a P2
    now.advance(hours=5)  # past the P4's 4-hour response target, counted from the opening
    incident = services.incident_update(incident=fresh(incident), actor=agent, data={"priority": "P4"})
    response = clock(incident, "response")
    assert response.state == ClockState.CANCELLED  # stays history: no new clock, no breach
    assert fresh(incident).escalation_level == 0
    assert clock(incident, "resolution").state == ClockState.RUNNING


def test_a_calendar_edit_leaves_a_clock_already_past_due_for_the_sweep_to_record(customer, now):
    from sla.clocks import recalendar
    from sla.tasks import sla_sweep
    from tests.sla.support import holiday, office_calendar

    calendar = office_calendar()
    make_definition("Office", calendar=calendar, is_default=True)
    incident = make_incident(requester=customer)  # Monday 09:00: response due 13:00
    due = clock(incident, "response").due_at
    now.advance(hours=5)  # 14:00, not swept yet
    before = calendar.as_calendar()
    holiday(calendar, (now() + 24 * H).date())
    recalendar(calendar.pk, before, now())
    assert clock(incident, "response").due_at == due
    sla_sweep()
    assert clock(incident, "response").breached_at == due  # when it was due, not when the calendar changed
