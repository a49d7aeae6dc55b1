"""A domain shows a panel on another domain's page through ``itsm.views.panels`` (the page's app
never imports it): the panel appears where its slot is, only when its context says so."""

import pytest

from incidents.models import Incident
from itsm.views import panels
from tests.incidents.factories import make_incident


@pytest.fixture
def probe_panel():
    seen = []

    def context(request, record):
        seen.append(record)
        if request.user.username == "customer" or (record is not None and record.short_description == "quiet"):
            return None
        return {"text": f"probe for {record.number if record else 'a new incident'}"}

    for slot in ("desk:incident:side", "desk:incident:main", "portal:incident-new"):
        panels.register(panels.Panel(slot=slot, name="probe", template="tests/_probe_panel.html", context=context))
    yield seen
    for slot in ("desk:incident:side", "desk:incident:main", "portal:incident-new"):
        panels.unregister(slot, "probe")


def test_a_registered_panel_shows_on_the_incident_page_in_its_slots(client, agent, customer, probe_panel):
    incident = make_incident(requester=customer)
    client.force_login(agent)
    page = client.get(f"/desk/incidents/{incident.pk}/").content.decode()
    assert page.count(f"probe for {incident.number}") == 2  # side and main
    assert probe_panel == [incident, incident]


def test_a_panel_whose_context_is_none_is_not_shown(client, agent, customer, probe_panel):
    incident = make_incident(requester=customer, short_description="quiet")
    client.force_login(agent)
    page = client.get(f"/desk/incidents/{incident.pk}/").content.decode()
    assert "probe for" not in page


def test_the_portal_raise_form_shows_panels_of_its_slot(client, agent, probe_panel):
    client.force_login(agent)
    assert "probe for a new incident" in client.get("/portal/incidents/new/").content.decode()
    assert Incident.objects.count() == 0
