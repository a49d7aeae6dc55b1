"""The form builder in a real browser: an IT service manager creates a catalog item with an
approval level, builds its form in the "Form fields" tab (adding rows, options for a dropdown, a
condition, moving a field up, a mistake shown beside its field) and previews it as a customer
will see it; then the same in the portal's Manage Items tab.

Screenshots go to /tmp/shots-items/ (or $ITEMS_SHOTS) at 1366 px and 390 px wide.
"""

import os
from pathlib import Path

import pytest

from catalog.models import CatalogItem
from conftest import make_user
from itsm.roles import PERSONAS, Persona
from tests.browser.support import sign_in
from tests.catalog.factories import make_category

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("ITEMS_SHOTS", "/tmp/shots-items"))
WIDE, NARROW = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("1366", WIDE), ("390", NARROW)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(WIDE)


def said(page) -> str:
    messages = page.locator("section.messages")
    return messages.inner_text() if messages.count() else ""


def fill_row(page, index: int, **values) -> None:
    for key, value in values.items():
        selector = f"[name='fields-{index}-{key}']"
        if key == "type":
            page.select_option(selector, value)
        elif key == "required":
            page.check(selector)
        else:
            page.fill(selector, value)


def test_manager_builds_an_item_form_and_previews_it(page):
    make_user("manager", *PERSONAS[Persona.IT_SERVICE_MANAGER])
    make_user("approver", *PERSONAS[Persona.EVERYONE])
    make_category("Hardware", icon="🖥")
    page.set_viewport_size(WIDE)
    sign_in(page, "manager")

    page.goto("/desk/")
    page.click("nav.site-nav >> text=Catalog items")
    page.click("text=New item")
    page.fill("[name=name]", "New laptop")
    page.fill("[name=description]", "A laptop for a new starter or a replacement.")
    page.fill("[name=icon]", "💻")
    page.select_option("[name=priority]", "P3")
    page.fill("[name='levels-0-users']", "approver")
    page.select_option("[name='levels-0-mode']", "any")
    page.fill("[name='tasks-0-short_description']", "Order the laptop")
    shot(page, "01-new-item")
    page.click("button:has-text('Create the item')")
    assert "is created" in said(page)
    item = CatalogItem.objects.get(name="New laptop")
    assert [level.mode for level in item.approval_levels.all()] == ["any"]

    # The Form fields tab: one empty row; the options box shows only for dropdown and radio.
    fill_row(page, 0, label="Laptop model", name="model", type="dropdown", required=True)
    assert page.locator("[name='fields-0-options']").is_visible()
    page.fill("[name='fields-0-options']", "13-inch\n15-inch")
    page.click("button:has-text('Add a field')")
    assert page.locator("[name='fields-0-label']").input_value() == "Laptop model"
    fill_row(page, 1, label="Do you need a bag?", name="needs_bag", type="checkbox")
    assert not page.locator("[name='fields-1-options']").is_visible()
    page.click("button:has-text('Add a field')")
    fill_row(page, 2, label="Bag colour", name="bag_colour", type="radio", condition_field="needs_bag",
             condition_value="yes")  # fmt: skip
    page.fill("[name='fields-2-options']", "Black\nGrey")
    page.click("button:has-text('Add a field')")
    fill_row(page, 3, label="Cost centre", name="cost_centre", type="hidden", default_value="IT-42")
    page.click("button:has-text('Add a field')")
    fill_row(page, 4, label="Needed by", name="needed_by", type="date", help_text="When the starter arrives.")
    page.click("button:has-text('Move up field 5')")
    assert page.locator("[name='fields-3-name']").input_value() == "needed_by"
    # A mistake: a condition on a checkbox compares with true or false.
    page.click("button:has-text('Save the form') >> nth=0")
    assert "Nothing was saved" in said(page)
    assert 'compares with "true" or "false"' in page.locator(".builder-row-invalid").inner_text()
    shot(page, "02-builder-error")
    page.fill("[name='fields-2-condition_value']", "true")
    page.click("button:has-text('Save the form') >> nth=0")
    assert "saved with 5 fields" in said(page)
    item.refresh_from_db()
    assert [field["name"] for field in item.form_fields] == ["model", "needs_bag", "bag_colour", "needed_by", "cost_centre"]
    shot(page, "03-builder-saved")

    page.click("nav.desk-tabs >> text=Preview")
    assert "Preview — submitting is disabled" in page.inner_text("main")
    assert page.locator("select[name=model] option").all_inner_texts() == ["Choose…", "13-inch", "15-inch"]
    assert page.locator("input[type=radio][name=bag_colour]").count() == 2
    assert page.locator("input[type=date][name=needed_by]").count() == 1
    assert page.locator("[name=cost_centre]").count() == 0  # hidden-type: never sent to the browser
    assert page.locator("main button[type=submit][disabled]").count() == 1
    shot(page, "04-preview")

    # The portal's Manage Items tab: the same pages in the portal's chrome.
    page.goto("/portal/catalog/manage/")
    assert "New laptop" in page.inner_text("main")
    shot(page, "05-portal-manage")
    page.click("text=New laptop")
    page.click("nav.desk-tabs >> text=Form fields")
    assert page.locator("[name='fields-0-name']").input_value() == "model"
    page.click("nav.desk-tabs >> text=Preview")
    shot(page, "06-portal-preview")

    # Deactivate from the list: it stays listed, marked inactive.
    page.goto("/desk/catalog/items/")
    page.click("button:has-text('Deactivate')")
    assert "no longer offered" in said(page)
    item.refresh_from_db()
    assert item.active is False
    shot(page, "07-list")
