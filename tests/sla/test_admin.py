"""SLA and escalation admin: the ITSM administrator manages calendars (working periods,
holidays), SLA definitions and escalation policies (stages); agents may look but not change;
clocks and notifications are read-only; every save goes through the services (journaled)."""

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from escalation.models import EscalationPolicy, EscalationStage
from incidents import services
from itsm.models import AssignmentGroup, AuditEntry, SlaDefinition
from notifications.models import Notification
from sla.models import BusinessCalendar, Holiday, SlaClock, WorkingPeriod

pytestmark = pytest.mark.django_db

CALENDARS = "/admin/sla/businesscalendar/"
DEFINITIONS = "/admin/itsm/sladefinition/"
POLICIES = "/admin/escalation/escalationpolicy/"
CLOCKS = "/admin/sla/slaclock/"
NOTIFICATIONS = "/admin/notifications/notification/"


def management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def calendar_form(name="Office hours", periods=(), holidays=(), **values):
    data = {"name": name, "description": "", "time_zone": "Europe/London", **values}
    data.update(management("periods", len(periods)))
    for i, (weekday, start, end) in enumerate(periods):
        data.update(
            {f"periods-{i}-weekday": str(weekday), f"periods-{i}-start": start, f"periods-{i}-end": end}
        )
    data.update(management("holidays", len(holidays)))
    for i, (name_, day, recurring) in enumerate(holidays):
        data.update({f"holidays-{i}-name": name_, f"holidays-{i}-date": day})
        if recurring:
            data[f"holidays-{i}-recurring"] = "on"
    return data


def definition_form(name="Gold", **values):
    data = {"name": name, "description": "", "is_active": "on", "calendar": ""}
    for n, (response, resolution) in enumerate([(15, 240), (60, 480), (240, 1440), (480, 2400)], start=1):
        data[f"p{n}_response_minutes"] = str(response)
        data[f"p{n}_resolution_minutes"] = str(resolution)
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def policy_form(name="Out of hours", stages=(), **values):
    data = {"name": name, "description": "", "organisation": "", "is_active": "on", **values}
    data.update(management("stages", len(stages)))
    for i, stage in enumerate(stages):
        for key, value in stage.items():
            data[f"stages-{i}-{key}"] = value
    return {k: v for k, v in data.items() if v is not None}


def form_errors(response):
    return response.context["adminform"].form.errors


# --- Calendars ---------------------------------------------------------------------------------


def test_an_itsm_administrator_adds_a_calendar_with_working_periods_and_holidays(client, manager):
    client.force_login(manager)
    response = client.post(
        f"{CALENDARS}add/",
        calendar_form(
            periods=[(0, "09:00", "17:00"), (4, "09:00", "13:00")],
            holidays=[("Christmas Day", "2025-12-25", True), ("Founders' day", "2026-03-02", False)],
        ),
    )
    assert response.status_code == 302, response.context and form_errors(response)
    calendar = BusinessCalendar.objects.get(name="Office hours")
    assert [(p.weekday, p.start, p.end) for p in calendar.periods.all()] == [
        (0, time(9), time(17)),
        (4, time(9), time(13)),
    ]
    assert {(h.name, h.recurring) for h in calendar.holidays.all()} == {
        ("Christmas Day", True),
        ("Founders' day", False),
    }
    # The calendar and each of its rows was saved through the services, which journal it.
    assert AuditEntry.objects.filter(action="create", actor=manager).count() == 5
    assert calendar.hours_summary() == "Mon 09:00–17:00; Fri 09:00–13:00 (Europe/London)"


def test_a_superuser_adds_a_holiday_to_an_existing_calendar(client, admin_user):
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="UTC")
    WorkingPeriod.objects.create(calendar=calendar, weekday=0, start=time(9), end=time(17))
    client.force_login(admin_user)
    page = client.get(f"{CALENDARS}{calendar.pk}/change/")
    assert page.status_code == 200
    period = calendar.periods.get()
    data = calendar_form(name="Office", time_zone="UTC", holidays=[("Boxing Day", "2025-12-26", True)])
    data.update(management("periods", 1, initial=1))
    data.update(
        {"periods-0-id": str(period.pk), "periods-0-calendar": str(calendar.pk), "periods-0-weekday": "0",
         "periods-0-start": "09:00", "periods-0-end": "17:00"}
    )  # fmt: skip
    response = client.post(f"{CALENDARS}{calendar.pk}/change/", data)
    assert response.status_code == 302, form_errors(response)
    holiday = Holiday.objects.get(calendar=calendar)
    assert (holiday.date, holiday.recurring) == (date(2025, 12, 26), True)
    assert AuditEntry.objects.filter(action="create", actor=admin_user).count() == 1


def test_an_overlapping_working_period_is_refused_on_the_form_not_with_a_500(client, manager):
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="UTC")
    WorkingPeriod.objects.create(calendar=calendar, weekday=0, start=time(9), end=time(17))
    client.force_login(manager)
    period = calendar.periods.get()
    data = calendar_form(name="Office", time_zone="UTC")
    data.update(management("periods", 2, initial=1))
    data.update(
        {"periods-0-id": str(period.pk), "periods-0-calendar": str(calendar.pk), "periods-0-weekday": "0",
         "periods-0-start": "09:00", "periods-0-end": "17:00",
         "periods-1-weekday": "0", "periods-1-start": "12:00", "periods-1-end": "18:00"}
    )  # fmt: skip
    response = client.post(f"{CALENDARS}{calendar.pk}/change/", data, follow=True)
    assert response.status_code == 200
    assert "overlaps" in response.content.decode()
    assert calendar.periods.count() == 1


def test_an_agent_may_look_at_calendars_but_not_add_or_change_them(client, agent):
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="UTC")
    client.force_login(agent)
    assert client.get(CALENDARS).status_code == 200
    assert client.get(f"{CALENDARS}add/").status_code == 403
    assert client.post(f"{CALENDARS}add/", calendar_form(name="Mine")).status_code == 403
    response = client.post(f"{CALENDARS}{calendar.pk}/change/", calendar_form(name="Renamed"))
    assert response.status_code == 403
    assert list(BusinessCalendar.objects.values_list("name", flat=True)) == ["Office"]


def test_a_customer_is_kept_out_of_the_sla_admin(client, customer):
    client.force_login(customer)
    assert client.get(CALENDARS).status_code == 302  # to the admin's sign-in page


# --- SLA definitions -------------------------------------------------------------------------


def test_an_itsm_administrator_adds_an_sla_definition_on_a_calendar(client, manager):
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="Europe/London")
    client.force_login(manager)
    page = client.get(f"{DEFINITIONS}add/")
    assert "Targets (business minutes)" in page.content.decode()
    response = client.post(f"{DEFINITIONS}add/", definition_form(calendar=str(calendar.pk), is_default="on"))
    assert response.status_code == 302, form_errors(response)
    sla = SlaDefinition.objects.get(name="Gold")
    assert sla.calendar == calendar and sla.is_default
    assert sla.target_minutes("P1", "response") == 15
    assert sla.target_minutes("P4", "resolution") == 2400
    assert AuditEntry.objects.filter(action="create", actor=manager, object_id=str(sla.pk)).exists()


def test_a_second_account_wide_default_sla_is_a_form_error_not_a_500(client, manager):
    SlaDefinition.objects.create(name="Standard", is_default=True)
    client.force_login(manager)
    response = client.post(f"{DEFINITIONS}add/", definition_form(is_default="on"))
    assert response.status_code == 200
    assert "already the account-wide default" in str(form_errors(response)["is_default"])
    assert not SlaDefinition.objects.filter(name="Gold").exists()


def test_a_response_target_longer_than_the_resolution_target_is_refused(client, manager):
    client.force_login(manager)
    response = client.post(f"{DEFINITIONS}add/", definition_form(p2_response_minutes="600"))
    assert response.status_code == 200
    assert "p2_response_minutes" in form_errors(response)


def test_an_agent_cannot_add_an_sla_definition(client, agent):
    client.force_login(agent)
    assert client.post(f"{DEFINITIONS}add/", definition_form()).status_code == 403
    assert not SlaDefinition.objects.exists()


# --- Escalation policies ---------------------------------------------------------------------


def test_an_itsm_administrator_adds_an_escalation_policy_with_ordered_stages(client, manager, lead):
    group = AssignmentGroup.objects.create(name="Service desk")
    client.force_login(manager)
    assert client.get(f"{POLICIES}add/").status_code == 200
    response = client.post(
        f"{POLICIES}add/",
        policy_form(
            is_default="on",
            stages=[
                {"order": "1", "timeout_minutes": "15", "assignment_group": str(group.pk)},
                {
                    "order": "2",
                    "timeout_minutes": "30",
                    "users": [str(lead.pk)],
                    "requires_acknowledgment": "on",
                },
            ],
        ),
    )
    assert response.status_code == 302, form_errors(response)
    policy = EscalationPolicy.objects.get()
    assert policy.is_default and policy.organisation is None
    first, second = policy.stages.order_by("order")
    assert (first.assignment_group, first.timeout_minutes) == (group, 15)
    assert list(second.users.all()) == [lead] and second.requires_acknowledgment
    assert AuditEntry.objects.filter(action="create", actor=manager).count() == 3


def test_a_second_account_wide_default_escalation_policy_is_a_form_error(client, manager):
    EscalationPolicy.objects.create(name="Default", is_default=True)
    client.force_login(manager)
    response = client.post(f"{POLICIES}add/", policy_form(is_default="on"))
    assert response.status_code == 200
    assert "already the default account-wide" in str(form_errors(response)["is_default"])
    assert EscalationPolicy.objects.count() == 1


def test_an_agent_cannot_add_or_change_escalation_policies(client, agent):
    policy = EscalationPolicy.objects.create(name="Default")
    EscalationStage.objects.create(policy=policy, order=1, timeout_minutes=10)
    client.force_login(agent)
    assert client.get(POLICIES).status_code == 200
    assert client.post(f"{POLICIES}add/", policy_form()).status_code == 403
    assert client.post(f"{POLICIES}{policy.pk}/delete/", {"post": "yes"}).status_code == 403
    assert EscalationPolicy.objects.count() == 1


# --- Read-only clocks and notifications ------------------------------------------------------


def test_clocks_are_listed_read_only_with_their_events(client, manager, customer):
    targets = {f"p{n}_{t}_minutes": 60 * n for n in range(1, 5) for t in ("response", "resolution")}
    SlaDefinition.objects.create(name="Standard", is_default=True, **targets)
    incident = services.incident_create(actor=customer, data={"short_description": "Printer"})
    clock = SlaClock.objects.filter(work=incident).first()
    assert clock is not None
    client.force_login(manager)
    listing = client.get(CLOCKS)
    assert listing.status_code == 200
    assert incident.number in listing.content.decode()
    assert client.get(f"{CLOCKS}?breached=yes").status_code == 200
    detail = client.get(f"{CLOCKS}{clock.pk}/change/")
    assert detail.status_code == 200
    assert "Started" in detail.content.decode()
    assert client.get(f"{CLOCKS}add/").status_code == 403
    assert client.post(f"{CLOCKS}{clock.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_notification_list_is_read_only_and_shows_only_ones_own(client, manager, agent):
    Notification.objects.create(recipient=manager, kind="escalated", subject="Mine to read", body="")
    Notification.objects.create(recipient=agent, kind="escalated", subject="Someone else's", body="")
    client.force_login(manager)
    page = client.get(NOTIFICATIONS).content.decode()
    assert "Mine to read" in page and "Someone else" not in page
    mine = Notification.objects.get(recipient=manager)
    response = client.post(f"{NOTIFICATIONS}{mine.pk}/change/", {"read_at_0": "2026-01-01"})
    assert response.status_code == 403
    assert client.get(f"{NOTIFICATIONS}add/").status_code == 403
    mine.refresh_from_db()
    assert mine.read_at is None
    assert timezone.now() - mine.created_at < timedelta(minutes=5)
