"""Query parameters are parsed as the OpenAPI document says, or refused with a 400 naming them:
nothing is quietly replaced by a default (which answered a different list than was asked for)."""

import pytest

from tests.api.test_fuzz import DOCUMENT


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "", "²"])
def test_page_size_that_is_not_a_whole_number_of_at_least_one_is_refused(api, agent, value):
    response = api.as_user(agent).get("/api/v1/incidents/", {"page_size": value})
    if value == "":
        assert response.status_code == 200  # not given
    else:
        assert response.status_code == 400
        assert "page_size" in response.json()


@pytest.mark.django_db
def test_page_size_above_the_most_a_page_holds_gives_that_many(api, agent):
    for value in ("500", "9" * 5000):
        assert api.as_user(agent).get("/api/v1/incidents/", {"page_size": value}).status_code == 200


def test_schema_documents_page_size_as_a_whole_number_of_at_least_one():
    parameters = DOCUMENT["paths"]["/api/v1/incidents/"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/incidents/", "major_incident"),
        ("/api/v1/incidents/", "unassigned"),
        ("/api/v1/work/", "unassigned"),
        ("/api/v1/hosts/", "is_active"),
        ("/api/v1/notifications/", "unread"),
    ],
)
def test_boolean_filter_takes_only_true_false_one_or_zero(api, agent, path, name):
    api.as_user(agent)
    for value in ("true", "false", "1", "0", "True"):
        assert api.get(path, {name: value}).status_code == 200
    for value in ("maybe", "yes", "on", "2"):
        response = api.get(path, {name: value})
        assert response.status_code == 400
        assert name in response.json()


def test_schema_lets_an_event_have_no_id_as_ingestion_does():
    event_id = DOCUMENT["components"]["schemas"]["EventInputRequest"]["properties"]["event_id"]
    assert event_id.get("nullable") is True
    assert "minLength" not in event_id  # "" is accepted: no id
