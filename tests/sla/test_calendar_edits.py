"""Editing a calendar moves the clocks running on it (``sla.signals`` and ``sla.clocks.recalendar``).

Whichever door makes the change (the API, the admin), once it commits the running clocks take
the new working time from the moment of the change: the time used until then is measured on the
calendar as it was, their due and at-risk times are worked out again, the work's next due time
follows, and each clock's history says why. A change that leaves the working time as it was
moves nothing, and a change that rolls back queues nothing.
"""

from datetime import date, timedelta

import pytest
from django.db import transaction

from sla import signals
from sla.clocks import recalendar
from sla.models import BusinessCalendar, ClockEvent, Holiday
from tests.incidents.factories import make_incident
from tests.sla.support import (
    MONDAY_9,
    clock,
    fresh,
    holiday,
    kinds,
    make_definition,
    now_fixture,  # noqa: F401 (the ``now`` fixture)
    office_calendar,
)
from tests.sla.test_admin import calendar_form, management

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
TUESDAY = date(2026, 3, 3)
HOLIDAYS = "/api/v1/holidays/"
CALENDARS = "/api/v1/business-calendars/"


@pytest.fixture
def office(db):
    """Mon–Fri 09:00–17:00 London (GMT in March), the account-wide SLA's calendar: a P4's
    response is due in 4 business hours, its resolution in 24 (three working days)."""
    calendar = office_calendar()
    make_definition("Office", calendar=calendar, is_default=True)
    return calendar


@pytest.fixture
def incident(office, customer, now):
    return make_incident(requester=customer)  # Monday 09:00


def test_the_clocks_start_on_the_calendar_as_it_is(incident):
    assert clock(incident, "response").due_at == MONDAY_9 + 4 * H
    assert clock(incident, "resolution").due_at == MONDAY_9 + 2 * 24 * H + 8 * H  # Wednesday 17:00


def test_a_holiday_added_in_the_api_moves_the_due_time_of_running_clocks(
    incident, office, manager, api, now, django_capture_on_commit_callbacks
):
    now.advance(hours=1)  # Monday 10:00
    body = {"calendar": office.pk, "name": "Staff day", "date": TUESDAY.isoformat()}
    with django_capture_on_commit_callbacks(execute=True):
        assert api.as_user(manager).post(HOLIDAYS, body, format="json").status_code == 201
    resolution = clock(incident, "resolution")
    assert resolution.due_at == MONDAY_9 + 3 * 24 * H + 8 * H  # Thursday 17:00: Tuesday is off
    assert resolution.elapsed == H  # Monday 09:00–10:00, measured when the calendar changed
    assert resolution.running_since == MONDAY_9 + H
    assert kinds(resolution)[-1] == ClockEvent.RECALCULATED
    assert clock(incident, "response").due_at == MONDAY_9 + 4 * H  # still today, unaffected
    assert fresh(incident).sla_due_at == MONDAY_9 + 4 * H


def test_a_holiday_removed_in_the_api_brings_the_due_time_back(
    incident, office, manager, api, now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        day = Holiday.objects.create(calendar=office, name="Staff day", date=TUESDAY)
    assert clock(incident, "resolution").due_at == MONDAY_9 + 3 * 24 * H + 8 * H
    with django_capture_on_commit_callbacks(execute=True):
        assert api.as_user(manager).delete(f"{HOLIDAYS}{day.pk}/").status_code == 204
    assert clock(incident, "resolution").due_at == MONDAY_9 + 2 * 24 * H + 8 * H


def test_shorter_working_hours_count_the_time_used_before_the_change_on_the_old_hours(
    incident, office, manager, api, now, django_capture_on_commit_callbacks
):
    now.advance(hours=2)  # Monday 11:00: two business hours used on 09:00–17:00
    periods = [{"weekday": d, "start": "09:00", "end": "13:00"} for d in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        r = api.as_user(manager).patch(f"{CALENDARS}{office.pk}/", {"periods": periods}, format="json")
    assert r.status_code == 200, r.content
    response = clock(incident, "response")
    assert response.elapsed == 2 * H
    # Two hours left, on 09:00–13:00: today 11:00–13:00.
    assert response.due_at == MONDAY_9 + 4 * H
    resolution = clock(incident, "resolution")
    # 22 hours left at 4 a day: Monday 11–13 (2), then Tue–Fri (16), then Monday 09–13 (4).
    assert resolution.due_at == MONDAY_9 + 7 * 24 * H + 4 * H


def test_a_holiday_added_in_the_admin_moves_the_clocks_too(
    incident, office, admin_user, client, now, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    periods = list(office.periods.order_by("weekday"))
    data = calendar_form(name=office.name, holidays=[("Staff day", TUESDAY.isoformat(), False)])
    data.update(management("periods", len(periods), initial=len(periods)))
    for i, period in enumerate(periods):
        data.update(
            {f"periods-{i}-id": str(period.pk), f"periods-{i}-calendar": str(office.pk),
             f"periods-{i}-weekday": str(period.weekday), f"periods-{i}-start": "09:00",
             f"periods-{i}-end": "17:00"}
        )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/sla/businesscalendar/{office.pk}/change/", data)
    assert response.status_code == 302
    assert clock(incident, "resolution").due_at == MONDAY_9 + 3 * 24 * H + 8 * H


def test_a_new_description_moves_nothing(incident, office, manager, api, django_capture_on_commit_callbacks):
    before = clock(incident, "resolution")
    with django_capture_on_commit_callbacks(execute=True):
        api.as_user(manager).patch(f"{CALENDARS}{office.pk}/", {"description": "HQ"}, format="json")
    after = clock(incident, "resolution")
    assert (after.due_at, after.elapsed, kinds(after)) == (before.due_at, before.elapsed, kinds(before))


def test_a_paused_clock_is_left_alone_and_takes_the_new_calendar_when_it_resumes(
    incident, office, agent, now, django_capture_on_commit_callbacks
):
    from incidents import workflows

    incident = workflows.incident_start(incident=incident, actor=agent)
    now.advance(hours=1)
    workflows.incident_hold(incident=fresh(incident), actor=agent, reason="Waiting for the customer")
    with django_capture_on_commit_callbacks(execute=True):
        holiday(office, TUESDAY)
    resolution = clock(incident, "resolution")
    assert resolution.due_at is None and ClockEvent.RECALCULATED not in kinds(resolution)
    workflows.incident_resume(incident=fresh(incident), actor=agent)  # Monday 10:00
    assert clock(incident, "resolution").due_at == MONDAY_9 + 3 * 24 * H + 8 * H


def test_many_rows_changed_in_one_transaction_queue_one_task(
    office, incident, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(signals, "async_task", lambda *args, **kwargs: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        office.periods.all().delete()
        holiday(office, TUESDAY)
        holiday(office, TUESDAY + timedelta(days=1))
    assert len(queued) == 1
    _, calendar_id, before, _ = queued[0]
    assert calendar_id == office.pk
    # The calendar as it was before the first change: its working periods, no holidays.
    assert before.periods and not before.holidays
    assert not BusinessCalendar.objects.get(pk=office.pk).as_calendar().periods


def test_a_change_that_rolls_back_queues_nothing(
    office, incident, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(signals, "async_task", lambda *args, **kwargs: queued.append(args))
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        holiday(office, TUESDAY)
        raise RuntimeError("changed my mind")
    assert queued == []
    with django_capture_on_commit_callbacks(execute=True):
        holiday(office, TUESDAY)
    assert len(queued) == 1  # the next change is remembered afresh, not from the rolled-back one


def test_moving_many_clocks_works_in_batches_and_keeps_each_works_due_time(
    office, customer, now, django_capture_on_commit_callbacks
):
    incidents = [make_incident(requester=customer, short_description=f"Printer {n}") for n in range(7)]
    before = office.as_calendar()
    holiday(office, TUESDAY)
    assert recalendar(office.pk, before, MONDAY_9, batch=3) == 14  # a response and a resolution each
    for incident in incidents:
        assert clock(incident, "resolution").due_at == MONDAY_9 + 3 * 24 * H + 8 * H
        assert fresh(incident).sla_due_at == MONDAY_9 + 4 * H
