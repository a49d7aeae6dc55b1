"""Rules that live in incidents.services, so every door obeys them: who an incident may name
(assignee, group, collaborators, major-incident manager, requester, requested-for person) and
how long a note may be — through the API's plain PATCH, the desk's and the portal's forms."""

import pytest
from django.test import Client
from django.urls import reverse

from conftest import make_user
from incidents import services
from incidents.models import NOTE_MAX, IncidentNote
from itsm.errors import InvalidInput
from itsm.models import AuditEntry
from itsm.roles import PERSONAS, Persona, Role
from tests.incidents.factories import make_incident
from tests.itsm.admin_support import page_data
from tests.itsm.factories import make_group

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"


@pytest.fixture
def incident(customer, organisation):
    return make_incident(requester=customer)


@pytest.fixture
def outsider(other_organisation):
    return make_user("outsider", *PERSONAS[Persona.EVERYONE], organisation=other_organisation)


@pytest.fixture
def monitor(db):
    return make_user("monitoring", Role.ITSM_AGENT)


def _patch(api, user, incident, data):
    return api.as_user(user).patch(f"{URL}{incident.pk}/", data, format="json")


def _unchanged(incident, *fields):
    before = {name: getattr(incident, name) for name in fields}
    incident.refresh_from_db()
    assert {name: getattr(incident, name) for name in fields} == before
    assert not AuditEntry.objects.filter(
        object_id=str(incident.pk), field__in=fields, action="update"
    ).exists()


# --- Who may be named: the rules of /assign/ in every door ------------------------------------


@pytest.mark.parametrize("who", ["customer", "outsider"])
@pytest.mark.parametrize("field", ["assignee", "major_incident_manager"])
def test_only_agents_can_be_named_assignee_or_major_incident_manager_by_a_plain_patch(
    who, field, incident, agent, api, request
):
    person = request.getfixturevalue(who)
    r = _patch(api, agent, incident, {field: person.pk})
    assert r.status_code == 400, r.content
    assert field in r.json()
    _unchanged(incident, field)


@pytest.mark.parametrize("who", ["customer", "outsider"])
def test_only_agents_can_be_collaborators(who, incident, agent, api, request):
    person = request.getfixturevalue(who)
    r = _patch(api, agent, incident, {"collaborators": [agent.pk, person.pk]})
    assert r.status_code == 400, r.content
    assert "collaborators" in r.json()
    assert not incident.collaborators.exists()


def test_agents_can_be_named_by_a_plain_patch(incident, agent, l1, api):
    r = _patch(api, agent, incident, {"assignee": l1.pk, "collaborators": [agent.pk, l1.pk]})
    assert r.status_code == 200, r.content
    incident.refresh_from_db()
    assert incident.assignee == l1
    assert set(incident.collaborators.all()) == {agent, l1}


def test_an_assignee_outside_the_named_group_is_refused_by_a_plain_patch(incident, agent, l1, monitor, api):
    network = make_group("Network", members=[l1])
    for person in (agent, monitor):  # the monitoring account is an agent, but no member either
        r = _patch(api, agent, incident, {"assignee": person.pk, "assignment_group": network.pk})
        assert r.status_code == 400, r.content
        assert r.json()["assignee"] == [f"{person} is not a member of {network}."]
    _unchanged(incident, "assignee", "assignment_group")
    r = _patch(api, agent, incident, {"assignee": l1.pk, "assignment_group": network.pk})
    assert r.status_code == 200, r.content


def test_an_assignee_outside_the_incidents_group_is_refused_by_a_plain_patch(agent, l1, customer, api):
    network = make_group("Network", members=[l1])
    incident = make_incident(requester=customer, assignee=l1, assignment_group=network, assigned_by=agent)
    r = _patch(api, agent, incident, {"assignee": agent.pk})
    assert r.status_code == 400
    assert r.json()["assignee"] == [f"{agent} is not a member of {network}."]


def test_an_inactive_group_is_refused_by_a_plain_patch(incident, agent, api):
    retired = make_group("Retired", members=[agent], is_active=False)
    r = _patch(api, agent, incident, {"assignment_group": retired.pk})
    assert r.status_code == 400
    assert r.json()["assignment_group"] == ["This assignment group is inactive."]


def test_a_customer_cannot_be_named_major_incident_manager_in_the_desk_edit_form(
    client, agent, customer, incident
):
    client.force_login(agent)
    form = client.get(reverse("desk:incident-detail", args=[incident.pk]), {"open": "edit"}).context["edit_form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and not isinstance(value, bool)
    }
    response = client.post(
        reverse("desk:incident-edit", args=[incident.pk]), {**data, "major_incident_manager": "customer"}
    )
    assert response.status_code == 400
    assert response.context["edit_form"].errors["major_incident_manager"]
    _unchanged(incident, "major_incident_manager")


def test_a_customer_cannot_be_made_assignee_in_the_admin_change_form(client, customer, incident):
    client.force_login(make_user("itsmadmin", Role.ITSM_ADMINISTRATOR))
    url = f"/admin/incidents/incident/{incident.pk}/change/"
    data = page_data(client.get(url))
    response = client.post(url, {**data, "assignee": customer.pk}, follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert any("Only service-desk agents can be assigned incidents." in m for m in said), said
    _unchanged(incident, "assignee")


def test_the_service_names_each_field_at_fault(incident, agent, customer):
    with pytest.raises(InvalidInput) as refused:
        services.incident_update(
            incident=incident, actor=agent,
            data={"assignee": customer, "major_incident_manager": customer, "collaborators": [customer]},
        )  # fmt: skip
    assert set(refused.value.fields) == {"assignee", "major_incident_manager", "collaborators"}


# --- Requester and requested-for person: the incident's organisation --------------------------


@pytest.mark.parametrize("field", ["requested_for", "requester"])
def test_another_organisations_user_cannot_be_named_on_an_incident(field, incident, agent, outsider, api):
    r = _patch(api, agent, incident, {field: outsider.pk})
    assert r.status_code == 400, r.content
    assert field in r.json()
    _unchanged(incident, field)
    assert api.as_user(outsider).get(f"{URL}{incident.pk}/").status_code == 404


def test_people_of_the_incidents_organisation_and_agents_can_be_named(incident, agent, customer2, api):
    assert _patch(api, agent, incident, {"requested_for": customer2.pk}).status_code == 200
    assert _patch(api, agent, incident, {"requester": agent.pk}).status_code == 200


def test_moving_an_incident_to_another_organisation_keeps_its_people_in_it(
    incident, agent, outsider, other_organisation, api
):
    r = _patch(api, agent, incident, {"organisation": other_organisation.pk})
    assert r.status_code == 400
    assert "requester" in r.json()
    r = _patch(api, agent, incident, {"organisation": other_organisation.pk, "requester": outsider.pk})
    assert r.status_code == 200, r.content


def test_an_incident_raised_by_an_agent_for_a_customer_is_of_the_customers_organisation(
    agent, customer, organisation
):
    incident = make_incident(requester=customer, by=agent)
    assert incident.organisation == organisation


def test_an_agent_cannot_raise_an_incident_of_one_organisation_for_another(
    agent, customer, outsider, organisation, api
):
    r = api.as_user(agent).post(
        URL,
        {"short_description": "Disk full", "organisation": organisation.pk, "requested_for": outsider.pk},
        format="json",
    )
    assert r.status_code == 400
    assert "requested_for" in r.json()


# --- Note length: one limit in every door -----------------------------------------------------


def test_note_length_is_capped_by_the_service(incident, customer):
    with pytest.raises(InvalidInput) as refused:
        services.note_add(incident=incident, actor=customer, kind="comment", body="x" * (NOTE_MAX + 1))
    assert "body" in refused.value.fields
    note = services.note_add(incident=incident, actor=customer, kind="comment", body="x" * NOTE_MAX)
    with pytest.raises(InvalidInput):
        services.note_edit(note=note, actor=customer, body="y" * (NOTE_MAX + 1))


def test_note_length_is_the_same_in_the_portal(incident, customer):
    client = Client()
    client.force_login(customer)
    response = client.post(
        reverse("portal:incident-comment", args=[incident.pk]), {"body": "x" * (NOTE_MAX + 1)}
    )
    assert response.status_code == 400
    assert not IncidentNote.objects.filter(incident=incident).exists()


def test_note_length_is_the_same_in_the_api_and_the_desk(incident, agent, api):
    r = api.as_user(agent).post(
        f"{URL}{incident.pk}/notes/", {"kind": "work_note", "body": "x" * (NOTE_MAX + 1)}, format="json"
    )
    assert r.status_code == 400
    client = Client()
    client.force_login(agent)
    response = client.post(
        reverse("desk:incident-journal", args=[incident.pk]), {"body": "x" * (NOTE_MAX + 1)}
    )
    assert response.status_code == 400
    assert not IncidentNote.objects.filter(incident=incident).exists()


def test_a_deactivated_agent_cannot_be_named_by_a_plain_edit_either(agent, customer):
    from conftest import make_user
    from incidents import services as incident_services
    from itsm.errors import InvalidInput
    from tests.incidents.factories import make_incident

    gone = make_user("gone", "itsm_agent")
    gone.is_active = False
    gone.save()
    incident = make_incident(requester=customer)
    for field, value in (("assignee", gone), ("major_incident_manager", gone), ("collaborators", [gone])):
        with pytest.raises(InvalidInput) as refused:
            incident_services.incident_update(incident=incident, actor=agent, data={field: value})
        assert field in refused.value.fields
