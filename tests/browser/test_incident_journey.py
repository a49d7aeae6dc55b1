"""The whole incident journey in a real browser: portal → desk → portal."""

import re

import pytest

from conftest import make_user
from incidents.models import CsatResponse, Incident
from itsm.models import AssignmentGroup, GroupMembership, Organisation
from itsm.roles import PERSONAS, Persona
from tests.browser.support import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_customer_raises_agent_resolves_customer_rates(page):
    org = Organisation.objects.create(name="Acme")
    make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    agent = make_user("alex", *PERSONAS[Persona.L2_AGENT])
    group = AssignmentGroup.objects.create(name="Service Desk")
    GroupMembership.objects.create(group=group, user=agent)

    # The customer raises an incident in the portal.
    sign_in(page, "casey")
    page.wait_for_url("**/portal/")
    page.goto("/portal/incidents/new/")
    page.fill("input[name=short_description]", "VPN drops every ten minutes")
    page.fill("textarea[name=description]", "Since this morning, on the office Wi-Fi.")
    page.click("text=Raise the incident")
    page.wait_for_url(re.compile(r".*/portal/incidents/\d+/$"))
    assert "We have received your incident INC0000001" in page.content()
    incident = Incident.objects.get()

    # The agent assigns it to themself and resolves it in the desk.
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto("/desk/incidents/")
    page.click("text=INC0000001")
    page.wait_for_url(f"**/desk/incidents/{incident.pk}/")
    page.click("#action-assign summary")
    page.select_option("#action-assign select[name$=assignment_group]", label="Service Desk")
    page.fill("#action-assign input[name$=assignee]", "alex")
    page.click("#action-assign button[type=submit]")
    page.wait_for_load_state()
    assert "alex" in page.inner_text("main")
    page.click("#action-resolve summary")
    page.select_option("#action-resolve select[name$=resolution_code]", value="workaround")
    page.fill("#action-resolve textarea[name$=resolution_notes]", "Pinned the client to the 5 GHz band.")
    page.click("#action-resolve button[type=submit]")
    page.wait_for_load_state()
    incident.refresh_from_db()
    assert incident.state == "resolved"
    assert incident.assignee == agent

    # The customer sees it resolved — without the agent's resolution notes — and rates it.
    sign_in(page, "casey")
    page.wait_for_url("**/portal/")
    page.goto(f"/portal/incidents/{incident.pk}/")
    body = page.inner_text("main")
    assert "Resolved" in body
    assert "5 GHz band" not in page.content()
    page.check("input[name=rating][value='5']")
    page.click("text=Send my rating")
    page.wait_for_load_state()
    assert CsatResponse.objects.get(incident=incident).rating == 5
    assert "you rated this incident 5 out of 5" in page.inner_text("main")
    page.screenshot(path="test-artifacts/journey-rated.png", full_page=True)
