"""Auto-match (``problems.selectors.match_for_incident`` and ``POST /api/v1/incidents/{id}/
match-known-errors/``) and the known-error list API: known errors proposed for an incident from
its hosts, their host groups, its category and its words, each with a score and a plain reason,
in a fixed number of queries."""

import pytest

from itsm.models import Host, HostGroup
from problems import selectors
from tests.incidents.factories import make_incident
from tests.problems.known_error_factories import make_known_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def db_group(db):
    return HostGroup.objects.create(name="databases")


@pytest.fixture
def db01(db_group):
    return Host.objects.create(hostname="db-01", host_group=db_group)


def incident_on(customer, agent, hosts=(), **data):
    incident = make_incident(requester=customer, by=agent, **data)
    incident.hosts.set(hosts)
    return incident


def test_a_known_error_on_the_same_host_is_proposed_with_that_reason(agent, customer, db01):
    ke = make_known_error(by=agent, short_description="Disk full", hosts=[db01])
    incident = incident_on(customer, agent, [db01], short_description="Something odd")
    [match] = selectors.match_for_incident(agent, incident)
    assert match.problem == ke
    assert "same host db-01" in match.reasons


def test_a_known_error_on_the_host_group_of_the_incidents_host_is_proposed(agent, customer, db01, db_group):
    db02 = Host.objects.create(hostname="db-02", host_group=db_group)
    ke = make_known_error(by=agent, short_description="Replication lag", host_groups=[db_group])
    incident = incident_on(customer, agent, [db02], short_description="Something odd")
    [match] = selectors.match_for_incident(agent, incident)
    assert match.problem == ke
    assert match.reasons == ["same host group databases"]


def test_words_of_the_incident_match_and_are_named(agent, customer):
    ke = make_known_error(by=agent, short_description="Printer jam", workaround="Open tray B")
    make_known_error(by=agent, short_description="VPN drops")
    incident = incident_on(customer, agent, short_description="The printer has a paper jam")
    [match] = selectors.match_for_incident(agent, incident)
    assert match.problem == ke
    assert match.reason == "words: printer, jam"


def test_same_category_counts(agent, customer):
    ke = make_known_error(by=agent, short_description="Mail queue stuck", category="email")
    make_known_error(by=agent, short_description="Other", category="network")
    incident = incident_on(customer, agent, short_description="Odd thing", category="email")
    [match] = selectors.match_for_incident(agent, incident)
    assert match.problem == ke
    assert match.reasons == ["same category"]


def test_more_evidence_scores_higher(agent, customer, db01):
    words_only = make_known_error(by=agent, short_description="Disk slow")
    host_and_words = make_known_error(
        by=agent, short_description="Disk slow", hosts=[db01], category="storage"
    )
    incident = incident_on(customer, agent, [db01], short_description="Disk slow", category="storage")
    matches = selectors.match_for_incident(agent, incident)
    assert [m.problem for m in matches] == [host_and_words, words_only]
    assert matches[0].score > matches[1].score
    assert 0 < matches[1].score <= matches[0].score <= 1
    assert matches[0].reasons == ["same host db-01", "same category", "words: disk, slow"]


def test_problems_that_are_not_known_errors_are_never_proposed(agent, customer, db01):
    make_known_error(by=agent, short_description="Disk slow", hosts=[db01], known=False)
    incident = incident_on(customer, agent, [db01], short_description="Disk slow")
    assert selectors.match_for_incident(agent, incident) == []


def test_at_most_limit_proposals(agent, customer):
    for i in range(7):
        make_known_error(by=agent, short_description=f"Printer jam {i}")
    incident = incident_on(customer, agent, short_description="printer")
    assert len(selectors.match_for_incident(agent, incident)) == 5
    assert len(selectors.match_for_incident(agent, incident, limit=2)) == 2


def test_matching_takes_a_fixed_number_of_queries_however_many_candidates(
    agent, customer, db01, db_group, django_assert_max_num_queries
):
    incident = incident_on(customer, agent, [db01], short_description="Disk slow printer", category="storage")
    for i in range(12):
        make_known_error(
            by=agent,
            short_description=f"Disk slow {i}",
            hosts=[db01],
            host_groups=[db_group],
            category="storage",
        )
    incident = type(incident).objects.get(pk=incident.pk)
    agent = type(agent).objects.get(pk=agent.pk)
    with django_assert_max_num_queries(5):
        matches = selectors.match_for_incident(agent, incident)
    assert len(matches) == 5


# --- the API -----------------------------------------------------------------------------------


def test_api_match_known_errors_returns_proposals_with_score_and_reason(api, agent, customer, db01):
    ke = make_known_error(by=agent, short_description="Disk full", workaround="Rotate logs", hosts=[db01])
    incident = incident_on(customer, agent, [db01], short_description="Odd")
    response = api.as_user(agent).post(f"/api/v1/incidents/{incident.pk}/match-known-errors/")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == ke.pk and row["number"] == ke.number and row["workaround"] == "Rotate logs"
    assert row["reason"] == "same host db-01" and row["score"] > 0


def test_api_match_for_an_incident_that_does_not_exist_is_404(api, agent):
    assert api.as_user(agent).post("/api/v1/incidents/999999/match-known-errors/").status_code == 404
    assert api.as_user(agent).post(f"/api/v1/incidents/{2**70}/match-known-errors/").status_code == 404


def test_api_match_is_404_for_self_service_users_even_on_their_own_incident(api, agent, customer):
    incident = incident_on(customer, agent, short_description="Printer jam")
    assert (
        api.as_user(customer).post(f"/api/v1/incidents/{incident.pk}/match-known-errors/").status_code == 404
    )


def test_api_known_errors_search_lists_rank_and_snippet(api, agent):
    ke = make_known_error(by=agent, short_description="Printer jam", symptoms="The printer <b> stalls")
    make_known_error(by=agent, short_description="VPN drops")
    make_known_error(by=agent, short_description="Printer off", known=False)
    body = api.as_user(agent).get("/api/v1/known-errors/", {"search": "printer"}).json()
    assert body["count"] == 1
    [row] = body["results"]
    assert set(row) == {"id", "number", "short_description", "workaround", "snippet", "rank"}
    assert row["id"] == ke.pk and row["rank"] > 0
    assert "<mark>" in row["snippet"] and "<b>" not in row["snippet"]


def test_api_known_errors_are_paginated(api, agent):
    for i in range(3):
        make_known_error(by=agent, short_description=f"Printer jam {i}")
    body = api.as_user(agent).get("/api/v1/known-errors/", {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]


def test_api_known_errors_are_not_there_for_self_service_users(api, agent, customer):
    make_known_error(by=agent, short_description="Printer jam")
    response = api.as_user(customer).get("/api/v1/known-errors/")
    assert response.status_code == 404, response.status_code  # as every problem URL (issue 13)


def test_api_known_errors_list_only(api, agent):
    assert api.as_user(agent).post("/api/v1/known-errors/", {}).status_code == 405
