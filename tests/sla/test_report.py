"""The SLA compliance report (issue #4, item 9): met % of finished SLA measurements by period,
priority, assignment group, organisation and target — counted in the database, in the API
(``/api/v1/sla-compliance/``) and on the desk (``/desk/sla/compliance/``)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from conftest import make_user
from incidents.models import Incident
from itsm import policy
from itsm.errors import InvalidInput
from itsm.models import AssignmentGroup
from itsm.roles import Role
from sla import report
from sla.models import SlaClock

pytestmark = pytest.mark.django_db

URL = "/api/v1/sla-compliance/"
DESK = reverse("desk:sla-compliance")
# Three weeks, Monday 4 to Sunday 24 March 2024 (the end date is a whole day).
RANGE = {"start": "2024-03-04", "end": "2024-03-24"}
MIN = timedelta(minutes=1)


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


_numbers = iter(range(1, 10_000))


def work(priority="P1", group=None, organisation=None) -> Incident:
    return Incident.objects.create(
        number=f"INC{next(_numbers):07d}",
        kind=Incident.KIND,
        state="resolved",
        short_description="Measured",
        priority=priority,
        assignment_group=group,
        organisation=organisation,
    )


def clock(
    work_, *, target="response", priority="P1", minutes=15, used=10, stopped=None, **values
) -> SlaClock:
    """A clock that used ``used`` minutes of a ``minutes`` target and stopped at ``stopped``."""
    values.setdefault("state", "stopped" if stopped else "running")
    return SlaClock.objects.create(
        work=work_,
        target=target,
        priority=priority,
        target_duration=minutes * MIN,
        elapsed=used * MIN,
        started_at=(stopped or at(1)) - timedelta(days=1),
        stopped_at=stopped,
        **values,
    )


@pytest.fixture
def clocks(organisation, other_organisation):
    """Seven measurements over the first two weeks of RANGE (the third has none), and clocks
    that must not count: cancelled, running, stopped after the range."""
    network = AssignmentGroup.objects.create(name="Network")
    desk = AssignmentGroup.objects.create(name="Desk")
    router = work("P1", network, organisation)  # Network, Acme
    printer = work("P2", desk, other_organisation)  # Desk, Globex
    laptop = work("P1", None, organisation)  # no group, Acme
    made = {
        # Week of 4 March.
        "met_p1": clock(router, minutes=15, used=10, stopped=at(5)),
        "breached_p1_recorded": clock(
            router, target="resolution", minutes=240, used=300, stopped=at(6), breached_at=at(6, 8)
        ),
        # A cycle of a reopened incident: retired, but finished, so measured.
        "retired_met": clock(
            router, target="resolution", minutes=240, used=60, stopped=at(7), is_current=False
        ),
        "breached_at_start_bound": clock(laptop, priority="P2", minutes=30, used=40, stopped=at(4, 0)),
        # Week of 11 March.
        "met_exactly_on_target": clock(printer, priority="P2", minutes=30, used=30, stopped=at(12)),
        "met_p2_resolution": clock(
            printer, target="resolution", priority="P2", minutes=480, used=120, stopped=at(13)
        ),
        # Over target, and the sweep had not recorded the breach yet: still breached.
        "breached_unrecorded": clock(laptop, minutes=15, used=20, stopped=at(14)),
        # Not measured.
        "cancelled": clock(printer, priority="P2", minutes=30, used=0, stopped=at(12), state="cancelled"),
        "running": clock(laptop, target="resolution", minutes=240, used=30),
        "after_the_end": clock(router, minutes=15, used=1, stopped=datetime(2024, 3, 25, tzinfo=UTC)),
    }
    made.update(network=network, desk=desk)
    return made


def counts(measured, met, percent):
    return {"measured": measured, "met": met, "breached": measured - met, "met_percent": percent}


# --- The numbers ----------------------------------------------------------------------------


def test_met_and_breached_are_counted_overall_and_per_week(clocks):
    data = report.compliance(start=date(2024, 3, 4), end=date(2024, 3, 24))
    assert data["overall"] == counts(7, 4, 57.1)
    assert [
        (row["period"], row["measured"], row["met"], row["met_percent"]) for row in data["by_period"]
    ] == [
        (date(2024, 3, 4), 4, 2, 50.0),
        (date(2024, 3, 11), 3, 2, 66.7),
        (date(2024, 3, 18), 0, 0, None),  # an empty week is still a bucket, with no percentage
    ]


def test_met_percent_is_broken_down_by_priority_target_group_and_organisation(clocks):
    data = report.compliance(start=date(2024, 3, 4), end=date(2024, 3, 24))
    by_priority = {row["priority"]: row for row in data["by_priority"]}
    assert list(by_priority) == ["P1", "P2", "P3", "P4"]
    assert {k: v for k, v in by_priority["P1"].items() if k != "priority"} == counts(4, 2, 50.0)
    assert {k: v for k, v in by_priority["P2"].items() if k != "priority"} == counts(3, 2, 66.7)
    assert by_priority["P3"]["met_percent"] is None
    assert [(r["target"], r["measured"], r["met"]) for r in data["by_target"]] == [
        ("response", 4, 2),
        ("resolution", 3, 2),
    ]
    assert [(r["name"], r["measured"], r["met"], r["met_percent"]) for r in data["by_assignment_group"]] == [
        ("Desk", 2, 2, 100.0),
        ("Network", 3, 2, 66.7),
        (report.NO_GROUP, 2, 0, 0.0),  # work without a group comes last
    ]
    assert [(r["name"], r["measured"], r["met"]) for r in data["by_organisation"]] == [
        ("Acme", 5, 2),
        ("Globex", 2, 2),
    ]
    assert data["by_assignment_group"][0]["id"] == clocks["desk"].pk
    assert data["by_assignment_group"][-1]["id"] is None


def test_cancelled_running_and_out_of_range_clocks_are_not_measured(clocks):
    data = report.compliance(start=date(2024, 3, 4), end=date(2024, 3, 31))
    # Widening to the 31st brings in the clock stopped at midnight on the 25th, nothing else.
    assert data["overall"]["measured"] == 8
    SlaClock.objects.filter(state="stopped").update(state="cancelled")
    assert report.compliance(start=date(2024, 3, 4), end=date(2024, 3, 31))["overall"] == counts(0, 0, None)


def test_filters_narrow_every_breakdown(clocks, organisation):
    data = report.compliance(start=date(2024, 3, 4), end=date(2024, 3, 24), group=clocks["network"].pk)
    assert data["overall"] == counts(3, 2, 66.7)
    assert [r["name"] for r in data["by_assignment_group"]] == ["Network"]
    data = report.compliance(
        start=date(2024, 3, 4), end=date(2024, 3, 24), target="response", organisation=organisation.pk
    )
    assert data["overall"] == counts(3, 1, 33.3)
    assert [r["target"] for r in data["by_target"]] == ["response"]
    data = report.compliance(start=date(2024, 3, 4), end=date(2024, 3, 24), priority="P2")
    assert data["overall"] == counts(3, 2, 66.7)
    assert [r["priority"] for r in data["by_priority"]] == ["P2"]


def test_an_empty_range_measures_nothing_and_has_no_percentage(db):
    data = report.compliance(start=date(2024, 3, 4), end=date(2024, 3, 24), period="day")
    assert data["overall"] == counts(0, 0, None)
    assert len(data["by_period"]) == 21
    assert all(row["met_percent"] is None for row in data["by_period"])
    assert data["by_assignment_group"] == data["by_organisation"] == []


def test_periods_are_days_weeks_or_months_covering_the_whole_range(clocks):
    months = report.compliance(start=date(2024, 1, 15), end=date(2024, 4, 2), period="month")
    assert [(r["period"], r["measured"]) for r in months["by_period"]] == [
        (date(2024, 1, 1), 0),
        (date(2024, 2, 1), 0),
        (date(2024, 3, 1), 8),
        (date(2024, 4, 1), 0),
    ]
    days = report.compliance(start=date(2024, 3, 4), end=date(2024, 3, 5), period="day")
    assert [(r["period"], r["measured"]) for r in days["by_period"]] == [
        (date(2024, 3, 4), 1),
        (date(2024, 3, 5), 1),
    ]


def test_periods_and_dates_are_cut_in_the_installation_time_zone(settings, db):
    settings.TIME_ZONE = "Europe/Berlin"
    # Sunday 23:30 UTC is Monday 00:30 in Berlin: the next week there.
    clock(work(), stopped=datetime(2024, 3, 10, 23, 30, tzinfo=UTC))
    data = report.compliance(start=date(2024, 3, 4), end=date(2024, 3, 17))
    assert data["time_zone"] == "Europe/Berlin"
    assert data["start"].isoformat() == "2024-03-04T00:00:00+01:00"
    assert [(r["period"], r["measured"]) for r in data["by_period"]] == [
        (date(2024, 3, 4), 0),
        (date(2024, 3, 11), 1),
    ]


def test_the_default_range_is_the_last_twelve_weeks(db):
    data = report.compliance()
    assert len(data["by_period"]) == 12
    assert data["by_period"][0]["period"].weekday() == 0
    assert data["end"] - data["start"] <= timedelta(weeks=12)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": date(2024, 3, 5), "end": date(2024, 3, 1)}, "end"),
        ({"start": date(2024, 1, 1), "end": date(2025, 1, 2)}, "end"),
        ({"period": "year"}, "period"),
        ({"priority": "P9"}, "priority"),
        ({"target": "closure"}, "target"),
    ],
)
def test_bad_report_input_is_refused_naming_the_field(db, kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        report.compliance(**kwargs)
    assert field in refused.value.fields


# --- The API --------------------------------------------------------------------------------


def test_an_agent_reads_the_report_through_the_api(api, l1, clocks):
    response = api.as_user(l1).get(URL, RANGE)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["overall"] == counts(7, 4, 57.1)
    assert body["period"] == "week"
    assert body["start"] == "2024-03-04T00:00:00Z"
    assert body["end"] == "2024-03-25T00:00:00Z"
    assert [r["period"] for r in body["by_period"]] == ["2024-03-04", "2024-03-11", "2024-03-18"]
    assert [r["name"] for r in body["by_assignment_group"]] == ["Desk", "Network", report.NO_GROUP]


def test_the_api_filters_by_group_organisation_priority_and_target(api, agent, clocks, organisation):
    query = {**RANGE, "organisation": organisation.pk, "target": "response", "priority": "P1"}
    body = api.as_user(agent).get(URL, query).json()
    assert body["overall"] == counts(2, 1, 50.0)
    assert body["filters"] == {
        "priority": "P1",
        "assignment_group": None,
        "organisation": organisation.pk,
        "target": "response",
    }
    body = api.get(URL, {**RANGE, "assignment_group": clocks["desk"].pk, "period": "month"}).json()
    assert body["overall"] == counts(2, 2, 100.0)
    assert [r["period"] for r in body["by_period"]] == ["2024-03-01"]


def test_the_api_takes_dates_and_times_with_an_exclusive_end(api, agent, clocks):
    body = (
        api.as_user(agent).get(URL, {"start": "2024-03-04T00:00:00Z", "end": "2024-03-05T10:00:00Z"}).json()
    )
    assert body["overall"]["measured"] == 1  # the one stopped at 10:00 on the 5th is excluded
    body = api.get(URL, {"start": "2024-03-04", "end": "2024-03-05"}).json()
    assert body["overall"]["measured"] == 2  # a date as the end includes its whole day


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2024-03-10", "end": "2024-03-01"}, "end"),
        ({"start": "2024-01-01", "end": "2025-06-01"}, "end"),
        ({"start": "last tuesday"}, "start"),
        ({"end": "2024-02-30"}, "end"),
        ({"start": "0001-01-01"}, "start"),
        ({"end": "9999-12-31"}, "end"),
        ({"period": "fortnight"}, "period"),
        ({"priority": "P0"}, "priority"),
        ({"target": "closure"}, "target"),
        ({"assignment_group": "network"}, "assignment_group"),
        ({"assignment_group": "999999"}, "assignment_group"),
        ({"assignment_group": str(2**70)}, "assignment_group"),
        ({"organisation": "-1"}, "organisation"),
        ({"organisation": "٣"}, "organisation"),  # a digit, but not an id
    ],
)
def test_bad_api_input_is_a_400_naming_the_field(api, agent, query, field):
    response = api.as_user(agent).get(URL, query)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_a_customer_may_not_read_the_report(api, customer, clocks):
    response = api.as_user(customer).get(URL, RANGE)
    assert response.status_code == 403
    assert "overall" not in response.json()


def test_the_report_needs_a_signed_in_user(client):
    assert client.get(URL).status_code in (401, 403)


def test_sla_report_is_held_by_agents_and_above_not_customers(customer, l1, agent, lead, manager, admin_user):
    holders = [
        policy.has_permission(u, "sla.report") for u in (customer, l1, agent, lead, manager, admin_user)
    ]
    assert holders == [False, True, True, True, True, True]


def test_the_report_is_in_the_api_schema(client, agent):
    client.force_login(agent)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/sla-compliance/"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "start", "end", "period", "priority", "assignment_group", "organisation", "target",
    }  # fmt: skip
    assert {"200", "400", "403"} <= set(operation["responses"])


# --- The desk page --------------------------------------------------------------------------


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_desk_page_draws_the_chart_and_the_tables(client, agent, clocks):
    client.force_login(agent)
    response = client.get(DESK, RANGE)
    assert response.status_code == 200
    html = page_text(response)
    assert "57.1 %" in html
    assert '<svg viewBox="0 0 760 260" role="img" aria-labelledby="sla-chart-title sla-chart-desc"' in html
    assert '<title id="sla-chart-title">SLA met % per week</title>' in html
    assert "4 of 7 measurements met their target (57.1 %)" in html  # the chart's <desc>
    assert html.count('<g class="sla-bar">') == 2  # two weeks with measurements…
    assert html.count('<g class="sla-bar-none">') == 1  # …and one without: no bar
    assert "<title>Week of 4 Mar 2024: 50.0 % met (2 of 4)</title>" in html
    for heading in ("By priority", "By target", "By assignment group", "By organisation"):
        assert heading in html
    assert "Network" in html and "Globex" in html and report.NO_GROUP in html
    assert "No SLA measurements finished" not in html


def test_the_desk_page_with_no_data_says_so_and_keeps_the_chart_tidy(client, agent):
    client.force_login(agent)
    response = client.get(DESK, RANGE)
    assert response.status_code == 200
    html = page_text(response)
    assert (
        "No SLA measurements finished in this range yet — clocks count once they stop: "
        "at first response and at resolution."
    ) in html
    assert "<svg" in html and "No measurements in this range yet" in html
    assert html.count('<g class="sla-bar">') == 0
    assert 'class="sla-grid"' in html  # the axes and gridlines are still drawn


def test_the_desk_page_opens_on_the_last_twelve_weeks(client, agent):
    client.force_login(agent)
    response = client.get(DESK)
    assert response.status_code == 200
    html = page_text(response)
    assert html.count('<g class="sla-bar-none">') == 12
    assert '<option value="week" selected>Week</option>' in html


def test_bad_desk_filters_are_shown_on_the_form_with_a_400(client, agent):
    client.force_login(agent)
    response = client.get(DESK, {"start": "2024-03-10", "end": "2024-03-01"})
    assert response.status_code == 400
    html = page_text(response)
    assert "The end must be after the start." in html
    assert "<svg" not in html


def test_a_customer_is_refused_the_desk_page(client, customer):
    client.force_login(customer)
    assert client.get(DESK).status_code == 403


def test_desk_access_alone_does_not_open_the_report(client):
    client.force_login(make_user("helper", Role.PLATFORM_AGENT))
    response = client.get(DESK)
    assert response.status_code == 403
    assert "sla.report" in response.content.decode()


# --- Cost -----------------------------------------------------------------------------------

# Auth (the roles come with the user) and one grouped query per breakdown (periods, targets,
# priorities, groups, organisations); the desk page adds the session, the groups and organisations to pick from, and
# the page chrome's unread-notification count.
API_QUERIES = 6
DESK_QUERIES = 10


def more_clocks(n, organisation):
    groups = [AssignmentGroup.objects.get_or_create(name=f"Team {i}")[0] for i in range(3)]
    for i in range(n):
        item = work(f"P{i % 4 + 1}", groups[i % 3], organisation)
        clock(item, priority=item.priority, used=i % 30, stopped=at(4 + i % 14, i % 24))


def test_the_api_costs_the_same_queries_for_5_or_50_clocks(
    api, agent, organisation, django_assert_max_num_queries
):
    api.as_user(agent).get(URL, RANGE)
    spent = []
    for n, more in ((5, 5), (50, 45)):
        more_clocks(more, organisation)
        with django_assert_max_num_queries(API_QUERIES) as captured:
            response = api.get(URL, RANGE)
        assert response.json()["overall"]["measured"] == n
        spent.append(len(captured))
    assert spent[0] == spent[1]


def test_the_desk_page_costs_the_same_queries_for_5_or_50_clocks(
    client, agent, organisation, django_assert_max_num_queries
):
    client.force_login(agent)
    client.get(DESK, RANGE)
    spent = []
    for n, more in ((5, 5), (50, 45)):
        more_clocks(more, organisation)
        with django_assert_max_num_queries(DESK_QUERIES) as captured:
            response = client.get(DESK, RANGE)
        assert response.status_code == 200
        assert f"<strong>{n}</strong> measured" in page_text(response)
        spent.append(len(captured))
    assert spent[0] == spent[1]
