"""Sorting (``itsm.ordering.total``): every list order is total, sorting the other way turns the
list upside down, and ties are broken where one composite index can serve the whole order."""

from datetime import UTC, datetime, timedelta

import pytest

from incidents.models import Incident
from itsm.models import Work
from itsm.ordering import total

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"


def test_a_work_field_breaks_ties_newest_first_then_by_id():
    assert total(Work, ["priority"]) == ["priority", "-opened_at", "-id"]
    assert total(Incident, ["state"]) == ["state", "-opened_at", "-id"]


def test_sorting_a_field_the_other_way_reverses_the_tiebreak_too():
    assert total(Incident, ["-priority"]) == ["-priority", "opened_at", "id"]
    assert total(Incident, ["updated_at"]) == ["updated_at", "-opened_at", "-id"]
    assert total(Incident, ["-updated_at"]) == ["-updated_at", "opened_at", "id"]


def test_newest_first_is_the_natural_direction_of_opened_at():
    assert total(Incident, ["-opened_at"]) == ["-opened_at", "-id"]
    assert total(Incident, ["opened_at"]) == ["opened_at", "id"]


def test_an_incident_column_breaks_ties_on_the_incidents_own_key():
    # impact is on the incident table: its index (impact, -work_ptr) serves both directions.
    assert total(Incident, ["impact"]) == ["impact", "-pk"]
    assert total(Incident, ["-urgency"]) == ["-urgency", "pk"]


def test_an_ordering_that_names_the_key_is_left_as_it_is():
    assert total(Incident, ["priority", "-id"]) == ["priority", "-id"]
    assert total(Incident, []) == []


@pytest.fixture
def tied(customer):
    """Nine incidents, three per priority, with shuffled opening times."""
    base = datetime(2024, 5, 1, 9, tzinfo=UTC)
    rows = []
    for n in range(9):
        incident = Incident.objects.create(
            number=f"INC{n:07d}", kind=Incident.KIND, state="new", short_description=f"Disk {n}",
            priority=("P1", "P2", "P3")[n % 3], impact=1 + n % 3, requester=customer,
        )  # fmt: skip
        Incident.objects.filter(pk=incident.pk).update(opened_at=base + timedelta(minutes=(n * 5) % 9))
        rows.append(incident)
    return rows


def _ids(client, ordering):
    return [row["id"] for row in client.get(URL, {"ordering": ordering, "page_size": 50}).json()["results"]]


@pytest.mark.parametrize("field", ["priority", "state", "impact", "updated_at", "number"])
def test_the_api_list_sorted_descending_is_the_ascending_list_reversed(tied, agent, api, field):
    client = api.as_user(agent)
    ascending = _ids(client, field)
    assert len(ascending) == 9
    assert _ids(client, f"-{field}") == ascending[::-1]


def test_the_desk_sorts_as_the_api_does(tied, agent, api, client):
    client.force_login(agent)
    html = client.get("/desk/incidents/", {"sort": "-priority"}).content.decode()
    by_api = _ids(api.as_user(agent), "-priority")
    numbers = [Incident.objects.get(pk=pk).number for pk in by_api]
    assert len(numbers) == 9
    assert [html.index(number) for number in numbers] == sorted(html.index(number) for number in numbers)
