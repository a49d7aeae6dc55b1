"""Catalog item management pages, in the desk and in the portal's Manage Items tab: creating,
editing (approval levels, task templates) and deactivating items through the forms, who may
reach the pages, and the item list's query count."""

import re
from html import unescape

import pytest
from django.urls import reverse

from catalog import services
from catalog.models import CatalogItem, Request
from itsm.models import AssignmentGroup
from tests.catalog.factories import make_category, make_item, make_request

pytestmark = pytest.mark.django_db

DESK_LIST = reverse("desk:catalog-item-list")
DESK_NEW = reverse("desk:catalog-item-new")
PORTAL_LIST = reverse("portal:catalog-manage")
PORTAL_NEW = reverse("portal:catalog-manage-new")
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')
# Session, user with its roles, the count, the page of items with
# their category, group and counts, the filter's categories — never one query per item.
LIST_BOUND = 8


def html_of(response) -> str:
    return CSRF_INPUT.sub("", unescape(response.content.decode()))


def said(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def management(prefix: str, total: int, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def item_post(category, *, name="New laptop", levels=(), tasks=(), **extra) -> dict:
    """The details page's form as a browser posts it: the item, then its level and task rows
    (each a dict of the row's fields, ORDER included when given)."""
    data = {
        "name": name, "description": "A laptop for work.", "icon": "💻", "category": str(category.pk),
        "fulfilment_group": "", "priority": "P3", "active": "on",
        **management("levels", len(levels)), **management("tasks", len(tasks)),
    }  # fmt: skip
    for index, row in enumerate(levels):
        data.update({f"levels-{index}-{key}": value for key, value in row.items()})
    for index, row in enumerate(tasks):
        data.update({f"tasks-{index}-{key}": value for key, value in row.items()})
    data.update(extra)
    return data


@pytest.fixture
def category(db):
    return make_category("Hardware")


@pytest.fixture
def group(db):
    return AssignmentGroup.objects.create(name="Desktop support")


@pytest.fixture
def approver(customer2):
    return customer2


# --- Creating and editing through the pages --------------------------------------------------


def test_manager_creates_item_with_levels_and_tasks_in_order(client, manager, category, group, approver, lead):
    client.force_login(manager)
    data = item_post(
        category,
        levels=[
            {"mode": "every", "users": f"{approver.username}, {lead.username}", "group": "", "ORDER": "2"},
            {"mode": "any", "users": "", "group": str(group.pk), "ORDER": "1"},
        ],
        tasks=[
            {"short_description": "Order the laptop", "description": "", "assignment_group": "", "ORDER": "1"},
            {"short_description": "Set it up", "description": "Image and hand over", "assignment_group": str(group.pk), "ORDER": "2"},
        ],
        fulfilment_group=str(group.pk),
    )  # fmt: skip
    response = client.post(DESK_NEW, data)
    item = CatalogItem.objects.get(name="New laptop")
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:catalog-item-fields", args=[item.pk])
    assert (item.icon, item.priority, item.fulfilment_group, item.active) == ("💻", "P3", group, True)
    levels = list(item.approval_levels.order_by("position"))
    assert [(level.position, level.mode, level.group) for level in levels] == [(1, "any", group), (2, "every", None)]
    assert {user.username for user in levels[1].users.all()} == {approver.username, lead.username}
    tasks = list(item.task_templates.order_by("position"))
    assert [(t.short_description, t.assignment_group) for t in tasks] == [("Order the laptop", None), ("Set it up", group)]


def test_item_without_levels_needs_no_approval_and_empty_rows_add_nothing(client, manager, category):
    client.force_login(manager)
    empty_level = {"mode": "any", "users": "", "group": "", "ORDER": ""}
    empty_task = {"short_description": "", "description": "", "assignment_group": "", "ORDER": ""}
    response = client.post(DESK_NEW, item_post(category, levels=[empty_level], tasks=[empty_task]))
    assert response.status_code == 302
    item = CatalogItem.objects.get(name="New laptop")
    assert not item.approval_levels.exists() and not item.task_templates.exists()


def test_unknown_approver_is_refused_naming_the_user_and_nothing_is_saved(client, manager, category):
    client.force_login(manager)
    data = item_post(category, levels=[{"mode": "any", "users": "nobody_here", "group": ""}])
    response = client.post(DESK_NEW, data)
    assert response.status_code == 400
    assert "No active user is called nobody_here." in html_of(response)
    assert not CatalogItem.objects.exists()


def test_missing_name_is_a_400_naming_the_field(client, manager, category):
    client.force_login(manager)
    response = client.post(DESK_NEW, item_post(category, name=""))
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["This field is required."]
    assert not CatalogItem.objects.exists()


def test_editing_shows_the_saved_levels_and_tasks_and_saves_changes(client, manager, category, group, approver):
    item = make_item(
        category=category, name="Monitor",
        levels=[{"mode": "any", "users": [approver], "group": None}],
        templates=[{"short_description": "Deliver it", "description": "", "assignment_group": None}],
    )  # fmt: skip
    client.force_login(manager)
    edit = reverse("desk:catalog-item-edit", args=[item.pk])
    page = client.get(edit)
    assert page.status_code == 200
    levels = page.context["levels"]
    assert levels.initial == [{"mode": "any", "group": None, "users": approver.username}]
    assert "Deliver it" in html_of(page)
    # Rename it, remove the level, keep the task and add a second one before it.
    data = item_post(
        category, name="Monitor 27-inch",
        levels=[{"mode": "any", "users": approver.username, "group": "", "ORDER": "1", "DELETE": "on"}],
        tasks=[
            {"short_description": "Deliver it", "description": "", "assignment_group": "", "ORDER": "2"},
            {"short_description": "Check stock", "description": "", "assignment_group": str(group.pk), "ORDER": "1"},
        ],
        **{"levels-INITIAL_FORMS": "1", "tasks-INITIAL_FORMS": "1"},
    )  # fmt: skip
    response = client.post(edit, data)
    assert response.status_code == 302 and response["Location"] == edit
    item.refresh_from_db()
    assert item.name == "Monitor 27-inch"
    assert not item.approval_levels.exists()
    assert list(item.task_templates.order_by("position").values_list("short_description", flat=True)) == [
        "Check stock", "Deliver it",
    ]  # fmt: skip


def test_deactivating_removes_item_from_active_list_and_activating_restores_it(client, manager, customer, category):
    item = make_item(category=category, name="Docking station")
    raised = make_request(requester=customer, item=item)
    client.force_login(manager)
    active = reverse("desk:catalog-item-active", args=[item.pk])
    response = client.post(active, {"active": "0", "next": DESK_LIST}, follow=True)
    item.refresh_from_db()
    assert item.active is False
    assert any("no longer offered" in text for text in said(response))
    inactive_only = client.get(DESK_LIST, {"active": "no"})
    assert [i.name for i in inactive_only.context["page"].object_list] == ["Docking station"]
    assert client.get(DESK_LIST, {"active": "yes"}).context["page"].object_list == []
    # Its requests stay as they were.
    assert Request.objects.filter(pk=raised.pk, catalog_item=item, state=raised.state).exists()
    client.post(active, {"active": "1"})
    item.refresh_from_db()
    assert item.active is True


def test_list_shows_inactive_items_with_their_approval_summary(client, manager, category, approver):
    make_item(category=category, name="Keyboard")
    make_item(category=category, name="Phone", active=False, levels=[
        {"mode": "any", "users": [approver], "group": None}, {"mode": "every", "users": [approver], "group": None},
    ])  # fmt: skip
    client.force_login(manager)
    page = html_of(client.get(DESK_LIST))
    assert "Keyboard" in page and "No approval" in page
    assert "Phone" in page and "2 levels" in page and "Inactive" in page


def test_portal_manage_items_creates_and_lists_through_the_same_pages(client, manager, category):
    client.force_login(manager)
    response = client.post(PORTAL_NEW, item_post(category, name="Headset"))
    item = CatalogItem.objects.get(name="Headset")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:catalog-manage-fields", args=[item.pk])
    listing = client.get(PORTAL_LIST)
    assert listing.status_code == 200
    assert "itsm/portal/base.html" in [t.name for t in listing.templates]
    assert reverse("portal:catalog-manage-edit", args=[item.pk]) in html_of(listing)


def test_category_created_and_edited_on_the_desk(client, manager):
    client.force_login(manager)
    url = reverse("desk:catalog-category-list")
    response = client.post(url, {"new-name": "Software", "new-description": "", "new-icon": "", "new-position": "2", "new-active": "on"})
    assert response.status_code == 302
    category = make_category.__globals__["CatalogCategory"].objects.get(name="Software")
    response = client.post(url, {"category": category.pk, "edit-name": "Software and licences", "edit-position": "1"})
    assert response.status_code == 302
    category.refresh_from_db()
    assert (category.name, category.position, category.active) == ("Software and licences", 1, False)


# --- Who may reach the pages -----------------------------------------------------------------


def page_urls(item) -> list[str]:
    return [
        DESK_LIST, DESK_NEW, reverse("desk:catalog-item-edit", args=[item.pk]),
        reverse("desk:catalog-item-fields", args=[item.pk]), reverse("desk:catalog-item-preview", args=[item.pk]),
        reverse("desk:catalog-category-list"),
    ]  # fmt: skip


def portal_urls(item) -> list[str]:
    return [
        PORTAL_LIST, PORTAL_NEW, reverse("portal:catalog-manage-edit", args=[item.pk]),
        reverse("portal:catalog-manage-fields", args=[item.pk]), reverse("portal:catalog-manage-preview", args=[item.pk]),
    ]  # fmt: skip


def test_agents_get_not_found_on_every_catalog_management_page(client, agent, l1, category):
    item = make_item(category=category)
    for user in (agent, l1):
        client.force_login(user)
        for url in [*page_urls(item), *portal_urls(item)]:
            assert client.get(url).status_code == 404, (user.username, url)
        assert client.post(reverse("desk:catalog-item-active", args=[item.pk]), {"active": "0"}).status_code == 404
    item.refresh_from_db()
    assert item.active is True


def test_customers_get_the_desk_refusal_and_not_found_in_the_portal(client, customer, category):
    item = make_item(category=category)
    client.force_login(customer)
    for url in page_urls(item):
        response = client.get(url)
        assert response.status_code == 403
        assert "itsm/desk_refused.html" in [t.name for t in response.templates]
    for url in portal_urls(item):
        assert client.get(url).status_code == 404, url
    response = client.post(PORTAL_NEW, item_post(category, name="Sneaky"))
    assert response.status_code == 404
    assert not CatalogItem.objects.filter(name="Sneaky").exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, category):
    response = client.get(PORTAL_LIST)
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_item_that_does_not_exist_is_not_found(client, manager):
    client.force_login(manager)
    assert client.get(reverse("desk:catalog-item-edit", args=[999999])).status_code == 404
    assert client.get(reverse("portal:catalog-manage-fields", args=[2**70])).status_code == 404


def test_desk_navigation_offers_catalog_items_to_managers_only(client, manager, agent):
    client.force_login(manager)
    assert f'href="{DESK_LIST}"' in client.get(reverse("desk:home")).content.decode()
    client.force_login(agent)
    assert f'href="{DESK_LIST}"' not in client.get(reverse("desk:home")).content.decode()


# --- Query counts ------------------------------------------------------------------------------


def test_item_list_takes_a_fixed_number_of_queries_whatever_the_page_holds(
    client, manager, category, approver, django_assert_max_num_queries
):
    client.force_login(manager)
    make_item(category=category, name="Item 0", levels=[{"mode": "any", "users": [approver], "group": None}])
    client.get(DESK_LIST)  # warm caches (content types…)
    with django_assert_max_num_queries(LIST_BOUND):
        assert len(client.get(DESK_LIST).context["page"].object_list) == 1
    other = make_category("Software")
    for number in range(1, 25):
        make_item(
            category=other if number % 2 else category, name=f"Item {number}",
            levels=[{"mode": "any", "users": [approver], "group": None}],
            templates=[{"short_description": "Do it", "description": "", "assignment_group": None}],
        )  # fmt: skip
    with django_assert_max_num_queries(LIST_BOUND):
        assert len(client.get(DESK_LIST).context["page"].object_list) == 25
    with django_assert_max_num_queries(LIST_BOUND):
        assert client.get(PORTAL_LIST).status_code == 200


def test_saving_details_over_someone_elses_change_is_refused(client, manager, category):
    item = make_item(category=category, name="Mouse")
    client.force_login(manager)
    edit = reverse("desk:catalog-item-edit", args=[item.pk])
    version = client.get(edit).context["form"].initial["version"]
    services.item_update(actor=manager, item=item, data={"description": "Changed meanwhile"})
    response = client.post(edit, item_post(category, name="Mouse (wireless)", version=str(version)))
    assert response.status_code == 409
    item.refresh_from_db()
    assert item.name == "Mouse"


def test_new_item_page_says_to_create_a_category_first_when_there_is_none(client, manager):
    client.force_login(manager)
    page = html_of(client.get(DESK_NEW))
    assert "There are no categories yet" in page
    assert reverse("desk:catalog-category-list") in page
