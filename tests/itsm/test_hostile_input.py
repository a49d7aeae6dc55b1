"""Hostile input is a 4xx naming what is wrong, never a 500: deeply nested JSON, ids no row can
have, dates out of any sane range (issue 12, item 4)."""

import pytest

from incidents.models import IncidentTask, TimeEntry
from itsm import services
from itsm.validators import OUT_OF_RANGE
from oncall import services as oncall_services
from sla.models import BusinessCalendar
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # past 64 bits


def _nested(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def _nested_list(levels: int) -> str:
    return "[" * levels + "]" * levels


# --- Deeply nested JSON ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [_nested(3000), _nested_list(3000), _nested(200)], ids=["object", "list", "200"]
)
def test_deeply_nested_json_is_a_400_for_an_incident_create(body, customer, api):
    r = api.as_user(customer).post("/api/v1/incidents/", data=body, content_type="application/json")
    assert r.status_code == 400
    assert "nested" in r.json()["detail"]


def test_deeply_nested_json_is_a_400_for_an_action(customer, agent, api):
    incident = make_incident(requester=customer)
    r = api.as_user(agent).post(
        f"/api/v1/incidents/{incident.pk}/resolve/", data=_nested(3000), content_type="application/json"
    )
    assert r.status_code == 400


def test_deeply_nested_json_is_a_400_for_a_patch(customer, agent, api):
    incident = make_incident(requester=customer)
    r = api.as_user(agent).patch(
        f"/api/v1/incidents/{incident.pk}/", data=_nested_list(3000), content_type="application/json"
    )
    assert r.status_code == 400
    incident.refresh_from_db()
    assert incident.version == 1


def test_deeply_nested_json_is_a_400_for_events(agent, api):
    r = api.as_user(agent).post("/api/v1/events/", data=_nested(3000), content_type="application/json")
    assert r.status_code == 400


def test_deeply_nested_json_is_a_400_for_a_shared_resource(admin_user, api):
    r = api.as_user(admin_user).post(
        "/api/v1/organisations/", data=_nested(3000), content_type="application/json"
    )
    assert r.status_code == 400


def test_moderately_nested_json_is_still_parsed(customer, api):
    r = api.as_user(customer).post(
        "/api/v1/incidents/", data={"short_description": "Printer on fire", "description": "x"}, format="json"
    )
    assert r.status_code == 201


def test_the_api_root_answers_a_signed_in_user(customer, api):
    r = api.as_user(customer).get("/api/v1/")
    assert r.status_code == 200
    assert "incidents" in r.json()


def test_the_api_root_refuses_writes(customer, api):
    r = api.as_user(customer).post("/api/v1/", data=_nested(3000), content_type="application/json")
    assert r.status_code in (403, 405)


# --- Ids no row can have --------------------------------------------------------------------


@pytest.mark.parametrize("value", [HUGE, f"-{HUGE}"])
def test_an_incident_filter_past_64_bits_is_a_400_not_a_crash(value, customer, agent, api):
    make_incident(requester=customer)
    r = api.as_user(agent).get("/api/v1/incident-tasks/", {"incident": value})
    assert r.status_code == 400
    assert "incident" in r.json()


def test_an_incident_filter_past_64_bits_on_a_task_is_a_400(customer, agent, api):
    incident = make_incident(requester=customer)
    task = services.task_create(
        parent=incident, model=IncidentTask, actor=agent, data={"short_description": "Look"}
    )
    r = api.as_user(agent).get(f"/api/v1/incident-tasks/{task.pk}/", {"incident": HUGE})
    assert r.status_code == 400


def test_a_valid_incident_filter_still_finds_its_tasks(customer, agent, api):
    incident = make_incident(requester=customer)
    other = make_incident(requester=customer)
    task = services.task_create(
        parent=incident, model=IncidentTask, actor=agent, data={"short_description": "Look"}
    )
    services.task_create(parent=other, model=IncidentTask, actor=agent, data={"short_description": "Other"})
    r = api.as_user(agent).get("/api/v1/incident-tasks/", {"incident": incident.pk})
    assert r.status_code == 200
    assert [row["id"] for row in r.json()["results"]] == [task.pk]


def test_an_unknown_incident_in_a_filter_is_a_400_like_a_huge_one(customer, agent, api):
    r = api.as_user(agent).get("/api/v1/incident-tasks/", {"incident": "123456"})
    assert r.status_code == 400
    assert (
        r.json().keys() == api.as_user(agent).get("/api/v1/incident-tasks/", {"incident": HUGE}).json().keys()
    )


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/incidents/{huge}/",
        "/api/v1/incidents/{huge}/timeline/",
        "/api/v1/incidents/{huge}/journal/",
        "/api/v1/incident-tasks/{huge}/",
        "/api/v1/work/{huge}/",
        "/api/v1/incidents/{pk}/notes/{huge}/",
    ],
)
def test_an_api_url_with_an_id_past_64_bits_is_a_404(url, customer, agent, api):
    incident = make_incident(requester=customer)
    client = api.as_user(agent)
    for method in (client.get, client.delete) if "/notes/" not in url else (client.patch, client.delete):
        r = method(url.format(huge=HUGE, pk=incident.pk))
        assert r.status_code in (404, 405), (method, r.status_code)
        assert method != client.get or r.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/portal/incidents/{huge}/",
        "/portal/incidents/{huge}/edit/",
        "/portal/incidents/{huge}/comment/",
        "/portal/incidents/{huge}/cancel/",
        "/desk/incidents/{huge}/",
        "/desk/incidents/{pk}/notes/{huge}/edit/",
        "/desk/incidents/{pk}/tasks/{huge}/start/",
        "/desk/oncall/{huge}/",
        "/desk/notifications/{huge}/read/",
        "/oncall/feeds/{huge}/token.ics",
    ],
)
def test_a_page_with_an_id_past_64_bits_is_not_found(url, customer, admin_user, client):
    incident = make_incident(requester=customer)
    for user in (customer, admin_user):
        client.force_login(user)
        for method in (client.get, client.post):
            r = method(url.format(huge=HUGE, pk=incident.pk))
            assert r.status_code in (403, 404, 405), (user, method, r.status_code)


# --- Dates out of any sane range ------------------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1969-12-31", "2200-01-01"])
def test_a_time_entry_dated_out_of_range_is_a_400_naming_the_date(day, customer, agent, api):
    incident = make_incident(requester=customer)
    r = api.as_user(agent).post(f"/api/v1/incidents/{incident.pk}/time-entries/", {"minutes": 5, "date": day})
    assert r.status_code == 400
    assert r.json()["date"] == [OUT_OF_RANGE]
    assert not TimeEntry.objects.exists()


def test_a_time_entry_dated_in_range_is_logged(customer, agent, api):
    incident = make_incident(requester=customer)
    r = api.as_user(agent).post(
        f"/api/v1/incidents/{incident.pk}/time-entries/", {"minutes": 5, "date": "2199-12-31"}
    )
    assert r.status_code == 201


def test_the_desk_time_form_refuses_a_date_out_of_range_on_the_field(customer, agent, client):
    incident = make_incident(requester=customer)
    client.force_login(agent)
    r = client.post(f"/desk/incidents/{incident.pk}/time/", {"minutes": 5, "date": "0001-01-01"})
    assert r.status_code == 400
    assert r.context["time_form"].errors["date"] == [OUT_OF_RANGE]
    assert not TimeEntry.objects.exists()


def test_a_holiday_out_of_range_is_a_400_naming_the_date(manager, api):
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="Europe/London")
    r = api.as_user(manager).post(
        "/api/v1/holidays/", {"calendar": calendar.pk, "name": "Far", "date": "9999-12-31"}, format="json"
    )
    assert r.status_code == 400
    assert r.json()["date"] == [OUT_OF_RANGE]


@pytest.mark.parametrize("param", ["start", "end"])
def test_an_oncall_range_out_of_range_is_a_400_naming_the_parameter(param, manager, agent, api):
    schedule = oncall_services.schedule_create(
        actor=manager,
        data={
            "name": "S",
            "time_zone": "UTC",
            "rotation": "daily",
            "start": "2026-03-02T09:00:00Z",
            "participants": [agent],
        },
    )
    r = api.as_user(manager).get(
        f"/api/v1/oncall-schedules/{schedule.pk}/blocks/", {param: "9999-12-31T23:59:59Z"}
    )
    assert r.status_code == 400
    assert param in r.json()


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00"])
def test_a_date_filter_out_of_range_is_a_400_naming_the_filter(value, customer, agent, api):
    make_incident(requester=customer)
    r = api.as_user(agent).get("/api/v1/incidents/", {"opened_at__gte": value})
    assert r.status_code == 400
    assert "opened_at__gte" in r.json()


def test_the_time_report_refuses_a_range_out_of_range(agent, api):
    r = api.as_user(agent).get("/api/v1/incidents/time-report/", {"start": "0001-01-01", "end": "9999-12-31"})
    assert r.status_code == 400
    assert set(r.json()) >= {"start", "end"}


def test_the_api_root_answers_an_agent(agent, api):
    r = api.as_user(agent).get("/api/v1/")
    assert r.status_code == 200
    assert {"incidents", "work", "problems", "changes"} <= set(r.json())
