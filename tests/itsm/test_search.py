"""The header's search box (issue 17, item 9): a whole record number opens the record, words
search the reader's readable work with the API's policy-aware search, grouped by kind."""

import pytest

from tests.incidents.factories import make_incident
from tests.problems.factories import make_problem

pytestmark = pytest.mark.django_db


def test_every_page_has_the_search_box_for_its_door(client, agent, customer):
    client.force_login(agent)
    assert 'action="/desk/search/"' in client.get("/desk/").content.decode()
    client.force_login(customer)
    assert 'action="/portal/search/"' in client.get("/portal/").content.decode()


def test_a_whole_record_number_opens_the_record_on_the_desk(client, agent, customer):
    incident = make_incident(requester=customer)
    client.force_login(agent)
    response = client.get("/desk/search/", {"q": incident.number.lower()})
    assert response.status_code == 302
    assert response["Location"] == f"/desk/incidents/{incident.pk}/"


def test_words_find_readable_work_grouped_by_kind(client, agent, customer):
    incident = make_incident(requester=customer, short_description="Quokka printer jams")
    problem = make_problem(by=agent, short_description="Quokka printers keep jamming")
    make_incident(requester=customer, short_description="Laptop will not boot")
    client.force_login(agent)
    html = client.get("/desk/search/", {"q": "quokka"}).content.decode()
    assert f'href="/desk/incidents/{incident.pk}/">{incident.number}</a>' in html
    assert f'href="/desk/problems/{problem.pk}/">{problem.number}</a>' in html
    assert "Laptop will not boot" not in html
    assert 'id="found-incident"' in html and 'id="found-problem"' in html


def test_a_customer_finds_only_its_own_incidents_and_never_by_a_hidden_field(client, customer, customer2, agent):
    mine = make_incident(requester=customer, short_description="Quokka screen flickers")
    theirs = make_incident(requester=customer2, short_description="Quokka keyboard sticks")
    client.force_login(customer)
    html = client.get("/portal/search/", {"q": "quokka"}).content.decode()
    assert f'href="/portal/incidents/{mine.pk}/">{mine.number}</a>' in html
    assert theirs.number not in html
    # Another customer's number is "nothing found", never their page.
    response = client.get("/portal/search/", {"q": theirs.number})
    assert response.status_code == 200 and "Nothing you may read matches" in response.content.decode()
    assert client.get("/portal/search/", {"q": mine.number})["Location"] == f"/portal/incidents/{mine.pk}/"
    # Resolution notes are hidden from customers: a word only there finds nothing.
    from incidents import workflows

    workflows.incident_start(incident=mine, actor=agent)
    workflows.incident_resolve(incident=mine, actor=agent, resolution_code="resolved", resolution_notes="Zebracable swap")
    assert "Nothing you may read matches" in client.get("/portal/search/", {"q": "zebracable"}).content.decode()


def test_record_pages_answer_by_number(client, agent, customer, customer2):
    incident = make_incident(requester=customer)
    problem = make_problem(by=agent)
    client.force_login(agent)
    assert client.get(f"/desk/incidents/{incident.number}/")["Location"] == f"/desk/incidents/{incident.pk}/"
    assert client.get(f"/desk/problems/{problem.number.lower()}/")["Location"] == f"/desk/problems/{problem.pk}/"
    assert client.get("/desk/incidents/INC9999999/").status_code == 404
    client.force_login(customer)
    assert client.get(f"/portal/incidents/{incident.number}/")["Location"] == f"/portal/incidents/{incident.pk}/"
    client.force_login(customer2)
    assert client.get(f"/portal/incidents/{incident.number}/").status_code == 404


def test_search_costs_the_same_queries_whatever_the_number_of_matches(
    client, agent, customer, django_assert_max_num_queries
):
    from tests.incidents.factories import make_incidents

    make_incidents(2, requester=customer, short_description="Quokka")
    client.force_login(agent)
    client.get("/desk/search/", {"q": "quokka"})
    with django_assert_max_num_queries(20) as few:
        client.get("/desk/search/", {"q": "quokka"})
    make_incidents(15, requester=customer, short_description="Quokka")
    with django_assert_max_num_queries(20) as many:
        client.get("/desk/search/", {"q": "quokka"})
    assert len(few) == len(many)
