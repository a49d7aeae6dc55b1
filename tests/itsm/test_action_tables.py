"""One action table per record type drives the API's actions, the desk's action forms and the
admin's bulk actions, so the three doors offer the same actions and cannot drift apart."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin import site
from django.test import RequestFactory
from django.urls import reverse

from incidents.actions import ACTIONS
from incidents.api.views import IncidentTaskViewSet, IncidentViewSet
from incidents.models import Incident
from itsm.actions import TASK_ACTIONS
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db


def test_every_incident_action_is_an_api_endpoint_with_its_input():
    extra = {a.url_path: a for a in IncidentViewSet.get_extra_actions()}
    for entry in ACTIONS.values():
        assert entry.name in extra, entry.name
        assert reverse(f"incident-{entry.name}", args=[1]) == f"/api/v1/incidents/1/{entry.name}/"


def test_every_task_action_is_an_api_endpoint():
    paths = {a.url_path for a in IncidentTaskViewSet.get_extra_actions()}
    assert set(TASK_ACTIONS) <= paths


def test_the_desk_offers_exactly_the_actions_the_table_allows_now(client, agent, customer):
    incident = make_incident(requester=customer)
    client.force_login(agent)
    page = client.get(reverse("desk:incident-detail", args=[incident.pk])).content.decode()
    offered = set(re.findall(r'id="action-([a-z-]+)"', page))  # a button, or a card holding its form
    assert offered == {a.name for a in ACTIONS.available(agent, incident)}
    assert "resolve" in offered and "reopen" not in offered  # a new incident: resolve, not reopen


def test_an_action_the_table_does_not_allow_in_this_state_is_refused_by_the_api(api, agent, customer):
    incident = make_incident(requester=customer)
    api.force_authenticate(agent)
    response = api.post(f"/api/v1/incidents/{incident.pk}/reopen/", {"notes": "again"}, format="json")
    assert response.status_code == 400
    assert "reopen" not in {a.name for a in ACTIONS.available(agent, incident)}


def test_the_admin_offers_the_tables_admin_actions_to_whoever_may_take_them(admin_user, customer):
    request = RequestFactory().get("/admin/incidents/incident/")
    request.user = admin_user
    actions = site._registry[Incident].get_actions(request)
    marked = {a.name for a in ACTIONS.values() if a.admin}
    assert marked == {"close", "acknowledge"}
    assert marked <= set(actions)
    request.user = customer
    assert not marked & set(site._registry[Incident].get_actions(request))
