"""The desk's request pages in a real browser, without JavaScript doing the work: an agent finds
a submitted request in the request queue, reads what was asked on its page, decides the approval
level, fulfils it, closes its tasks, adds a comment and marks it complete.

Screenshots of each step go to ``test-artifacts/`` (or ``$SHOTS_DIR``)."""

import os
from pathlib import Path

import pytest

from catalog.models import Request, RequestTask
from conftest import make_user
from itsm.models import Organisation
from itsm.roles import PERSONAS, Persona
from tests.browser.conftest import ARTIFACTS
from tests.browser.support import sign_in
from tests.catalog.factories import LAPTOP_FORM, make_group, make_item, make_request

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("SHOTS_DIR") or ARTIFACTS)


def said(page) -> str:
    messages = page.locator("section.messages")
    return messages.inner_text() if messages.count() else ""


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"request-desk-{name}.png"), full_page=True)


def test_agent_works_a_request_from_the_queue_to_completion_on_the_desk(page):
    org = Organisation.objects.create(name="Acme")
    customer = make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    agent = make_user("alex", *PERSONAS[Persona.L2_AGENT])
    approver = make_user("lee", *PERSONAS[Persona.TEAM_LEADER])
    desk_team = make_group("Service desk", members=[agent])
    item = make_item(
        "New laptop", form_fields=LAPTOP_FORM, fulfilment_group=desk_team,
        levels=[{"mode": "any", "users": [approver]}],
        templates=[{"short_description": "Image the laptop"}, {"short_description": "Hand it over"}],
    )  # fmt: skip
    record = make_request(
        requester=customer, item=item, short_description="Laptop for Casey",
        form_data={"needs_laptop": True, "laptop_model": "13-inch", "start_date": "2027-02-01"},
    )  # fmt: skip
    make_request(requester=customer, short_description="Spare mouse")

    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.click("nav >> text=Requests")
    page.wait_for_url("**/desk/requests/")
    assert page.locator("table.data-table tbody tr").count() == 2
    shot(page, "queue")

    page.click(f"text={record.number}")
    page.wait_for_url(f"**/desk/requests/{record.pk}/")
    main = page.locator("main").inner_text().lower()  # the labels are set in capitals
    assert "laptop model" in main and "13-inch" in main and "it-100" in main
    shot(page, "overview")

    # The agent decides the level for everyone, on the approvals tab.
    page.click("nav.desk-tabs >> text=Approvals")
    page.click("#action-approve button[type=submit]")
    page.wait_for_load_state()
    assert f"{record.number} is approved." in said(page)
    shot(page, "approvals")

    page.click("nav.desk-tabs >> text=Overview")
    page.click("#action-fulfil button")
    page.wait_for_load_state()
    assert "in fulfilment" in said(page)

    page.click("nav.desk-tabs >> text=Tasks")
    for task in RequestTask.objects.filter(request=record).order_by("pk"):
        page.click(f"#task-{task.pk} button:has-text('Close')")
        page.wait_for_load_state()
        assert f"Task {task.number}" in said(page)
    shot(page, "tasks")

    page.click("nav.desk-tabs >> text=Notes")
    page.check("input[name=kind][value=comment]")
    page.fill("textarea[name=body]", "Your laptop is ready at the desk.")
    page.click("#add-note button[type=submit]")
    page.wait_for_load_state()
    assert "the requester can see it" in said(page)
    shot(page, "notes")

    page.click("nav.desk-tabs >> text=Overview")
    page.click("#action-complete summary")
    page.fill("textarea[name=complete-completion_notes]", "Handed over on the first day.")
    page.click("#action-complete button[type=submit]")
    page.wait_for_load_state()
    assert f"{record.number} is completed." in said(page)
    assert Request.objects.get(pk=record.pk).state == "completed"
    shot(page, "completed")

    page.click("nav.desk-tabs >> text=Timeline")
    assert "Created the request." in page.locator("main").inner_text()
    shot(page, "timeline")
