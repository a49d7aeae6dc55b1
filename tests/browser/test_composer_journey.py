"""Replying from the overview in a real browser (issue #17 items 11 and 12): the agent answers the
customer from the incident's overview without changing tab, the customer reads the reply on the
portal, comments after the incident is resolved, and the agent finds it under "Customer replied"
in the queue. Screenshots go to /tmp/composer/ (or $COMPOSER_SHOTS)."""

import os
import re
from pathlib import Path

import pytest

from conftest import make_user
from incidents import services, workflows
from incidents.models import Incident
from itsm.models import Organisation
from itsm.roles import PERSONAS, Persona
from tests.browser.support import settled, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("COMPOSER_SHOTS", "/tmp/composer"))


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_agent_replies_from_the_overview_and_sees_the_customers_reply_on_the_resolved_incident(page):
    org = Organisation.objects.create(name="Acme")
    casey = make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    alex = make_user("alex", *PERSONAS[Persona.L2_AGENT])
    incident = services.incident_create(
        actor=casey, data={"short_description": "VPN drops every ten minutes"}
    )
    incident = services.incident_assign(incident=incident, actor=alex, assignee=alex)
    page.set_viewport_size({"width": 1366, "height": 900})

    # The agent answers from the overview: the internal note is chosen until they pick the reply.
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto(f"/desk/incidents/{incident.pk}/")
    assert page.is_checked("#composer input[name=kind][value=work_note]")
    page.check("#composer input[name=kind][value=comment]")
    page.fill("#composer textarea[name=body]", "Please update the VPN client to 5.2 and tell us.")
    shot(page, "overview-composer")
    page.click("#composer button[type=submit]")
    page.wait_for_url(re.compile(rf".*/desk/incidents/{incident.pk}/(#conversation)?$"))
    reply = page.locator("#conversation .desk-note-public")
    assert "Please update the VPN client" in reply.inner_text()
    assert "the customer sees this" in reply.inner_text()
    # And an internal note, from the same box, stays internal.
    page.fill("#composer textarea[name=body]", "Known issue with client 5.1 on Wi-Fi.")
    page.click("#composer button[type=submit]")
    page.wait_for_url(re.compile(rf".*/desk/incidents/{incident.pk}/(#conversation)?$"))
    assert "Known issue" in page.locator("#conversation .desk-note-internal").inner_text()

    settled(page)
    workflows.incident_resolve(
        incident=Incident.objects.get(pk=incident.pk), actor=alex, resolution_code="resolved",
        resolution_notes="Client rollout 5.2 fixed the tunnel.", resolution_message="Updating to 5.2 fixes it.",
    )  # fmt: skip

    # The customer reads the reply and the resolution message, never the internal note, and
    # answers that it is not fixed.
    sign_in(page, "casey")
    page.wait_for_url("**/portal/")
    page.goto(f"/portal/incidents/{incident.pk}/")
    content = page.content()
    assert "Please update the VPN client to 5.2" in content
    assert "Updating to 5.2 fixes it." in content
    assert "Known issue" not in content and "Client rollout" not in content
    page.fill("form.comment-form textarea[name=body]", "Still dropping after the update.")
    page.click("form.comment-form button[type=submit]")
    page.wait_for_url(re.compile(rf".*/portal/incidents/{incident.pk}/(#conversation)?$"))
    assert "The service desk has been told" in page.content()
    shot(page, "portal-after-reply")

    # The agent finds it under "Customer replied" in the queue, with its badge.
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto("/desk/incidents/")
    page.check("input[name=customer_replied]")
    page.click("form.desk-filters button[type=submit]")
    page.wait_for_url("**customer_replied=on**")
    row = page.locator("table.data-table tbody tr")
    assert row.count() == 1
    assert incident.number in row.inner_text() and "Customer replied" in row.inner_text()
    shot(page, "queue-customer-replied")
    page.click(f"text={incident.number}")
    assert "Still dropping after the update." in page.locator("#conversation").inner_text()
    assert page.locator(".desk-badges .customer-replied").count() == 1
