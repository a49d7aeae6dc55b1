"""Customers learn nothing they may not read: not who else exists (user filters and choices),
not which agent worked their incident (notes, timeline, journal, portal speak as the desk), not
the hosts behind it, not the desk's actions (refusals), not the desk's bulk tools."""

import pytest
from django.test import Client
from django.urls import reverse

from conftest import make_user
from incidents import services, workflows
from itsm.errors import TransitionNotAllowed
from itsm.models import Host, HostGroup
from itsm.policy import DESK_NAME
from itsm.roles import PERSONAS, Persona
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"


@pytest.fixture
def outsider(other_organisation):
    return make_user("outsider", *PERSONAS[Persona.EVERYONE], organisation=other_organisation)


@pytest.fixture
def incident(customer):
    return make_incident(requester=customer)


# --- User-valued filters and choices ----------------------------------------------------------


@pytest.mark.parametrize("field", ["requester", "requested_for"])
def test_a_customers_filter_on_a_user_it_cannot_see_answers_like_a_missing_id(
    field, incident, customer, outsider, agent, api
):
    make_incident(requester=outsider)
    api.as_user(customer)
    unseen = api.get(URL, {field: outsider.pk})
    missing = api.get(URL, {field: 999999})
    assert (unseen.status_code, unseen.json()) == (missing.status_code, missing.json())
    assert unseen.status_code == 400
    assert api.get(URL, {field: customer.pk}).status_code == 200
    # An agent still filters by anyone.
    r = api.as_user(agent).get(URL, {field: outsider.pk})
    assert r.status_code == 200
    assert r.json()["count"] == (1 if field == "requester" else 0)


def test_the_browsable_apis_filter_form_offers_a_customer_only_people_it_may_see(
    incident, customer, customer2, outsider, agent
):
    client = Client()
    client.force_login(customer)
    html = client.get(URL, HTTP_ACCEPT="text/html").content.decode()
    assert "customer2" in html
    assert "outsider" not in html
    assert ">agent<" not in html


# --- Agents' names ----------------------------------------------------------------------------


@pytest.fixture
def worked(incident, agent, customer):
    """An agent comments, starts and edits the customer's incident; the customer replies."""
    services.note_add(incident=incident, actor=agent, kind="comment", body="Looking into it")
    incident = workflows.incident_start(incident=incident, actor=agent)
    services.incident_update(incident=incident, actor=agent, data={"short_description": "Printer smoking"})
    services.note_add(incident=incident, actor=customer, kind="comment", body="Thanks")
    return incident


def test_customers_read_agents_as_the_service_desk_in_api_notes(worked, customer, agent, api):
    notes = api.as_user(customer).get(f"{URL}{worked.pk}/notes/").json()
    assert [(n["body"], n["author"]) for n in notes] == [
        ("Looking into it", DESK_NAME),
        ("Thanks", "customer"),
    ]
    notes = api.as_user(agent).get(f"{URL}{worked.pk}/notes/").json()
    assert [n["author"] for n in notes] == ["agent", "customer"]


def test_customers_read_agents_as_the_service_desk_in_the_timeline(worked, customer, agent, api):
    items = api.as_user(customer).get(f"{URL}{worked.pk}/timeline/").json()
    assert "agent" not in {item["actor"] for item in items}
    assert {item["actor"] for item in items} == {DESK_NAME, "customer"}
    items = api.as_user(agent).get(f"{URL}{worked.pk}/timeline/").json()
    assert "agent" in {item["actor"] for item in items}


def test_customers_read_agents_as_the_service_desk_in_the_journal(worked, customer, agent, api):
    entries = api.as_user(customer).get(f"{URL}{worked.pk}/journal/").json()
    assert {e["actor_label"] for e in entries} == {DESK_NAME, "customer"}
    entries = api.as_user(agent).get(f"{URL}{worked.pk}/journal/").json()
    assert "agent" in {e["actor_label"] for e in entries}


def test_the_portal_names_the_speakers_as_the_api_does(worked, customer):
    client = Client()
    client.force_login(customer)
    page = client.get(reverse("portal:incident-detail", args=[worked.pk])).content.decode()
    assert DESK_NAME in page
    assert ">agent<" not in page


# --- Hosts ------------------------------------------------------------------------------------


def test_hosts_are_hidden_from_customers_in_the_body_and_the_timeline(incident, customer, agent, api):
    host = Host.objects.create(hostname="db-secret-01", host_group=HostGroup.objects.create(name="DB"))
    services.incident_update(incident=incident, actor=agent, data={"hosts": [host]})
    api.as_user(customer)
    body = api.get(f"{URL}{incident.pk}/").json()
    assert "hosts" not in body
    assert "db-secret-01" not in api.get(f"{URL}{incident.pk}/timeline/").content.decode()
    assert "db-secret-01" not in api.get(f"{URL}{incident.pk}/journal/").content.decode()
    assert api.as_user(agent).get(f"{URL}{incident.pk}/").json()["hosts"] == [host.pk]


# --- Refusals ---------------------------------------------------------------------------------


def test_a_refused_transition_lists_to_a_customer_only_the_actions_it_may_take(
    incident, customer, agent, api
):
    r = api.as_user(customer).post(f"{URL}{incident.pk}/close/", {}, format="json")
    assert r.status_code == 400
    assert r.json()["allowed"] == ["cancel"]
    assert "resolve" not in r.json()["detail"]
    r = api.as_user(agent).post(f"{URL}{incident.pk}/close/", {}, format="json")
    assert "resolve" in r.json()["allowed"]


def test_a_refused_transition_lists_nothing_the_customer_cannot_take_in_the_domain(incident, customer, agent):
    incident = workflows.incident_start(incident=incident, actor=agent)
    incident = workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes="Fixed"
    )
    with pytest.raises(TransitionNotAllowed) as refused:  # the portal's cancel, too
        workflows.incident_cancel(incident=incident, actor=customer)
    assert refused.value.fields["allowed"] == []
    assert "reopen" not in refused.value.message
