"""Every people source behind ``/people/?source=&q=`` (itsm.people, registered by each domain's
``rules.py``), one by one: a matching ``q`` finds the person the source allows the reader, and
leaves out whom the policy does not allow (no permission, inactive, another organisation, or
a reader who may not read the field at all)."""

import pytest
from django.urls import reverse

from conftest import make_user
from itsm import people
from itsm.models import Organisation
from itsm.roles import PERSONAS, Persona, Role

pytestmark = pytest.mark.django_db

PEOPLE = reverse("people")


def named(user, first, last, *, active=True):
    user.first_name, user.last_name, user.is_active = first, last, active
    user.save()
    return user


@pytest.fixture
def robins(organisation, other_organisation):
    """Five people called Robin: who may be picked depends on the source and on the reader."""
    return {
        # An ITSM agent: holds incidents.manage, problems.manage and service_requests.manage.
        "agent": named(make_user("ragent", *PERSONAS[Persona.L1_AGENT]), "Robin", "Agent"),
        # Desk access only: may be named, never assigned.
        "desk": named(make_user("rdesk", Role.PLATFORM_AGENT), "Robin", "Desk"),
        # An ITSM agent who has left: nobody picks them any more.
        "gone": named(make_user("rgone", *PERSONAS[Persona.L1_AGENT]), "Robin", "Gone", active=False),
        # The customer's colleague, and a customer of another organisation.
        "colleague": named(
            make_user("rcolleague", *PERSONAS[Persona.EVERYONE], organisation=organisation), "Robin", "Colleague"
        ),
        "stranger": named(
            make_user("rstranger", *PERSONAS[Persona.EVERYONE], organisation=other_organisation), "Robin", "Stranger"
        ),
    }


ASSIGNEE_SOURCES = (
    "incidents.incident.assignee",
    "incidents.incident.major_incident_manager",
    "incidents.incidenttask.assignee",
    "problems.problem.assignee",
    "problems.problemtask.assignee",
    "changes.change.assignee",
    "changes.changetask.assignee",
    "catalog.request.assignee",
    "catalog.requesttask.assignee",
)
NAMEABLE_SOURCES = (
    "incidents.incident.requester",
    "incidents.incident.requested_for",
    "catalog.request.requested_for",
    "catalog.approvallevel.users",
)
ORGANISATION_SOURCES = ("incidents.incident.organisation",)
EVERYONE = {"agent", "desk", "gone", "colleague", "stranger"}


def found(client, reader, source, q) -> list[int]:
    client.force_login(reader)
    response = client.get(PEOPLE, {"source": source, "q": q})
    assert response.status_code == 200
    return [row["id"] for row in response.json()["results"]]


def test_every_registered_people_source_is_pinned_here():
    assert set(people.SOURCES) == {*ASSIGNEE_SOURCES, *NAMEABLE_SOURCES, *ORGANISATION_SOURCES}


@pytest.mark.parametrize("source", ASSIGNEE_SOURCES)
def test_an_assignee_source_finds_the_active_holders_of_its_permission_only(client, agent, robins, source):
    assert found(client, agent, source, "robin") == [robins["agent"].pk]
    assert found(client, agent, source, "ragent") == [robins["agent"].pk]  # agents find agents by username


@pytest.mark.parametrize("source", ASSIGNEE_SOURCES)
def test_a_customer_asking_an_assignee_source_gets_nobody(client, customer, robins, source):
    assert found(client, customer, source, "robin") == []


@pytest.mark.parametrize("source", NAMEABLE_SOURCES)
def test_a_nameable_source_offers_the_desk_every_active_person(client, manager, robins, source):
    ids = found(client, manager, source, "robin")
    assert set(ids) == {robins[name].pk for name in EVERYONE - {"gone"}}
    assert found(client, manager, source, "rstranger") == [robins["stranger"].pk]


@pytest.mark.parametrize(
    "source", ["incidents.incident.requester", "incidents.incident.requested_for", "catalog.request.requested_for"]
)
def test_a_customer_names_only_people_of_its_own_organisation_by_name(client, customer, robins, source):
    assert found(client, customer, source, "robin") == [robins["colleague"].pk]
    assert found(client, customer, source, "robin stranger") == []
    assert found(client, customer, source, "rcolleague") == []  # by name, not by username


def test_a_customer_may_not_pick_approvers_whose_field_it_may_not_read(client, customer, robins):
    assert found(client, customer, "catalog.approvallevel.users", "robin") == []


def test_the_organisation_source_finds_organisations_by_name_for_the_desk_only(
    client, agent, customer, organisation
):
    globex = Organisation.objects.create(name="Globex Corporation")
    Organisation.objects.create(name="Initech")
    assert found(client, agent, "incidents.incident.organisation", "globex") == [globex.pk]
    assert found(client, customer, "incidents.incident.organisation", "globex") == []
