"""The SLA doors of the API: business calendars (with their working periods), holidays, SLA
definitions, the incident's SLA explanation (``/incidents/{id}/sla/``) and the SLA filters of the
incident list. ITSM administrators write, agents read, customers are refused or answered as if
nothing were there; bad input is a 400 naming the field and writes nothing."""

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from incidents import services, workflows
from incidents.models import Incident
from itsm.models import AuditEntry, SlaDefinition, Work
from sla import clocks
from sla.explain import explain
from sla.models import BusinessCalendar, Holiday, SlaClock, SlaStatus, WorkingPeriod

pytestmark = pytest.mark.django_db

CALENDARS = "/api/v1/business-calendars/"
HOLIDAYS = "/api/v1/holidays/"
DEFINITIONS = "/api/v1/sla-definitions/"
INCIDENTS = "/api/v1/incidents/"

WEEKDAYS = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
TARGETS = {f"p{n}_{t}_minutes": m for n in range(1, 5) for t, m in (("response", 60), ("resolution", 4320))}


def office(name="Office", **values):
    calendar = BusinessCalendar.objects.create(name=name, time_zone="Europe/London", **values)
    WorkingPeriod.objects.bulk_create(
        [WorkingPeriod(calendar=calendar, weekday=d, start=time(9), end=time(17)) for d in range(5)]
    )
    return calendar


def periods_of(calendar):
    return list(calendar.periods.order_by("weekday", "start").values_list("weekday", "start", "end"))


# --- Business calendars: who --------------------------------------------------------------------


def test_an_agent_reads_calendars_with_periods_and_hours_summary(api, l1):
    calendar = office()
    body = api.as_user(l1).get(f"{CALENDARS}{calendar.pk}/").json()
    assert body["periods"][0] == {"weekday": 0, "start": "09:00:00", "end": "17:00:00"}
    assert len(body["periods"]) == 5
    assert body["hours_summary"] == "Mon–Fri 09:00–17:00 (Europe/London)"
    assert body["time_zone"] == "Europe/London"
    assert body["always_open"] is False


def test_a_customer_may_not_list_or_read_calendars(api, customer):
    calendar = office()
    client = api.as_user(customer)
    assert client.get(CALENDARS).status_code == 403
    assert client.get(f"{CALENDARS}{calendar.pk}/").status_code == 403


@pytest.mark.parametrize("user_fixture", ["agent", "lead", "customer"])
def test_only_the_itsm_administrator_writes_calendars(user_fixture, request, api):
    calendar = office()
    client = api.as_user(request.getfixturevalue(user_fixture))
    assert client.post(CALENDARS, {"name": "New", "always_open": True}, format="json").status_code == 403
    assert client.patch(f"{CALENDARS}{calendar.pk}/", {"name": "X"}, format="json").status_code == 403
    assert client.delete(f"{CALENDARS}{calendar.pk}/").status_code == 403
    assert list(BusinessCalendar.objects.values_list("name", flat=True)) == ["Office"]


def test_the_itsm_administrator_creates_a_calendar_with_its_periods(api, manager):
    body = {"name": "London office", "time_zone": "Europe/London", "periods": WEEKDAYS}
    r = api.as_user(manager).post(CALENDARS, body, format="json")
    assert r.status_code == 201, r.content
    calendar = BusinessCalendar.objects.get(name="London office")
    assert periods_of(calendar) == [(d, time(9), time(17)) for d in range(5)]
    assert r.json()["hours_summary"] == "Mon–Fri 09:00–17:00 (Europe/London)"
    journal = AuditEntry.objects.filter(object_id=str(calendar.pk), field="periods").get()
    assert "Monday 09:00–17:00" in journal.new_value


def test_a_24x7_calendar_needs_no_periods(api, manager):
    r = api.as_user(manager).post(CALENDARS, {"name": "Always", "always_open": True}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["hours_summary"] == "24×7 (UTC)"


def test_periods_are_replaced_whole_and_midnight_ends_the_day(api, manager):
    calendar = office()
    body = {
        "periods": [
            {"weekday": 5, "start": "18:00", "end": "00:00"},
            {"weekday": 5, "start": "08:00", "end": "12:00"},
        ]
    }
    r = api.as_user(manager).patch(f"{CALENDARS}{calendar.pk}/", body, format="json")
    assert r.status_code == 200, r.content
    assert periods_of(calendar) == [(5, time(8), time(12)), (5, time(18), time(0))]
    assert r.json()["hours_summary"] == "Sat 08:00–12:00, 18:00–24:00 (Europe/London)"


def test_a_patch_without_periods_keeps_them(api, manager):
    calendar = office()
    r = api.as_user(manager).patch(f"{CALENDARS}{calendar.pk}/", {"name": "Renamed"}, format="json")
    assert r.status_code == 200, r.content
    assert len(periods_of(calendar)) == 5


BAD_PERIODS = [
    [{"weekday": 0, "start": "17:00", "end": "09:00"}],  # ends before it starts
    [{"weekday": 0, "start": "09:00", "end": "09:00"}],  # empty
    [{"weekday": 0, "start": "09:00", "end": "13:00"}, {"weekday": 0, "start": "12:00", "end": "17:00"}],
    [{"weekday": 0, "start": "09:00", "end": "00:00"}, {"weekday": 0, "start": "20:00", "end": "21:00"}],
    [],  # not 24×7 and no working time at all
    [{"weekday": 0, "start": "09:00"}],  # no end, even in a PATCH: the list is written whole
]


@pytest.mark.parametrize("periods", BAD_PERIODS)
def test_bad_periods_are_400_naming_periods_and_change_nothing(periods, api, manager):
    calendar = office()
    before = periods_of(calendar)
    journal = AuditEntry.objects.count()
    client = api.as_user(manager)
    r = client.patch(f"{CALENDARS}{calendar.pk}/", {"name": "Changed", "periods": periods}, format="json")
    assert r.status_code == 400, r.content
    assert "periods" in r.json()
    assert periods_of(calendar) == before
    assert BusinessCalendar.objects.get(pk=calendar.pk).name == "Office"
    r = client.post(CALENDARS, {"name": "New", "periods": periods}, format="json")
    assert r.status_code == 400
    assert "periods" in r.json()
    assert not BusinessCalendar.objects.filter(name="New").exists()
    assert AuditEntry.objects.count() == journal


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "time_zone": "Mars/Olympus_Mons", "always_open": True}, "time_zone"),
        ({"name": "Office", "always_open": True}, "name"),  # taken
        ({"name": "", "always_open": True}, "name"),
        ({"name": "X", "periods": [{"weekday": 7, "start": "09:00", "end": "17:00"}]}, "periods"),
        ({"name": "X", "periods": [{"weekday": 1, "start": "9 o'clock", "end": "17:00"}]}, "periods"),
        ({"name": "X", "always_open": True, "hours_summary": "always"}, "hours_summary"),
    ],
)
def test_bad_calendar_input_is_400_naming_the_field(body, field, api, manager):
    office()
    r = api.as_user(manager).post(CALENDARS, body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    assert BusinessCalendar.objects.count() == 1


def test_switching_a_calendar_to_24x7_and_back_needs_periods(api, manager):
    calendar = BusinessCalendar.objects.create(name="Always", always_open=True)
    client = api.as_user(manager)
    r = client.patch(f"{CALENDARS}{calendar.pk}/", {"always_open": False}, format="json")
    assert r.status_code == 400
    assert "periods" in r.json()
    r = client.patch(f"{CALENDARS}{calendar.pk}/", {"always_open": False, "periods": WEEKDAYS}, format="json")
    assert r.status_code == 200, r.content


def test_a_calendar_in_use_is_not_deleted(api, manager):
    calendar = office()
    SlaDefinition.objects.create(name="Gold", calendar=calendar)
    assert api.as_user(manager).delete(f"{CALENDARS}{calendar.pk}/").status_code == 409
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()


def test_calendars_are_searched_filtered_and_a_nul_in_the_search_is_400_naming_search(api, agent):
    office("London office")
    BusinessCalendar.objects.create(name="Always", always_open=True)
    client = api.as_user(agent)
    assert [c["name"] for c in client.get(CALENDARS, {"search": "london"}).json()["results"]] == [
        "London office"
    ]
    assert [c["name"] for c in client.get(CALENDARS, {"always_open": "true"}).json()["results"]] == ["Always"]
    r = client.get(CALENDARS, {"search": "\x00"})
    assert r.status_code == 400
    assert "search" in r.json()


def test_listing_calendars_costs_the_same_queries_for_2_and_20(api, agent, django_assert_max_num_queries):
    client = api.as_user(agent)
    for n in range(2):
        office(f"C{n}")
    client.get(CALENDARS)
    with django_assert_max_num_queries(8) as few:
        assert client.get(CALENDARS, {"page_size": 50}).json()["count"] == 2
    for n in range(2, 20):
        office(f"C{n}")
    with django_assert_max_num_queries(len(few)):
        assert client.get(CALENDARS, {"page_size": 50}).json()["count"] == 20


# --- Holidays ------------------------------------------------------------------------------------


def test_holidays_are_listed_by_date_and_filtered_by_calendar_and_recurring(api, l1):
    london, paris = office("London"), office("Paris")
    Holiday.objects.create(calendar=london, name="Boxing Day", date=date(2026, 12, 26), recurring=True)
    Holiday.objects.create(calendar=london, name="Jubilee", date=date(2026, 6, 2))
    Holiday.objects.create(calendar=paris, name="Bastille Day", date=date(2026, 7, 14), recurring=True)
    client = api.as_user(l1)
    names = [h["name"] for h in client.get(HOLIDAYS).json()["results"]]
    assert names == ["Jubilee", "Bastille Day", "Boxing Day"]
    names = [h["name"] for h in client.get(HOLIDAYS, {"calendar": london.pk}).json()["results"]]
    assert names == ["Jubilee", "Boxing Day"]
    names = [h["name"] for h in client.get(HOLIDAYS, {"recurring": "true"}).json()["results"]]
    assert names == ["Bastille Day", "Boxing Day"]


def test_the_itsm_administrator_manages_holidays_and_others_may_not(api, manager, agent, customer):
    calendar = office()
    body = {"calendar": calendar.pk, "name": "New Year", "date": "2027-01-01", "recurring": True}
    assert api.as_user(agent).post(HOLIDAYS, body, format="json").status_code == 403
    assert api.as_user(customer).post(HOLIDAYS, body, format="json").status_code == 403
    assert api.as_user(customer).get(HOLIDAYS).status_code == 403
    r = api.as_user(manager).post(HOLIDAYS, body, format="json")
    assert r.status_code == 201, r.content
    holiday = Holiday.objects.get()
    r = api.as_user(manager).patch(f"{HOLIDAYS}{holiday.pk}/", {"name": "Hogmanay +1"}, format="json")
    assert r.status_code == 200
    assert api.as_user(agent).delete(f"{HOLIDAYS}{holiday.pk}/").status_code == 403
    assert api.as_user(manager).delete(f"{HOLIDAYS}{holiday.pk}/").status_code == 204
    assert not Holiday.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "date": "2027-02-30"}, "date"),
        ({"name": "", "date": "2027-01-01"}, "name"),
        ({"name": "X", "date": "2027-01-01", "calendar": 999999}, "calendar"),
    ],
)
def test_bad_holiday_input_is_400_naming_the_field(body, field, api, manager):
    calendar = office()
    r = api.as_user(manager).post(HOLIDAYS, {"calendar": calendar.pk, **body}, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    assert not Holiday.objects.exists()


def test_a_second_holiday_on_the_same_day_is_400_naming_date(api, manager):
    calendar = office()
    Holiday.objects.create(calendar=calendar, name="One", date=date(2027, 1, 1))
    body = {"calendar": calendar.pk, "name": "Two", "date": "2027-01-01"}
    client = api.as_user(manager)
    r = client.post(HOLIDAYS, body, format="json")
    assert r.status_code == 400, r.content
    assert "One" in r.json()["date"][0]
    two = Holiday.objects.create(calendar=calendar, name="Two", date=date(2027, 1, 2))
    r = client.patch(f"{HOLIDAYS}{two.pk}/", {"date": "2027-01-01"}, format="json")
    assert r.status_code == 400, r.content
    assert "date" in r.json()
    assert (
        client.patch(f"{HOLIDAYS}{two.pk}/", {"date": "2027-01-02", "name": "2"}, format="json").status_code
        == 200
    )
    assert sorted(Holiday.objects.values_list("name", flat=True)) == ["2", "One"]


def test_listing_holidays_costs_the_same_queries_for_2_and_30(api, agent, django_assert_max_num_queries):
    calendar = office()
    client = api.as_user(agent)
    for n in range(2):
        Holiday.objects.create(calendar=calendar, name=f"H{n}", date=date(2027, 1, 1) + timedelta(days=n))
    client.get(HOLIDAYS)
    with django_assert_max_num_queries(8) as few:
        assert client.get(HOLIDAYS, {"page_size": 50}).json()["count"] == 2
    for n in range(2, 30):
        Holiday.objects.create(calendar=calendar, name=f"H{n}", date=date(2027, 1, 1) + timedelta(days=n))
    with django_assert_max_num_queries(len(few)):
        assert client.get(HOLIDAYS, {"page_size": 50}).json()["count"] == 30


# --- SLA definitions -----------------------------------------------------------------------------


def test_the_itsm_administrator_creates_a_definition_with_targets_and_calendar(api, manager, agent):
    calendar = office()
    body = {
        "name": "Gold",
        "calendar": calendar.pk,
        "is_default": True,
        **TARGETS,
        "p4_response_minutes": None,
    }
    r = api.as_user(manager).post(DEFINITIONS, body, format="json")
    assert r.status_code == 201, r.content
    definition = SlaDefinition.objects.get(name="Gold")
    assert definition.calendar == calendar
    assert definition.is_default
    assert definition.target_minutes("P1", "resolution") == 4320
    assert definition.target_minutes("P4", "response") is None
    shown = api.as_user(agent).get(f"{DEFINITIONS}{definition.pk}/").json()
    assert shown["p1_response_minutes"] == 60
    assert shown["calendar"] == calendar.pk
    assert shown["is_default"] is True
    assert api.as_user(agent).post(DEFINITIONS, {"name": "Silver"}, format="json").status_code == 403


def test_a_second_account_wide_default_is_400_naming_is_default(api, manager):
    SlaDefinition.objects.create(name="Gold", is_default=True)
    silver = SlaDefinition.objects.create(name="Silver")
    client = api.as_user(manager)
    r = client.post(DEFINITIONS, {"name": "Bronze", "is_default": True}, format="json")
    assert r.status_code == 400, r.content
    assert "Gold" in r.json()["is_default"][0]
    assert not SlaDefinition.objects.filter(name="Bronze").exists()
    r = client.patch(f"{DEFINITIONS}{silver.pk}/", {"is_default": True}, format="json")
    assert r.status_code == 400, r.content
    assert "is_default" in r.json()
    assert list(SlaDefinition.objects.filter(is_default=True).values_list("name", flat=True)) == ["Gold"]
    gold = SlaDefinition.objects.get(name="Gold")
    assert client.patch(f"{DEFINITIONS}{gold.pk}/", {"is_default": True}, format="json").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "p1_response_minutes": 0}, "p1_response_minutes"),
        ({"name": "X", "p2_resolution_minutes": -5}, "p2_resolution_minutes"),
        ({"name": "X", "calendar": 999999}, "calendar"),
        # The same rule as the admin's: a response cannot take longer than the resolution.
        ({"name": "X", "p3_response_minutes": 600, "p3_resolution_minutes": 480}, "p3_response_minutes"),
    ],
)
def test_bad_definition_input_is_400_naming_the_field(body, field, api, manager):
    r = api.as_user(manager).post(DEFINITIONS, body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    assert not SlaDefinition.objects.exists()


def test_listing_definitions_costs_the_same_queries_for_2_and_20(api, agent, django_assert_max_num_queries):
    calendar = office()
    client = api.as_user(agent)
    for n in range(2):
        SlaDefinition.objects.create(name=f"D{n}", calendar=calendar)
    client.get(DEFINITIONS)
    with django_assert_max_num_queries(8) as few:
        assert client.get(DEFINITIONS, {"page_size": 50}).json()["count"] == 2
    for n in range(2, 20):
        SlaDefinition.objects.create(name=f"D{n}", calendar=office(f"C{n}"))
    with django_assert_max_num_queries(len(few)):
        assert client.get(DEFINITIONS, {"page_size": 50}).json()["count"] == 20


# --- The incident's SLA explained ----------------------------------------------------------------


@pytest.fixture
def holiday_sla(db):
    """24×7 in UTC, with the day after tomorrow a holiday (so a response due within the hour
    never falls on it, whatever the time of day); 1 hour to respond, 3 days to resolve."""
    calendar = BusinessCalendar.objects.create(name="Round the clock", always_open=True)
    holiday = timezone.now().date() + timedelta(days=2)
    Holiday.objects.create(calendar=calendar, name="Founders' Day", date=holiday)
    SlaDefinition.objects.create(name="Standard", is_default=True, calendar=calendar, **TARGETS)
    return calendar


def _sla(api, user, incident, **params):
    r = api.as_user(user).get(f"{INCIDENTS}{incident.pk}/sla/", params)
    assert r.status_code == 200, r.content
    return r.json()


def test_the_sla_view_explains_each_clock_with_calendar_and_holidays(api, customer, agent, holiday_sla):
    incident = services.incident_create(actor=customer, data={"short_description": "Printer on fire"})
    body = _sla(api, agent, incident)
    assert body["sla_status"] == "in_progress"
    response, resolution = body["clocks"]
    assert (response["target"], resolution["target"]) == ("response", "resolution")
    assert resolution["target_duration"] == 3 * 24 * 3600
    assert resolution["definition"] == "Standard"
    assert resolution["calendar"] == {
        "name": "Round the clock", "hours_summary": "24×7 (UTC)", "time_zone": "UTC",
    }  # fmt: skip
    holiday = (timezone.now().date() + timedelta(days=2)).isoformat()
    assert resolution["holidays"] == [{"date": holiday, "name": "Founders' Day"}]
    assert response["holidays"] == []  # due within the hour, before the holiday
    started = SlaClock.objects.get(work=incident, target="resolution").started_at
    due = SlaClock.objects.get(work=incident, target="resolution").due_at
    assert due - started == timedelta(days=4)  # three days of work, one day off
    assert resolution["state"] == "running"
    assert resolution["status"] == "in_progress"
    assert 0 <= resolution["elapsed"] < 60
    assert [e["kind"] for e in resolution["events"]] == ["started"]
    assert "1 holiday" in resolution["summary"]


def test_the_sla_view_shows_a_pause_while_on_hold(api, customer, agent, holiday_sla):
    incident = services.incident_create(actor=customer, data={"short_description": "Printer on fire"})
    client = api.as_user(agent)
    assert client.post(f"{INCIDENTS}{incident.pk}/start/").status_code == 200
    assert client.post(f"{INCIDENTS}{incident.pk}/hold/", {"reason": "Waiting for a part"}).status_code == 200
    body = _sla(api, agent, incident)
    assert body["sla_status"] == "paused"  # the resolution clock; the response one was met
    response, resolution = body["clocks"]
    assert response["state"] == "stopped"
    assert response["status"] == "met"
    assert resolution["status"] == "paused"
    assert resolution["due_at"] is None
    [pause] = resolution["pauses"]
    assert pause["resumed_at"] is None
    assert pause["reason"] == "Waiting for a part"
    assert client.post(f"{INCIDENTS}{incident.pk}/resume/").status_code == 200
    resolution = _sla(api, agent, incident)["clocks"][1]
    [pause] = resolution["pauses"]
    assert pause["resumed_at"] is not None
    assert [e["kind"] for e in resolution["events"]] == ["started", "paused", "resumed"]
    assert resolution["due_at"] is not None


def test_the_sla_view_keeps_retired_clocks_as_history(api, customer, agent, holiday_sla):
    incident = services.incident_create(actor=customer, data={"short_description": "Printer on fire"})
    workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes="ok"
    )
    workflows.incident_reopen(incident=Incident.objects.get(pk=incident.pk), actor=agent, notes="back")
    current = _sla(api, agent, incident)["clocks"]
    assert [c["is_current"] for c in current] == [True, True]
    everything = _sla(api, agent, incident, history="true")["clocks"]
    assert [c["is_current"] for c in everything] == [True, True, False, False]
    assert everything[2]["events"][-1]["kind"] == "retired"
    assert api.as_user(agent).get(f"{INCIDENTS}{incident.pk}/sla/", {"history": "maybe"}).status_code == 400


def test_the_sla_view_of_a_customers_own_incident_is_404_as_if_it_did_not_exist(api, customer, holiday_sla):
    incident = services.incident_create(actor=customer, data={"short_description": "Printer on fire"})
    client = api.as_user(customer)
    assert client.get(f"{INCIDENTS}{incident.pk}/").status_code == 200  # it may read the incident
    mine = client.get(f"{INCIDENTS}{incident.pk}/sla/")
    missing = client.get(f"{INCIDENTS}999999/sla/")
    assert mine.status_code == missing.status_code == 404
    assert mine.json() == missing.json()


def test_the_sla_view_costs_a_fixed_number_of_queries(
    api, customer, agent, holiday_sla, django_assert_max_num_queries
):
    incident = services.incident_create(actor=customer, data={"short_description": "Printer on fire"})
    client = api.as_user(agent)
    client.get(f"{INCIDENTS}{incident.pk}/sla/")
    with django_assert_max_num_queries(6) as few:
        client.get(f"{INCIDENTS}{incident.pk}/sla/", {"history": "true"})
    for _ in range(3):
        workflows.incident_hold(incident=Incident.objects.get(pk=incident.pk), actor=agent)
        workflows.incident_resume(incident=Incident.objects.get(pk=incident.pk), actor=agent)
    for _ in range(2):
        workflows.incident_resolve(
            incident=Incident.objects.get(pk=incident.pk),
            actor=agent,
            resolution_code="resolved",
            resolution_notes="ok",
        )
        workflows.incident_reopen(incident=Incident.objects.get(pk=incident.pk), actor=agent)
    with django_assert_max_num_queries(len(few)):
        body = client.get(f"{INCIDENTS}{incident.pk}/sla/", {"history": "true"}).json()
    assert len(body["clocks"]) == 6


def test_explain_answers_at_a_given_instant(customer, holiday_sla):
    incident = services.incident_create(actor=customer, data={"short_description": "Printer on fire"})
    clock = SlaClock.objects.get(work=incident, target="response")
    later = clock.due_at + timedelta(minutes=1)
    explained = explain(clock, later)
    assert explained["status"] == "breached"
    assert explained["elapsed"] == 61 * 60
    assert explained["remaining"] == 0


# --- SLA status and filters on the incident list -------------------------------------------------


def _ids(api, user, **params):
    r = api.as_user(user).get(INCIDENTS, params)
    assert r.status_code == 200, r.content
    return sorted(row["id"] for row in r.json()["results"])


@pytest.fixture
def three(customer, holiday_sla):
    """Three incidents of the customer: one past its due time (not yet swept), one recorded
    breached, one in progress."""
    late, recorded, fine = (
        services.incident_create(actor=customer, data={"short_description": text})
        for text in ("Late", "Recorded", "Fine")
    )
    past = timezone.now() - timedelta(minutes=5)
    Work.objects.filter(pk=late.pk).update(sla_due_at=past)
    Work.objects.filter(pk=recorded.pk).update(sla_status=SlaStatus.BREACHED, sla_due_at=None)
    return late, recorded, fine


def test_an_incident_past_its_due_time_shows_breached_before_the_sweep(api, agent, three):
    late, _, fine = three
    assert Incident.objects.get(pk=late.pk).sla_status == "in_progress"  # stored: not yet swept
    assert api.as_user(agent).get(f"{INCIDENTS}{late.pk}/").json()["sla_status"] == "breached"
    rows = {row["id"]: row for row in api.as_user(agent).get(INCIDENTS).json()["results"]}
    assert rows[late.pk]["sla_status"] == "breached"
    assert rows[fine.pk]["sla_status"] == "in_progress"


def test_agents_filter_breached_incidents(api, agent, three):
    late, recorded, fine = three
    assert _ids(api, agent, breached="true") == sorted([late.pk, recorded.pk])
    assert _ids(api, agent, breached="false") == [fine.pk]
    assert _ids(api, agent, sla_status="breached") == sorted([late.pk, recorded.pk])
    assert _ids(api, agent, sla_status="in_progress") == [fine.pk]
    assert api.as_user(agent).get(INCIDENTS, {"sla_status": "bogus"}).status_code == 400


def test_a_customers_sla_filters_are_ignored_like_any_hidden_field_filter(api, customer, three):
    everything = _ids(api, customer)
    assert len(everything) == 3
    for params in (
        {"breached": "true"}, {"breached": "false"}, {"sla_status": "breached"}, {"sla_status": "in_progress"},
        {"sla_status": "bogus"},
    ):  # fmt: skip
        assert _ids(api, customer, **params) == everything, params
    body = api.as_user(customer).get(INCIDENTS).content.decode()
    assert "sla_status" not in body
    assert "breached" not in body


def test_stored_status_follows_the_clocks(customer, agent, holiday_sla):
    """The breached filter reads what sla.clocks stores (a guard that the fixtures above are real)."""
    incident = services.incident_create(actor=customer, data={"short_description": "Printer on fire"})
    clocks.refresh(incident)
    assert Work.objects.get(pk=incident.pk).sla_status == SlaStatus.IN_PROGRESS
    assert (
        Work.objects.get(pk=incident.pk).sla_due_at
        == SlaClock.objects.get(work=incident, target="response").due_at
    )


def test_the_hours_summary_joins_consecutive_days_with_the_same_hours(api, l1):
    calendar = BusinessCalendar.objects.create(name="Shop", time_zone="Europe/Paris")
    rows = [(d, time(9), time(17)) for d in range(4)]  # Mon–Thu
    rows += [(4, time(9), time(13)), (5, time(9), time(13)), (6, time(10), time(0))]
    rows += [(2, time(18), time(20))]  # Wednesday evenings too: breaks the run
    WorkingPeriod.objects.bulk_create(
        WorkingPeriod(calendar=calendar, weekday=d, start=s, end=e) for d, s, e in rows
    )
    body = api.as_user(l1).get(f"{CALENDARS}{calendar.pk}/").json()
    assert body["hours_summary"] == (
        "Mon–Tue 09:00–17:00; Wed 09:00–17:00, 18:00–20:00; Thu 09:00–17:00; Fri–Sat 09:00–13:00; "
        "Sun 10:00–24:00 (Europe/Paris)"
    )
