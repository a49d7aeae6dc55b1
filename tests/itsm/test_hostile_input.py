"""Hostile input is a 4xx naming what is wrong, never a 500: deeply nested JSON, ids no row can
have, dates out of any sane range (issue 12, item 4)."""

import pytest

from incidents.models import IncidentTask
from itsm import services
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # past 64 bits


def _nested(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def _nested_list(levels: int) -> str:
    return "[" * levels + "]" * levels


# --- Deeply nested JSON ---------------------------------------------------------------------


@pytest.mark.parametrize("body", [_nested(3000), _nested_list(3000), _nested(200)], ids=["object", "list", "200"])
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
    r = api.as_user(admin_user).post("/api/v1/organisations/", data=_nested(3000), content_type="application/json")
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
