"""The problem journey in a real browser: an agent raises a problem from an incident, starts it
and submits the RCA; a manager (the team leader) approves it and its changes appear; the agent
verifies and closes it.

The problem is raised from the incident page's "Raise a problem from it" link; everything after
that is done on the desk pages too.
"""

from pathlib import Path

import pytest

from changes.models import Change
from conftest import make_user
from itsm.models import Organisation
from itsm.roles import PERSONAS, Persona
from problems.models import Problem
from tests.browser.conftest import ARTIFACTS
from tests.browser.support import sign_in
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db(transaction=True)

PLAN = "Patch the VPN concentrator firmware: to 9.2.4 on both nodes\nRaise the DPD timeout: from 10 to 30 seconds"


def said(page) -> str:
    """What the page confirmed after the last action (the messages above the page)."""
    messages = page.locator("section.messages")
    return messages.inner_text() if messages.count() else ""


def shot(page, name: str) -> None:
    page.screenshot(path=str(Path(ARTIFACTS) / f"problem-journey-{name}.png"), full_page=True)


def test_agent_raises_problem_from_incident_manager_approves_rca_agent_verifies_and_closes(page):
    ARTIFACTS.mkdir(exist_ok=True)
    org = Organisation.objects.create(name="Acme")
    customer = make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    make_user("alex", *PERSONAS[Persona.L2_AGENT])
    make_user("lee", *PERSONAS[Persona.TEAM_LEADER])
    incident = make_incident(requester=customer, short_description="VPN drops every ten minutes")

    # The agent raises a problem from the incident page: prefilled from it, and linked.
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto(f"/desk/incidents/{incident.pk}/")
    page.click("text=Raise a problem from it")
    assert page.input_value("input[name=short_description]") == "VPN drops every ten minutes"
    page.click("button:has-text('Raise problem')")
    page.wait_for_load_state()
    problem = Problem.objects.get()
    assert "linked to" in said(page)
    assert list(problem.incidents.values_list("pk", flat=True)) == [incident.pk]

    # The agent finds it in the problem queue, opens it and starts investigating.
    page.goto("/desk/problems/")
    page.click(f"text={problem.number}")
    page.wait_for_url(f"**/desk/problems/{problem.pk}/")
    page.click("#action-start button[type=submit]")
    page.wait_for_load_state()
    assert "is being investigated" in said(page)

    # … and submits the RCA with a two-line corrective plan.
    page.click("#action-submit-rca summary")
    page.fill(
        "#action-submit-rca textarea[name$=rca_summary]", "The concentrator firmware drops idle tunnels."
    )
    page.fill("#action-submit-rca input[name$=rca_confidence]", "0.8")
    page.fill("#action-submit-rca textarea[name$=corrective_plan]", PLAN)
    page.click("#action-submit-rca button[type=submit]")
    page.wait_for_load_state()
    assert "submitted for review" in said(page)
    # An agent does not review RCAs: the page offers no approval.
    assert page.locator("#action-approve-rca").count() == 0
    shot(page, "1-rca-submitted")
    problem.refresh_from_db()
    assert problem.state == "rca_submitted" and len(problem.corrective_plan) == 2

    # The team leader approves it: two changes are raised, shown on the linked-incidents tab.
    sign_in(page, "lee")
    page.wait_for_url("**/desk/")
    page.goto(f"/desk/problems/{problem.pk}/")
    page.click("#action-approve-rca button[type=submit]")
    page.wait_for_load_state()
    assert "it is a known error, with 2 change(s) raised" in said(page)
    assert page.locator(".badge.known-error").is_visible()
    page.click("text=Linked incidents and changes")
    page.wait_for_url(f"**/desk/problems/{problem.pk}/incidents/")
    changes = list(Change.objects.filter(problem=problem).order_by("pk"))
    assert [c.short_description for c in changes] == [
        "Patch the VPN concentrator firmware",
        "Raise the DPD timeout",
    ]
    table = page.inner_text("#changes + .table-wrap")
    for change in changes:
        assert change.number in table and change.short_description in table
    assert incident.number in page.inner_text("main")
    shot(page, "2-changes")

    # The agent verifies the fix and closes the problem.
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto(f"/desk/problems/{problem.pk}/")
    page.click("#action-verify summary")
    page.fill("#action-verify textarea[name$=verification_notes]", "No drops for a week since both changes.")
    page.click("#action-verify button[type=submit]")
    page.wait_for_load_state()
    assert "is verified" in said(page)
    page.click("#action-close button[type=submit]")
    page.wait_for_load_state()
    assert f"{problem.number} is closed." in said(page)
    assert page.locator("#action-close").count() == 0
    shot(page, "3-closed")
    problem.refresh_from_db()
    assert problem.state == "closed" and problem.is_known_error
    assert problem.verification_notes == "No drops for a week since both changes."
