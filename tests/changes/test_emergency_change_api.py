"""``POST /api/v1/incidents/{id}/emergency-change/`` (issue 14 item 8): an agent with
incidents.manage raises an emergency change for an incident: created approved, linked both ways,
PIR required and due 72 hours later, journaled on both records and the CAB told. Others are
refused: 404 for an incident (or a change) the caller may not read, 403 without the permission."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from changes.models import Change
from conftest import make_user
from incidents.workflows import incident_resolve
from itsm.models import AuditEntry
from itsm.roles import Role
from notifications.models import Notification
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db


def url(incident) -> str:
    return f"/api/v1/incidents/{incident.pk}/emergency-change/"


def test_an_agent_raises_an_approved_emergency_change_linked_both_ways(api, agent, lead, customer):
    incident = make_incident(requester=customer, short_description="Core switch down")
    before = timezone.now()
    r = api.as_user(agent).post(
        url(incident), {"justification": "Service is down for everyone", "implementation_plan": "Swap the PSU"},
        format="json",
    )  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["change_type"] == "emergency" and body["state"] == "approved"
    assert body["source_type"] == "incident" and body["incident"] == incident.pk
    assert body["number"].startswith("CHG") and body["short_description"]
    assert body["pir_required"] is True
    change = Change.objects.get(pk=body["id"])
    assert before + timedelta(hours=72) <= change.pir_due_at <= timezone.now() + timedelta(hours=72)
    assert change.justification == "Service is down for everyone"
    assert incident.raised_changes.get() == change
    assert AuditEntry.objects.filter(object_id=str(change.pk), action="create").exists()
    assert AuditEntry.objects.filter(object_id=str(incident.pk)).exclude(action="create").exists()
    # The CAB (holders of changes.approve) hears of it.
    assert Notification.objects.filter(recipient=lead).exists()


def test_the_change_page_and_the_change_list_show_the_emergency_change(api, agent, customer):
    incident = make_incident(requester=customer)
    change_id = api.as_user(agent).post(url(incident), {}, format="json").json()["id"]
    detail = api.as_user(agent).get(f"/api/v1/changes/{change_id}/").json()
    assert detail["incident"] == incident.pk and detail["state"] == "approved"
    listed = api.as_user(agent).get("/api/v1/changes/", {"change_type": "emergency"}).json()["results"]
    assert [c["id"] for c in listed] == [change_id]


def test_bad_input_is_a_400_naming_the_field(api, agent, customer):
    incident = make_incident(requester=customer)
    start = (timezone.now() + timedelta(hours=1)).isoformat()
    r = api.as_user(agent).post(url(incident), {"planned_start": start, "planned_end": start}, format="json")
    assert r.status_code == 400 and "planned_end" in r.json(), r.content
    r = api.as_user(agent).post(url(incident), {"state": "closed"}, format="json")
    assert r.status_code == 400 and "state" in r.json(), r.content
    assert not Change.objects.exists()


def test_a_resolved_incident_gets_no_emergency_change(api, agent, customer):
    incident = make_incident(requester=customer)
    incident_resolve(incident=incident, actor=agent, resolution_code="resolved", resolution_notes="Rebooted.")
    r = api.as_user(agent).post(url(incident), {}, format="json")
    assert r.status_code == 400 and "incident" in r.json(), r.content
    assert not Change.objects.exists()


def test_a_platform_agent_without_itsm_roles_gets_404(api, customer):
    # platform_agent reads neither incidents nor changes (and holds no incidents.manage).
    platform_agent = make_user("pa", Role.PLATFORM_AGENT)
    incident = make_incident(requester=customer)
    assert api.as_user(platform_agent).post(url(incident), {}, format="json").status_code == 404
    assert not Change.objects.exists()


def test_a_customer_gets_404_even_on_its_own_incident(api, customer):
    incident = make_incident(requester=customer)
    assert api.as_user(customer).post(url(incident), {}, format="json").status_code == 404
    assert not Change.objects.exists()


def test_an_unknown_incident_is_404(api, agent):
    assert api.as_user(agent).post("/api/v1/incidents/987654/emergency-change/", {}, format="json").status_code == 404
    r = api.as_user(agent).post("/api/v1/incidents/99999999999999999999999/emergency-change/", {}, format="json")
    assert r.status_code == 404


def test_anonymous_requests_are_refused(api, customer):
    incident = make_incident(requester=customer)
    assert api.post(url(incident), {}, format="json").status_code == 403  # no credentials: refused


def test_only_post_is_answered(api, agent, customer):
    incident = make_incident(requester=customer)
    assert api.as_user(agent).get(url(incident)).status_code == 405
