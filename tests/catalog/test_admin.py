"""Catalog admin (issue 15 item 10): items are added and edited with their approval levels and
task templates through the item services; their form is validated JSON whose errors name the
field at fault, with a link to the desk's form builder; requests are raised from an item with
form data checked against its form; self-service users cannot enter."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.admin.widgets import AutocompleteSelectMultiple

from catalog.models import CatalogCategory, CatalogItem, Request
from conftest import make_user
from itsm.models import AuditEntry
from itsm.roles import Role
from tests.catalog.factories import make_item, make_request
from tests.itsm.admin_support import errors_on, page_data

pytestmark = pytest.mark.django_db

ITEMS = "/admin/catalog/catalogitem/"
REQUESTS = "/admin/catalog/request/"
CATEGORIES = "/admin/catalog/catalogcategory/"

FORM = [
    {"name": "model", "label": "Model", "type": "dropdown", "required": True, "options": ["13-inch", "15-inch"]},
    {"name": "cost_centre", "label": "Cost centre", "type": "hidden", "default_value": "CC-7"},
]


@pytest.fixture
def itsm_admin(db):
    return make_user("itsmadmin", Role.ITSM_ADMINISTRATOR)


@pytest.fixture
def category(db):
    return CatalogCategory.objects.create(name="Hardware")


def submit(client, url, **values):
    data = page_data(client.get(url))
    data.update(values)
    return client.post(url, data)


def add_item(client, category, **values):
    values = {"category": category.pk, "name": "Laptop", "priority": "P3", "form_fields": json.dumps(FORM), **values}
    return submit(client, f"{ITEMS}add/", **values)


def test_an_item_is_added_with_its_form_and_a_level_through_the_service(client, itsm_admin, category, lead):
    client.force_login(itsm_admin)
    response = add_item(
        client, category,
        **{"approval_levels-TOTAL_FORMS": "1", "approval_levels-0-position": "1", "approval_levels-0-mode": "any",
           "approval_levels-0-users": [str(lead.pk)],
           "task_templates-TOTAL_FORMS": "1", "task_templates-0-position": "1",
           "task_templates-0-short_description": "Order it"},
    )  # fmt: skip
    assert response.status_code == 302, errors_on(response)
    item = CatalogItem.objects.get()
    assert [f["name"] for f in item.form_fields] == ["model", "cost_centre"]
    assert [list(level.users.all()) for level in item.approval_levels.all()] == [[lead]]
    assert [t.short_description for t in item.task_templates.all()] == ["Order it"]
    assert AuditEntry.objects.filter(object_id=str(item.pk), action="create").exists()


def test_a_bad_form_comes_back_naming_the_field_and_nothing_is_saved(client, itsm_admin, category):
    client.force_login(itsm_admin)
    bad = [{"name": "colour", "label": "Colour", "type": "text"}, {"name": "size", "label": "Size", "type": "radio"}]
    response = add_item(client, category, form_fields=json.dumps(bad))
    assert response.status_code == 200
    assert "form_fields[1].options" in str(errors_on(response))
    assert not CatalogItem.objects.exists()
    response = add_item(client, category, form_fields="[{not json")
    assert response.status_code == 200 and errors_on(response)


def test_a_level_without_approvers_is_refused(client, itsm_admin, category):
    client.force_login(itsm_admin)
    response = add_item(
        client, category,
        **{"approval_levels-TOTAL_FORMS": "1", "approval_levels-0-position": "1", "approval_levels-0-mode": "every"},
    )  # fmt: skip
    assert response.status_code == 200 and errors_on(response)
    assert not CatalogItem.objects.exists()


def test_the_item_page_edits_the_form_and_links_to_the_form_builder(client, itsm_admin, category):
    client.force_login(itsm_admin)
    assert add_item(client, category).status_code == 302
    item = CatalogItem.objects.get()
    page = client.get(f"{ITEMS}{item.pk}/change/")
    assert f"/desk/catalog/items/{item.pk}/fields/" in page.content.decode() or "form builder" in page.content.decode()
    edited = [*FORM, {"name": "notes", "label": "Notes", "type": "textarea"}]
    response = submit(client, f"{ITEMS}{item.pk}/change/", form_fields=json.dumps(edited))
    assert response.status_code == 302, errors_on(response)
    item.refresh_from_db()
    assert [f["name"] for f in item.form_fields] == ["model", "cost_centre", "notes"]
    assert AuditEntry.objects.filter(object_id=str(item.pk), action="update").exists()


def test_a_request_is_raised_from_an_item_with_its_form_checked(client, itsm_admin, category):
    client.force_login(itsm_admin)
    assert add_item(client, category).status_code == 302
    item = CatalogItem.objects.get()
    response = submit(
        client, f"{REQUESTS}add/", catalog_item=item.pk, short_description="Laptop for Ann",
        form_data=json.dumps({"model": "17-inch", "colour": "red"}),
    )  # fmt: skip
    assert response.status_code == 200, response.status_code
    assert "form_data.model" in str(response.content.decode()) or errors_on(response)
    assert not Request.objects.exists()
    response = submit(
        client, f"{REQUESTS}add/", catalog_item=item.pk, short_description="Laptop for Ann",
        form_data=json.dumps({"model": "15-inch", "cost_centre": "mine"}),
    )  # fmt: skip
    assert response.status_code == 302, errors_on(response) if response.context else response.status_code
    request = Request.objects.get()
    assert request.form_data == {"model": "15-inch", "cost_centre": "CC-7"} and request.requester == itsm_admin
    page = client.get(f"{REQUESTS}{request.pk}/change/").content.decode()
    assert "15-inch" in page and "CC-7" in page


def test_self_service_users_cannot_enter_the_catalog_admin(client, customer, category):
    client.force_login(customer)
    assert client.get(ITEMS).status_code in (302, 403)
    assert client.get(REQUESTS).status_code in (302, 403)
    assert client.get(CATEGORIES).status_code in (302, 403)


def test_selected_items_are_withdrawn_and_offered_again_through_the_service(client, itsm_admin, category):
    client.force_login(itsm_admin)
    assert add_item(client, category).status_code == 302
    item = CatalogItem.objects.get()
    response = client.post(ITEMS, {"action": "deactivate_items", "_selected_action": [item.pk]})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.active is False
    assert AuditEntry.objects.filter(object_id=str(item.pk), action="update", field="active").exists()
    client.post(ITEMS, {"action": "activate_items", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert item.active is True


def test_a_customer_with_admin_access_sees_only_its_own_decision_and_no_approval_levels(
    client, organisation, category
):
    """The admin reads each inline's own rule: an approver sees its decision, not the others',
    and nobody but agents sees an item's approval levels (they name people)."""
    requester = make_user("req", Role.PLATFORM_SELFSERVICE, organisation=organisation)
    mine = make_user("approver_a", Role.PLATFORM_SELFSERVICE, Role.CMDB_MANAGER, organisation=organisation)
    other = make_user("approver_b", Role.PLATFORM_SELFSERVICE, organisation=organisation)
    item = make_item("Badge", levels=[{"mode": "every", "users": [mine, other]}])
    request = make_request(requester=requester, item=item)
    client.force_login(mine)
    page = client.get(f"/admin/catalog/request/{request.pk}/change/").content.decode()
    assert "approver_a" in page and "approver_b" not in page
    item_page = client.get(f"/admin/catalog/catalogitem/{item.pk}/change/")
    assert item_page.status_code == 200
    assert "approver_b" not in item_page.content.decode()


def test_a_catalog_manager_picks_approvers_with_the_autocomplete_without_managing_accounts(
    client, lead, manager, customer, category
):
    """The team leader manages the catalog (service_catalog.manage) but not accounts: the
    approvers box is Django's autocomplete, answered from the approvers' people source."""
    client.force_login(lead)
    page = client.get(f"{ITEMS}add/")
    level = page.context["inline_admin_formsets"][0].formset.empty_form
    assert isinstance(level.fields["users"].widget.widget, AutocompleteSelectMultiple)
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "catalog", "model_name": "approvallevel", "field_name": "users", "term": "manager"},
    )
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(manager.pk)]
    response = add_item(
        client, category,
        **{"approval_levels-TOTAL_FORMS": "1", "approval_levels-0-position": "1", "approval_levels-0-mode": "any",
           "approval_levels-0-users": [str(manager.pk)]},
    )  # fmt: skip
    assert response.status_code == 302, errors_on(response)
    assert [list(level.users.all()) for level in CatalogItem.objects.get().approval_levels.all()] == [[manager]]


def test_a_request_added_in_the_admin_takes_its_requested_for_person_from_the_autocomplete(
    client, itsm_admin, customer, category
):
    client.force_login(itsm_admin)
    assert add_item(client, category).status_code == 302
    item = CatalogItem.objects.get()
    box = re.search(r'<select name="requested_for"[^>]*>', client.get(f"{REQUESTS}add/").content.decode())
    asks = dict(re.findall(r'data-(app-label|model-name|field-name)="([^"]*)"', box.group(0)))
    assert asks == {"app-label": "catalog", "model-name": "request", "field-name": "requested_for"}
    [row] = client.get(
        "/admin/autocomplete/",
        {"app_label": "catalog", "model_name": "request", "field_name": "requested_for", "term": "customer"},
    ).json()["results"]
    response = submit(
        client, f"{REQUESTS}add/", catalog_item=item.pk, short_description="Laptop for the customer",
        form_data=json.dumps({"model": "15-inch"}), requested_for=row["id"],
    )  # fmt: skip
    assert response.status_code == 302, errors_on(response) if response.context else response.status_code
    assert Request.objects.get().requested_for == customer
