"""People pickers (itsm.people): the typed person field resolves what was typed to exactly one
person its source allows, or says why not on the field; the suggestions endpoint offers only
people the same source allows the reader, labelled as the reader reads people; the queue's
assignee filter is the same field."""

import re
from html import unescape

import pytest
from django import forms
from django.urls import reverse

from conftest import make_user
from incidents import services
from itsm import people
from itsm.forms import AssignForm
from itsm.roles import PERSONAS, Persona, Role, effective_roles
from tests.catalog.factories import make_request
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

PEOPLE = reverse("people")
ASSIGNEES = "incidents.incident.assignee"


def named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()
    return user


@pytest.fixture
def alex(db):
    return named(make_user("asmith", *PERSONAS[Persona.L2_AGENT]), "Alex", "Smith")


@pytest.fixture
def alexa(db):
    return named(make_user("ajones", *PERSONAS[Persona.L1_AGENT]), "Alexa", "Jones")


class PickForm(forms.Form):
    def __init__(self, data=None, *, user, source=ASSIGNEES, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["assignee"] = people.PersonField(
            source=source, user=user, required=False, label="Assignee"
        )


def picked(user, text, pk="", source=ASSIGNEES):
    form = PickForm({"assignee": text, "assignee_pk": pk}, user=user, source=source)
    return form


# --- The field ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["asmith", "ASMITH", "asmith@example.com", "Alex Smith", "alex smith", "Alex Smith (asmith)"]
)
def test_person_field_resolves_a_username_an_email_a_full_name_or_a_suggestion_label(
    agent, alex, alexa, typed
):
    form = picked(agent, typed)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["assignee"] == alex


def test_person_field_takes_a_unique_partial_name(agent, alex, alexa):
    form = picked(agent, "jones")
    assert form.is_valid()
    assert form.cleaned_data["assignee"] == alexa


def test_person_field_says_several_match_and_to_type_more(agent, alex, alexa):
    form = picked(agent, "al")
    assert not form.is_valid()
    assert form.errors["assignee"] == ["Several people match “al”: type more of the name, or the username."]


def test_an_exact_username_wins_over_partial_matches(agent, alex, alexa):
    al = make_user("al", *PERSONAS[Persona.L1_AGENT])
    form = picked(agent, "al")
    assert form.is_valid()
    assert form.cleaned_data["assignee"] == al


def test_person_field_refuses_someone_its_source_does_not_allow_naming_the_field(agent, customer, alex):
    incident = make_incident(requester=customer)
    form = AssignForm({"assignee": "customer", "assignment_group": ""}, user=agent, record=incident)
    assert not form.is_valid()
    assert form.errors["assignee"] == ["No one called “customer” may be assigned here."]
    assert list(form.errors) == ["assignee"]


def test_person_field_refuses_an_unknown_person(agent):
    form = picked(agent, "nobody-at-all")
    assert not form.is_valid()
    assert form.errors["assignee"] == ["No one called “nobody-at-all” may be chosen here."]


def test_empty_means_nobody_when_the_field_is_optional(agent):
    form = picked(agent, "")
    assert form.is_valid()
    assert form.cleaned_data["assignee"] is None


def test_the_id_a_script_filled_in_counts_only_while_the_text_still_reads_as_that_person(agent, alex, alexa):
    form = picked(agent, "Alex Smith (asmith)", pk=str(alex.pk))
    assert form.is_valid() and form.cleaned_data["assignee"] == alex
    typed_over = picked(agent, "ajones", pk=str(alex.pk))
    assert typed_over.is_valid() and typed_over.cleaned_data["assignee"] == alexa


def test_an_id_of_someone_the_source_refuses_is_refused(agent, customer):
    form = picked(agent, str(customer.pk), pk=str(customer.pk))
    assert not form.is_valid()
    assert "assignee" in form.errors


def test_resolving_what_was_typed_is_one_query(agent, alex, alexa, django_assert_num_queries):
    form = picked(agent, "Alex Smith")
    effective_roles(agent)  # read once per request, before any form
    with django_assert_num_queries(1):
        assert form.is_valid()


def test_the_field_renders_only_its_current_person_without_any_query(
    agent, alex, alexa, customer, django_assert_num_queries
):
    for i in range(5):
        make_user(f"extra{i}", *PERSONAS[Persona.L1_AGENT])
    form = PickForm(user=agent, initial={"assignee": alex})
    effective_roles(agent)  # read once per request, before any form
    with django_assert_num_queries(0):
        html = str(form["assignee"])
    assert 'value="Alex Smith (asmith)"' in html
    assert f'name="assignee_pk" value="{alex.pk}"' in html
    assert "<option" not in html and "ajones" not in html and "extra1" not in html
    assert 'data-people-source="incidents.incident.assignee"' in html


# --- The suggestions endpoint --------------------------------------------------------------------


def suggestions(client, source, q):
    response = client.get(PEOPLE, {"source": source, "q": q})
    assert response.status_code == 200
    return response.json()["results"]


def test_agents_get_assignee_suggestions_as_full_name_and_username(client, agent, alex, alexa):
    client.force_login(agent)
    assert suggestions(client, ASSIGNEES, "alex") == [
        {"id": alex.pk, "label": "Alex Smith (asmith)"},
        {"id": alexa.pk, "label": "Alexa Jones (ajones)"},
    ]
    assert suggestions(client, ASSIGNEES, "smi") == [{"id": alex.pk, "label": "Alex Smith (asmith)"}]


def test_assignee_suggestions_never_offer_someone_the_source_refuses(client, agent, customer, alex):
    named(customer, "Alex", "Customer")
    client.force_login(agent)
    found = suggestions(client, ASSIGNEES, "alex")
    assert [row["id"] for row in found] == [alex.pk]
    # Desk access is not enough: incidents go to holders of incidents.manage.
    desk_only = named(make_user("deskx", Role.PLATFORM_AGENT), "Alex", "Desk")
    assert desk_only.pk not in [row["id"] for row in suggestions(client, ASSIGNEES, "alex")]
    assert desk_only.pk not in [row["id"] for row in suggestions(client, "problems.problem.assignee", "alex")]
    assert desk_only.pk in [row["id"] for row in suggestions(client, "incidents.incident.requester", "alex")]


def test_a_customer_asking_for_assignees_gets_nobody(client, customer, customer2, alex):
    client.force_login(customer)
    assert suggestions(client, ASSIGNEES, "alex") == []
    assert suggestions(client, "incidents.incidenttask.assignee", "a") == []


def test_a_customers_requested_for_suggestions_are_its_organisation_by_name_only(
    client, customer, customer2, organisation, alex
):
    named(customer2, "Sam", "Jones")
    stranger = named(make_user("sjones2", *PERSONAS[Persona.EVERYONE]), "Sam", "Jones")
    client.force_login(customer)
    found = suggestions(client, "incidents.incident.requested_for", "sam")
    assert found == [{"id": customer2.pk, "label": "Sam Jones"}]
    assert stranger.pk not in [row["id"] for row in found]
    # Names only: a customer cannot find colleagues (or agents) by username or e-mail address.
    assert suggestions(client, "incidents.incident.requested_for", "customer2") == []
    assert suggestions(client, "catalog.request.requested_for", "asmith") == []


def test_suggestions_are_at_most_twenty_in_a_fixed_number_of_queries(
    client, agent, django_assert_max_num_queries
):
    for i in range(25):
        named(make_user(f"pat{i}", *PERSONAS[Persona.L1_AGENT]), "Pat", f"Number{i:02}")
    client.force_login(agent)
    client.get(PEOPLE, {"source": ASSIGNEES, "q": "pat"})
    # Session, user with its roles, then one query for the people.
    with django_assert_max_num_queries(3):
        found = suggestions(client, ASSIGNEES, "pat")
    assert len(found) == 20


def test_an_unknown_source_is_a_404_and_signing_in_is_required(client, agent):
    assert client.get(PEOPLE, {"source": ASSIGNEES, "q": "a"}).status_code == 302
    client.force_login(agent)
    assert client.get(PEOPLE, {"source": "itsm.user.password", "q": "a"}).status_code == 404


def test_nothing_typed_suggests_nobody(client, agent, alex):
    client.force_login(agent)
    assert suggestions(client, ASSIGNEES, "  ") == []


# --- Pages -----------------------------------------------------------------------------------------


def html_of(response) -> str:
    return unescape(response.content.decode())


def test_the_incident_page_lists_no_agents_and_its_assign_form_takes_a_typed_name(
    client, agent, customer, alex, alexa
):
    incident = make_incident(requester=customer)
    client.force_login(agent)
    page = html_of(client.get(reverse("desk:incident-detail", args=[incident.pk]), {"open": "assign"}))
    assert "ajones" not in page and "Alexa Jones" not in page
    assert 'data-people-source="incidents.incident.assignee"' in page
    response = client.post(
        reverse("desk:incident-action", args=[incident.pk, "assign"]),
        {"assign-assignee": "Alexa Jones (ajones)", "assign-assignment_group": ""},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.assignee == alexa


def test_the_incident_assign_form_refuses_a_customer_as_a_400_naming_the_field(client, agent, customer):
    incident = make_incident(requester=customer)
    client.force_login(agent)
    response = client.post(
        reverse("desk:incident-action", args=[incident.pk, "assign"]),
        {"assign-assignee": "customer", "assign-assignment_group": ""},
    )
    assert response.status_code == 400
    assert "No one called “customer” may be assigned here." in html_of(response)
    incident.refresh_from_db()
    assert incident.assignee is None


def test_the_queue_assignee_filter_still_takes_an_id_and_shows_the_name(client, agent, customer, alex):
    mine = make_incident(requester=customer, short_description="For Alex")
    other = make_incident(requester=customer, short_description="For nobody")
    services.incident_assign(incident=mine, actor=agent, assignee=alex)
    client.force_login(agent)
    response = client.get(reverse("desk:incident-list"), {"assignee": alex.pk})
    assert response.status_code == 200
    assert [row.pk for row in response.context["page"].object_list] == [mine.pk]
    assert other.pk not in [row.pk for row in response.context["page"].object_list]
    assert re.search(r'name="assignee" value="Alex Smith \(asmith\)"', html_of(response))
    by_name = client.get(reverse("desk:incident-list"), {"assignee": "alex smith"})
    assert [row.pk for row in by_name.context["page"].object_list] == [mine.pk]


def test_the_queue_assignee_filter_refuses_a_customer_naming_the_filter(client, agent, customer):
    make_incident(requester=customer)
    client.force_login(agent)
    response = client.get(reverse("desk:incident-list"), {"assignee": "customer"})
    assert response.status_code == 400
    assert "Assignee: No one called “customer” may be assigned this work." in html_of(response)


def test_the_request_queue_lists_no_agents(client, agent, customer, alex, alexa):
    make_request(requester=customer)
    client.force_login(agent)
    html = html_of(client.get(reverse("desk:request-list")))
    assert "<option" not in html.split('name="assignee"')[1].split("</div>")[0]
    assert "ajones" not in html


def test_the_incident_edit_form_takes_an_organisation_typed_by_name_never_a_list(
    client, agent, customer, organisation
):
    from itsm.models import Organisation

    globex = Organisation.objects.create(name="Globex Corporation")
    Organisation.objects.create(name="Globe Trotters")
    incident = make_incident(requester=customer)
    client.force_login(agent)
    page = client.get(reverse("desk:incident-detail", args=[incident.pk]), {"open": "edit"})
    field = str(page.context["edit_form"]["organisation"])
    assert 'value="Acme"' in field and "<option" not in field and "Globex" not in field
    incident = make_incident(requester=agent)  # no organisation: its requester may move with it
    assert suggestions(client, "incidents.incident.organisation", "glob") == [
        {"id": Organisation.objects.get(name="Globe Trotters").pk, "label": "Globe Trotters"},
        {"id": globex.pk, "label": "Globex Corporation"},
    ]
    form = client.get(reverse("desk:incident-detail", args=[incident.pk]), {"open": "edit"}).context["edit_form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data["organisation"] = "glob"
    ambiguous = client.post(reverse("desk:incident-edit", args=[incident.pk]), data)
    assert ambiguous.status_code == 400
    assert ambiguous.context["edit_form"].errors["organisation"] == [
        "Several organisations match “glob”: type more of the name."
    ]
    data["organisation"] = "globex"
    saved = client.post(reverse("desk:incident-edit", args=[incident.pk]), data)
    assert saved.status_code == 302, saved.context["edit_form"].errors
    incident.refresh_from_db()
    assert incident.organisation == globex


def test_a_customer_is_offered_no_organisation(client, customer, organisation):
    # Organisations are the desk's to read (itsm.organisation: platform agents), not customers'.
    client.force_login(customer)
    assert suggestions(client, "incidents.incident.organisation", "acme") == []


def test_an_items_approvers_box_offers_type_ahead_of_user_names_to_catalog_managers(
    client, manager, customer, alex
):
    client.force_login(manager)
    html = html_of(client.get(reverse("desk:catalog-item-new")))
    assert 'data-people-source="catalog.approvallevel.users"' in html and "data-people-many" in html
    assert "asmith" not in html
    assert suggestions(client, "catalog.approvallevel.users", "smith") == [
        {"id": alex.pk, "label": "Alex Smith (asmith)"}
    ]
    client.force_login(customer)
    assert suggestions(client, "catalog.approvallevel.users", "smith") == []


def test_desk_pages_and_queues_cost_the_same_queries_for_3_or_40_agents_and_fewer_than_with_lists(
    client, agent, customer, django_assert_max_num_queries
):
    # Before the pickers: the incident's tasks tab 8 queries, the request queue 9, the incident
    # queue 8 (each listed every agent). Now no page reads the agents at all.
    incident = make_incident(requester=customer)
    make_request(requester=customer)
    client.force_login(agent)
    pages = {
        reverse("desk:incident-tasks", args=[incident.pk]): 6,
        # The queues: 8 each, and 2 for the saved views (the reader's views, the groups to share with),
        # less the roles, which come with the user.
        reverse("desk:request-list"): 9,
        reverse("desk:incident-list"): 9,
    }

    def counts() -> list[int]:
        found = []
        for path, bound in pages.items():
            client.get(path)
            with django_assert_max_num_queries(bound) as captured:
                assert client.get(path).status_code == 200
            found.append(len(captured))
        return found

    few = counts()
    for i in range(37):
        make_user(f"more{i}", *PERSONAS[Persona.L1_AGENT])
    assert counts() == few


def test_a_customer_naming_an_ambiguous_colleague_is_asked_for_the_full_name(
    client, customer, customer2, organisation
):
    named(customer2, "Sam", "Jones")
    named(make_user("sam2", *PERSONAS[Persona.EVERYONE], organisation=organisation), "Sam", "Green")
    client.force_login(customer)
    response = client.post(
        reverse("portal:incident-new"), {"short_description": "For Sam", "requested_for": "sam"}
    )
    assert response.status_code == 400
    assert "Several people in your organisation match “sam”: type their full name." in html_of(response)
    chosen = client.post(
        reverse("portal:incident-new"), {"short_description": "For Sam", "requested_for": "Sam Green"}
    )
    assert chosen.status_code == 302
