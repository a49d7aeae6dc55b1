"""Enrichment on creation and on edit (SPEC §5): a hand-raised incident gets sensible defaults,
priority follows the impact × urgency matrix, and the matrix is data administrators edit."""

import pytest

from incidents import enrichment, services
from incidents.models import Incident, PriorityMatrix, Source

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"

# The default matrix, written out (impact rows 1 high … 3 low; urgency columns 1 high … 3 low).
DEFAULT_MATRIX = {
    (1, 1): "P1", (1, 2): "P2", (1, 3): "P3",
    (2, 1): "P2", (2, 2): "P3", (2, 3): "P4",
    (3, 1): "P3", (3, 2): "P4", (3, 3): "P4",
}  # fmt: skip


def test_the_default_matrix_written_out_is_what_priority_for_answers():
    assert {cell: enrichment.priority_for(*cell) for cell in DEFAULT_MATRIX} == DEFAULT_MATRIX


def test_the_migrations_install_the_default_matrix_as_editable_rows():
    rows = {(r.impact, r.urgency): r.priority for r in PriorityMatrix.objects.all()}
    assert rows == DEFAULT_MATRIX


def test_without_matrix_rows_priority_for_falls_back_to_the_default_matrix():
    PriorityMatrix.objects.all().delete()
    assert {cell: enrichment.priority_for(*cell) for cell in DEFAULT_MATRIX} == DEFAULT_MATRIX


def test_a_manually_raised_incident_gets_general_category_low_impact_and_urgency_and_p4(customer, api):
    r = api.as_user(customer).post(URL, {"short_description": "Screen flickers"}, format="json")
    assert r.status_code == 201, r.content
    incident = Incident.objects.get(pk=r.json()["id"])
    assert (incident.source, incident.category, incident.subcategory) == (Source.MANUAL, "General", "")
    assert (incident.impact, incident.urgency, incident.priority) == (3, 3, "P4")
    assert (incident.requester, incident.organisation) == (customer, customer.organisation)


def test_an_agent_raising_an_incident_with_impact_and_urgency_gets_the_matrix_priority(agent, api):
    r = api.as_user(agent).post(
        URL, {"short_description": "Core switch down", "impact": 1, "urgency": 2}, format="json"
    )
    assert r.status_code == 201, r.content
    assert r.json()["priority"] == "P2"


@pytest.mark.parametrize(("cell", "priority"), list(DEFAULT_MATRIX.items()))
def test_an_agent_changing_impact_and_urgency_rederives_priority_from_the_matrix(
    cell, priority, customer, agent, api
):
    incident = services.incident_create(actor=customer, data={"short_description": "Slow VPN"})
    impact, urgency = cell
    r = api.as_user(agent).patch(
        f"{URL}{incident.pk}/", {"impact": impact, "urgency": urgency}, format="json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["priority"] == priority
    incident.refresh_from_db()
    assert incident.priority == priority


def test_changing_only_urgency_rederives_priority_with_the_current_impact(customer, agent, api):
    incident = services.incident_create(actor=customer, data={"short_description": "Slow VPN"})
    client = api.as_user(agent)
    assert client.patch(f"{URL}{incident.pk}/", {"impact": 1}, format="json").json()["priority"] == "P3"
    assert client.patch(f"{URL}{incident.pk}/", {"urgency": 1}, format="json").json()["priority"] == "P1"


def test_a_priority_set_in_the_same_edit_wins_over_the_matrix(customer, agent, api):
    incident = services.incident_create(actor=customer, data={"short_description": "Slow VPN"})
    r = api.as_user(agent).patch(
        f"{URL}{incident.pk}/", {"impact": 1, "urgency": 1, "priority": "P3"}, format="json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["priority"] == "P3"


def test_editing_a_matrix_row_changes_the_derived_priority(customer, agent, api):
    PriorityMatrix.objects.filter(impact=2, urgency=2).update(priority="P1")
    assert enrichment.priority_for(2, 2) == "P1"
    incident = services.incident_create(actor=customer, data={"short_description": "Slow VPN"})
    r = api.as_user(agent).patch(f"{URL}{incident.pk}/", {"impact": 2, "urgency": 2}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["priority"] == "P1"


def test_the_default_matrix_row_for_low_low_governs_new_incidents(customer):
    PriorityMatrix.objects.filter(impact=3, urgency=3).update(priority="P3")
    incident = services.incident_create(actor=customer, data={"short_description": "Slow VPN"})
    assert incident.priority == "P3"


def test_the_priority_matrix_is_administrator_editable_in_admin(manager, agent, client):
    row = PriorityMatrix.objects.get(impact=1, urgency=1)
    url = f"/admin/incidents/prioritymatrix/{row.pk}/change/"
    client.force_login(manager)
    r = client.post(url, {"impact": 1, "urgency": 1, "priority": "P2"})
    assert r.status_code == 302, r.content[:2000]
    row.refresh_from_db()
    assert row.priority == "P2"
    client.force_login(agent)
    r = client.post(url, {"impact": 1, "urgency": 1, "priority": "P4"})
    assert r.status_code in (302, 403)
    row.refresh_from_db()
    assert row.priority == "P2"


@pytest.mark.parametrize(
    ("source", "category", "subcategory"),
    [
        (Source.MANUAL, "General", ""),
        (Source.ALERT, "Monitoring", "Metric alert"),
        (Source.EVENT, "Monitoring", "Event"),
        (Source.STORM, "Monitoring", "Cross-host storm"),
    ],
)
def test_category_and_subcategory_follow_the_source(source, category, subcategory, agent):
    incident = services.incident_create(actor=agent, data={"short_description": "x"}, source=source)
    assert (incident.category, incident.subcategory) == (category, subcategory)


@pytest.mark.parametrize(
    ("severity", "hosts", "tiers", "impact", "urgency"),
    [
        ("critical", 0, (), 1, 1),
        ("major", 0, (), 2, 2),
        ("minor", 0, (), 3, 3),
        ("minor", 3, (), 2, 3),
        ("minor", 10, (), 1, 3),
        ("major", 0, ("critical",), 1, 2),
        ("minor", 0, ("high",), 2, 3),
        ("major", 0, ("high",), 2, 2),
    ],
)
def test_impact_and_urgency_follow_severity_hosts_and_service_tier(severity, hosts, tiers, impact, urgency):
    assert enrichment.impact_for(severity, host_count=hosts, tiers=tiers) == impact
    assert enrichment.urgency_for(severity) == urgency
