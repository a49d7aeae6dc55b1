"""The changes panel on the desk's incident page (registered through ``itsm.views.panels``, so
incidents never import changes): the incident's changes, and "Raise an emergency change" for
those who manage incidents — a form that raises it approved, linked both ways, with its PIR due
in 72 hours."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from changes.models import Change
from conftest import make_user
from incidents import workflows as incident_workflows
from itsm.roles import Role
from tests.changes.factories import make_change
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def html_of(response) -> str:
    return CSRF_INPUT.sub("", unescape(response.content.decode()))


def incident_page(incident) -> str:
    return reverse("desk:incident-detail", args=[incident.pk])


def emergency_url(incident) -> str:
    return reverse("desk:incident-emergency-change", args=[incident.pk])


@pytest.fixture
def incident(customer):
    return make_incident(requester=customer, short_description="Core router drops packets")


def test_agent_sees_the_panel_with_the_emergency_button_and_the_incidents_changes(client, agent, incident):
    raised = make_change(by=agent, short_description="Replace the router's line card")
    incident.changes_required.add(raised)
    unrelated = make_change(by=agent, short_description="Unrelated change")
    client.force_login(agent)
    html = html_of(client.get(incident_page(incident)))
    assert 'id="changes"' in html and "Raise an emergency change" in html
    assert f'href="{emergency_url(incident)}"' in html
    assert raised.number in html and reverse("desk:change-detail", args=[raised.pk]) in html
    assert unrelated.number not in html


def test_agent_raises_an_emergency_change_from_the_incident_page(client, agent, incident):
    client.force_login(agent)
    form = client.get(emergency_url(incident))
    assert form.status_code == 200
    assert f"Emergency change for {incident.number}: Core router drops packets" in html_of(form)
    response = client.post(emergency_url(incident), {
        "short_description": "Swap the router's line card", "implementation_plan": "Fail over, swap, fail back.",
    })  # fmt: skip
    change = Change.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("desk:change-detail", args=[change.pk])
    assert (change.change_type, change.state, change.source_type) == ("emergency", "approved", "incident")
    assert change.incident == incident and list(incident.changes_required.all()) == [change]
    assert change.pir_required
    assert abs(change.pir_due_at - (timezone.now() + timedelta(hours=72))) < timedelta(minutes=1)
    page = html_of(client.get(response["Location"]))
    assert "is raised for" in page and "Emergency change" in page
    # … and the incident's panel now lists it.
    assert change.number in html_of(client.get(incident_page(incident)))


def test_an_emergency_change_without_a_title_is_a_400_and_nothing_is_raised(client, agent, incident):
    client.force_login(agent)
    assert client.post(emergency_url(incident), {"short_description": ""}).status_code == 400
    assert not Change.objects.exists()


def test_a_resolved_incident_offers_no_emergency_change_and_the_service_refuses_one(client, agent, incident):
    incident_workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes="Rebooted."
    )
    client.force_login(agent)
    assert "Raise an emergency change" not in html_of(client.get(incident_page(incident)))
    response = client.post(emergency_url(incident), {"short_description": "Too late"})
    assert response.status_code == 400
    assert "an emergency change is for an open incident" in html_of(response)
    assert not Change.objects.exists()


def test_customers_never_reach_the_emergency_form(client, customer, incident):
    client.force_login(customer)
    assert client.get(emergency_url(incident)).status_code == 403
    assert client.post(emergency_url(incident), {"short_description": "Sneaky"}).status_code == 403
    assert not Change.objects.exists()


def test_an_incident_the_user_may_not_read_or_a_user_who_may_not_raise_changes_gets_404(
    client, agent, incident, organisation
):
    client.force_login(agent)
    assert client.get(reverse("desk:incident-emergency-change", args=[999999])).status_code == 404
    desk_only = make_user("deskonly", Role.PLATFORM_AGENT, organisation=organisation)
    client.force_login(desk_only)
    assert client.post(emergency_url(incident), {"short_description": "x"}).status_code == 404
    assert not Change.objects.exists()


def _queries(client, path, django_assert_max_num_queries) -> int:
    client.get(path)
    with django_assert_max_num_queries(60) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_the_panel_costs_the_same_queries_whatever_the_number_of_changes(
    client, agent, customer, django_assert_max_num_queries
):
    few = make_incident(requester=customer)
    many = make_incident(requester=customer)
    few.changes_required.add(make_change(by=agent))
    for n in range(15):
        many.changes_required.add(make_change(by=agent, short_description=f"Change {n}"))
    client.force_login(agent)
    assert _queries(client, incident_page(few), django_assert_max_num_queries) == _queries(
        client, incident_page(many), django_assert_max_num_queries
    )
    assert "More in the change queue" in html_of(client.get(incident_page(many)))


def test_the_panel_lists_each_change_once_newest_first_whether_raised_for_the_incident_linked_or_both(
    agent, incident, rf
):
    from changes.panels import incident_changes

    both = make_change(by=agent, short_description="Raised for it and linked")
    raised = make_change(by=agent, short_description="Raised for it")
    linked = make_change(by=agent, short_description="Linked as required")
    make_change(by=agent, short_description="Unrelated change")
    Change.objects.filter(pk__in=[both.pk, raised.pk]).update(incident=incident)
    incident.changes_required.add(both, linked)
    request = rf.get("/")
    request.user = agent
    shown = incident_changes(request, incident)["changes"]
    assert [change.pk for change in shown] == [linked.pk, raised.pk, both.pk]
