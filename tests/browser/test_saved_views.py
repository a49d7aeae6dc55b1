"""A saved view in a real browser: an agent filters the incident queue, saves it as a view, sees
it in the queue's navigation with its count, and opens it again from there."""

import os
import re

import pytest

from conftest import make_user
from incidents import services
from itsm.roles import PERSONAS, Persona
from tests.browser.support import sign_in

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = os.environ.get("VIEWS_SHOTS")


def test_an_agent_saves_a_filtered_queue_and_opens_it_from_the_navigation(page):
    customer = make_user("casey", *PERSONAS[Persona.EVERYONE])
    make_user("alex", *PERSONAS[Persona.L2_AGENT])
    for text, priority in (("Core switch down", "P1"), ("Mail slow", "P3"), ("VPN flaps", "P1")):
        services.incident_create(actor=customer, data={"short_description": text}, priority=priority)
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto("/desk/incidents/")
    page.select_option("#id_priority", "P1")
    page.click("form.desk-filters button[type=submit]")
    page.wait_for_url(re.compile(r".*priority=P1.*"))
    page.click("text=Save these filters as a view")
    page.fill("#saved-view-name", "Critical")
    page.click("text=Save view")
    page.wait_for_url(re.compile(r".*\?view=\d+$"))
    assert "Saved the view “Critical”" in page.inner_text(".messages")
    nav = page.locator("nav[aria-label='Saved views']")
    assert re.search(r"Critical\s+2", nav.inner_text())
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/saved-view.png", full_page=True)
    page.goto("/desk/incidents/")
    assert len(page.locator("tbody tr").all()) == 3
    nav.get_by_role("link", name=re.compile("Critical")).click()
    page.wait_for_url(re.compile(r".*\?view=\d+$"))
    rows = page.inner_text("tbody")
    assert "Core switch down" in rows and "VPN flaps" in rows and "Mail slow" not in rows
    assert "Showing the view Critical" in page.inner_text("main")
    if SHOTS:
        page.set_viewport_size({"width": 390, "height": 900})
        page.screenshot(path=f"{SHOTS}/saved-view-390.png", full_page=True)
        print("scroll width at 390:", page.evaluate("document.documentElement.scrollWidth"))
