"""The people picker and "Take" in a real browser: an agent types part of a colleague's name in
the incident page's Assign form, the page suggests the agents who match (and nobody else), the
agent picks one and assigns; then takes another incident from the queue with one click.

Screenshots of each step go to ``test-artifacts/`` (or ``$SHOTS_DIR``)."""

import os
from pathlib import Path

import pytest

from conftest import make_user
from incidents.models import Incident
from itsm.models import Organisation
from itsm.roles import PERSONAS, Persona
from tests.browser.conftest import ARTIFACTS
from tests.browser.support import sign_in
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("SHOTS_DIR") or ARTIFACTS)


def person(username, first, last, persona, **fields):
    user = make_user(username, *PERSONAS[persona], **fields)
    user.first_name, user.last_name = first, last
    user.save()
    return user


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"people-picker-{name}.png"), full_page=True)


def test_agent_assigns_by_typing_a_name_and_takes_work_from_the_queue(page):
    org = Organisation.objects.create(name="Acme")
    customer = person("casey", "Sam", "Customer", Persona.EVERYONE, organisation=org)
    person("alex", "Alex", "Agent", Persona.L2_AGENT)
    sam = person("sjones", "Sam", "Jones", Persona.L1_AGENT)
    printer = make_incident(requester=customer, short_description="Printer on fire")
    vpn = make_incident(requester=customer, short_description="VPN drops")

    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto(f"/desk/incidents/{printer.pk}/")
    page.click("#action-assign summary")
    box = page.locator("#id_assign-assignee")
    box.press_sequentially("sam", delay=30)
    # The suggestions list fills from the people endpoint: the agent Sam, never the customer Sam.
    suggestions = page.locator("datalist[id='id_assign-assignee_people'] option")
    suggestions.first.wait_for(state="attached")
    options = [suggestions.nth(i).get_attribute("value") for i in range(suggestions.count())]
    assert options == ["Sam Jones (sjones)"]
    shot(page, "suggestions")
    box.fill(options[0])  # what choosing the suggestion does
    assert page.input_value("input[name='assign-assignee_pk']") == str(sam.pk)
    page.click("#action-assign button[type=submit]")
    page.wait_for_load_state()
    assert "assigned to" in page.locator("section.messages").inner_text()
    printer.refresh_from_db()
    assert printer.assignee == sam
    assert "Assignee: Sam Jones" in page.locator(".desk-badges").inner_text()
    shot(page, "assigned")

    page.goto("/desk/incidents/?state=open")
    page.click(f"button[aria-label='Take: {vpn.number}']")
    page.wait_for_url("**/desk/incidents/?state=open")
    assert f"{vpn.number} is now assigned to you." in page.locator("section.messages").inner_text()
    assert page.locator(f"button[aria-label='Take: {vpn.number}']").count() == 0
    assert Incident.objects.get(pk=vpn.pk).assignee.username == "alex"
    shot(page, "taken")
