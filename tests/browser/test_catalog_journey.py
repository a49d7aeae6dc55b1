"""The service catalog journey in a real browser: an IT service manager creates an item in the
portal's Manage Items tab, builds its form with the form builder and previews it; a customer
finds it in Browse Catalog and submits it (a field shows only when its condition holds); the
approver finds it in the portal's Approval Queue and approves it; an agent fulfils it and closes
its task on the desk, then marks it complete on the portal's request page; the customer sees it
completed in My Requests.

Screenshots at 1366 and 390 pixels wide go to /tmp/shots-catalog/ (or $CATALOG_SHOTS).
"""

import os
from pathlib import Path

import pytest

from catalog.models import CatalogItem, Request, RequestTask
from conftest import make_user
from itsm.models import Organisation
from itsm.roles import PERSONAS, Persona
from tests.browser.support import sign_in
from tests.catalog.factories import make_category, make_group

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("CATALOG_SHOTS", "/tmp/shots-catalog"))
WIDE, NARROW = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


def said(page) -> str:
    """What the page confirmed after the last action (the messages above the page)."""
    messages = page.locator("section.messages")
    return messages.inner_text() if messages.count() else ""


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("1366", WIDE), ("390", NARROW)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"catalog-{name}-{label}.png"), full_page=True)
    page.set_viewport_size(WIDE)


def fill_row(page, index: int, **values) -> None:
    for key, value in values.items():
        selector = f"[name='fields-{index}-{key}']"
        if key == "type":
            page.select_option(selector, value)
        elif key == "required":
            page.check(selector)
        else:
            page.fill(selector, value)


def test_manager_builds_customer_requests_approver_approves_agent_fulfils_and_completes(page):
    acme = Organisation.objects.create(name="Acme")
    make_user("mia", *PERSONAS[Persona.IT_SERVICE_MANAGER])
    make_user("cara", *PERSONAS[Persona.EVERYONE], organisation=acme)
    make_user("abe", *PERSONAS[Persona.EVERYONE], organisation=acme)
    alex = make_user("alex", *PERSONAS[Persona.L2_AGENT])
    make_group("Hardware desk", members=[alex])
    make_category("Hardware", icon="🖥", description="Computers, screens and accessories.")
    make_category("Software", icon="💿")
    page.set_viewport_size(WIDE)
    refused = []  # every Content-Security-Policy refusal the browser reports (none: no inline code)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)

    # The manager creates the item in the portal's Manage Items tab and builds its form.
    sign_in(page, "mia")
    page.goto("/portal/")
    page.click("nav.site-nav >> text=Service catalog")
    page.wait_for_url("**/portal/catalog/")
    page.click("nav.catalog-tabs >> text=Manage items")
    page.wait_for_url("**/portal/catalog/manage/")
    page.click("text=New item")
    page.fill("[name=name]", "New laptop")
    page.fill("[name=description]", "A laptop for a new starter, or to replace a broken one.")
    page.fill("[name=icon]", "💻")
    page.select_option("[name=category]", label="Hardware")
    page.select_option("[name=fulfilment_group]", label="Hardware desk")
    page.fill("[name='levels-0-users']", "abe")
    page.fill("[name='tasks-0-short_description']", "Order and image the laptop")
    page.click("button:has-text('Create the item')")
    assert "is created" in said(page)
    item = CatalogItem.objects.get(name="New laptop")

    fill_row(page, 0, label="Laptop model", name="model", type="dropdown", required=True)
    page.fill("[name='fields-0-options']", "13-inch\n15-inch")
    page.click("button:has-text('Add a field')")
    fill_row(page, 1, label="Do you need a bag?", name="needs_bag", type="checkbox")
    page.click("button:has-text('Add a field')")
    fill_row(page, 2, label="Bag colour", name="bag_colour", type="radio", required=True,
             condition_field="needs_bag", condition_value="true")  # fmt: skip
    page.fill("[name='fields-2-options']", "Black\nGrey")
    page.click("button:has-text('Add a field')")
    fill_row(page, 3, label="Cost centre", name="cost_centre", type="hidden", default_value="IT-42")
    page.click("button:has-text('Save the form') >> nth=0")
    assert "saved with 4 fields" in said(page)
    shot(page, "1-builder")

    page.click("nav.desk-tabs >> text=Preview")
    assert "Preview — submitting is disabled" in page.inner_text("main")
    assert page.locator("select[name=model] option").all_inner_texts() == ["Choose…", "13-inch", "15-inch"]
    assert page.locator("input[type=radio][name=bag_colour]").count() == 2
    shot(page, "2-preview")

    # The customer finds it in Browse Catalog and submits it.
    sign_in(page, "cara")
    page.goto("/portal/")
    page.click("nav.site-nav >> text=Service catalog")
    assert "Manage items" not in page.inner_text("nav.catalog-tabs")
    shot(page, "3-browse")
    page.fill("input[name=q]", "laptop")
    page.click("form.catalog-search button")
    page.click("text=New laptop")
    page.wait_for_url(f"**/portal/catalog/items/{item.pk}/")
    assert not page.locator("input[name=bag_colour]").first.is_visible()  # its condition does not hold yet
    page.click("form.catalog-form button[type=submit]")
    assert "Laptop model is required." in page.inner_text("main")
    page.select_option("select[name=model]", "15-inch")
    page.check("input[name=needs_bag]")
    assert page.locator("input[name=bag_colour]").first.is_visible()
    page.check("input[name=bag_colour][value=Grey]")
    shot(page, "4-request-form")
    page.click("form.catalog-form button[type=submit]")
    req = Request.objects.get()
    page.wait_for_url(f"**/portal/requests/{req.pk}/")
    assert f"We have received your request {req.number}" in said(page)
    main = page.inner_text("main")
    assert "Pending approval" in main and "15-inch" in main and "Grey" in main and "IT-42" not in main
    assert req.form_data == {"model": "15-inch", "needs_bag": True, "bag_colour": "Grey", "cost_centre": "IT-42"}
    shot(page, "5-submitted")

    # The approver approves it in the portal's Approval Queue.
    sign_in(page, "abe")
    page.goto("/portal/catalog/")
    page.click("nav.catalog-tabs >> text=Approval queue")
    page.wait_for_url("**/portal/approvals/")
    assert req.number in page.inner_text("main")
    shot(page, "6-approval-queue")
    page.click(f"button:has-text('Approve {req.number}')")
    page.wait_for_url("**/portal/approvals/")
    assert f"You approved {req.number}" in said(page)
    req.refresh_from_db()
    assert req.state == "approved"

    # The agent fulfils it and closes its task on the desk, then marks it complete in the portal.
    sign_in(page, "alex")
    page.goto(f"/desk/requests/{req.pk}/")
    page.click("#action-fulfil button")
    page.wait_for_load_state()
    assert "in fulfilment" in said(page)
    page.click("nav.desk-tabs >> text=Tasks")
    task = RequestTask.objects.get(request=req)
    page.click(f"#task-{task.pk} button:has-text('Close')")
    page.wait_for_load_state()
    assert f"Task {task.number}" in said(page)
    page.goto(f"/portal/requests/{req.pk}/")
    shot(page, "7-ready-to-complete")
    page.click("button:has-text('Mark complete')")
    page.wait_for_load_state()
    assert f"{req.number} is complete." in said(page)

    # The customer sees it completed.
    sign_in(page, "cara")
    page.goto("/portal/")
    page.click("nav.site-nav >> text=My requests")
    page.wait_for_url("**/portal/requests/")
    row = page.locator("table.data-table tbody tr", has_text=req.number)
    assert "Completed" in row.inner_text()
    row.locator("a").first.click()
    assert "Completed" in page.inner_text("main") and "Mark complete" not in page.inner_text("main")
    assert page.locator("main a:has-text('Close')").count() == 1
    shot(page, "8-completed")
    assert refused == []
