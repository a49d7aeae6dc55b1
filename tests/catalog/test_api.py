"""The catalog API (issue 15 items 4–9, 12): categories and items with their form, approval
levels and task templates; requests raised with form data checked against the item's form; the
approval, fulfilment, completion and cancellation actions; notes, tasks, timeline, summary;
customers reading only what is theirs (or theirs to approve) and never the fields SPEC §4 hides;
pinned query counts. Everything is set up through the API itself, as a client would."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from catalog.models import CatalogItem, Request, RequestApproval, RequestNote, RequestTask
from conftest import make_user
from itsm.models import AuditEntry
from itsm.roles import PERSONAS, Persona
from tests.itsm.factories import make_group

pytestmark = pytest.mark.django_db

CATEGORIES = "/api/v1/catalog-categories/"
ITEMS = "/api/v1/catalog-items/"
REQUESTS = "/api/v1/requests/"

LAPTOP_FORM = [
    {"name": "needs_laptop", "label": "Needs a laptop", "type": "checkbox", "required": True},
    {"name": "laptop_model", "label": "Laptop model", "type": "dropdown", "required": True,
     "options": ["13-inch", "15-inch"], "condition": {"field": "needs_laptop", "value": "true"}},
    {"name": "start_date", "label": "Start date", "type": "date", "required": True},
    {"name": "contact", "label": "Contact e-mail", "type": "email"},
    {"name": "count", "label": "How many", "type": "number"},
    {"name": "cost_centre", "label": "Cost centre", "type": "hidden", "default_value": "CC-100"},
]  # fmt: skip
GOOD_DATA = {"needs_laptop": True, "laptop_model": "13-inch", "start_date": "2027-01-04"}

# SPEC §4, "A self-service user never reads these fields", ITSM Request, as far as the model has them.
HIDDEN_ON_REQUEST = [
    "sla_status", "priority", "assignment_group", "assignee", "classification", "completion_notes", "service",
]  # fmt: skip


@pytest.fixture
def customer3(organisation):
    return make_user("customer3", *PERSONAS[Persona.EVERYONE], organisation=organisation)


@pytest.fixture
def customer4(organisation):
    return make_user("customer4", *PERSONAS[Persona.EVERYONE], organisation=organisation)


@pytest.fixture
def category(api, manager):
    r = api.as_user(manager).post(CATEGORIES, {"name": "Hardware", "icon": "💻"}, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def make_item(api, manager, category, *, form=LAPTOP_FORM, levels=(), templates=(), **extra) -> dict:
    body = {"category": category["id"], "name": "New laptop", "description": "A laptop for a new starter",
            "form_fields": list(form), "approval_levels": list(levels), "task_templates": list(templates),
            **extra}  # fmt: skip
    r = api.as_user(manager).post(ITEMS, body, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def raise_request(api, user, item, data=GOOD_DATA, **extra) -> dict:
    r = api.as_user(user).post(REQUESTS, {"catalog_item": item["id"], "form_data": dict(data), **extra}, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def act(api, user, request, name, body=None):
    return api.as_user(user).post(f"{REQUESTS}{request['id']}/{name}/", body or {}, format="json")


# --- Categories and items -----------------------------------------------------------------


def test_a_customer_reads_categories_but_may_not_write_one(api, customer, category):
    assert api.as_user(customer).get(CATEGORIES).json()["results"][0]["name"] == "Hardware"
    r = api.as_user(customer).post(CATEGORIES, {"name": "Software"}, format="json")
    assert r.status_code == 403


def test_a_manager_creates_an_item_with_its_form_levels_and_tasks(api, manager, lead, category):
    group = make_group("Desk")
    item = make_item(
        api, manager, category, levels=[{"mode": "any", "users": [lead.pk]}, {"mode": "every", "group": group.pk}],
        templates=[{"short_description": "Order it", "assignment_group": group.pk},
                   {"short_description": "Set it up"}],
    )  # fmt: skip
    assert [f["name"] for f in item["form_fields"]] == [f["name"] for f in LAPTOP_FORM]
    assert [(lv["position"], lv["mode"]) for lv in item["approval_levels"]] == [(1, "any"), (2, "every")]
    assert item["approval_levels"][0]["users"] == [lead.pk] and item["approval_levels"][1]["group"] == group.pk
    assert [t["short_description"] for t in item["task_templates"]] == ["Order it", "Set it up"]
    assert AuditEntry.objects.filter(object_id=str(item["id"]), action="create").exists()


def test_a_bad_form_definition_is_a_400_naming_the_field_and_nothing_is_written(api, manager, category):
    form = [
        {"name": "a", "label": "A", "type": "text"},
        {"name": "Bad Name", "label": "B", "type": "text"},
        {"name": "colour", "label": "Colour", "type": "dropdown"},
    ]
    r = api.as_user(manager).post(
        ITEMS, {"category": category["id"], "name": "Paint", "form_fields": form}, format="json"
    )
    assert r.status_code == 400, r.content
    assert "form_fields[1].name" in r.json() and "form_fields[2].options" in r.json(), r.json()
    assert not CatalogItem.objects.exists()


def test_a_customer_sees_only_active_items_and_not_who_approves_or_fulfils(api, manager, customer, category):
    kept = make_item(api, manager, category, levels=[{"mode": "any", "users": [manager.pk]}])
    gone = make_item(api, manager, category, name="Old phone")
    r = api.as_user(manager).patch(f"{ITEMS}{gone['id']}/", {"active": False}, format="json")
    assert r.status_code == 200 and r.json()["active"] is False, r.content
    body = api.as_user(customer).get(ITEMS).json()
    assert [i["id"] for i in body["results"]] == [kept["id"]]
    assert "form_fields" in body["results"][0]
    assert not {"approval_levels", "task_templates", "fulfilment_group", "priority"} & set(body["results"][0])
    assert api.as_user(customer).get(f"{ITEMS}{gone['id']}/").status_code == 404
    assert api.as_user(manager).get(f"{ITEMS}{gone['id']}/").status_code == 200


def test_items_filter_by_category_and_search_name(api, manager, category):
    make_item(api, manager, category)
    other = api.as_user(manager).post(CATEGORIES, {"name": "Software"}, format="json").json()
    make_item(api, manager, other, name="Photo editor", form=[], description="Edit pictures")
    client = api.as_user(manager)
    assert [i["name"] for i in client.get(ITEMS, {"category": other["id"]}).json()["results"]] == ["Photo editor"]
    assert [i["name"] for i in client.get(ITEMS, {"search": "laptop"}).json()["results"]] == ["New laptop"]


def test_an_agent_may_not_create_items(api, agent, category):
    r = api.as_user(agent).post(ITEMS, {"category": category["id"], "name": "X"}, format="json")
    assert r.status_code == 403


# --- Raising a request --------------------------------------------------------------------


def test_a_customer_raises_a_request_with_the_hidden_default_injected(api, manager, customer, category):
    item = make_item(api, manager, category)
    body = raise_request(api, customer, item, {**GOOD_DATA, "cost_centre": "CC-HACKED", "count": "3"})
    assert body["number"].startswith("REQ") and body["state"] == "approved"
    assert body["short_description"] == "New laptop"
    assert "cost_centre" not in body["form_data"]  # the desk's own answer: not in the customer's body
    assert body["form_data"]["count"] == 3 and body["form_data"]["needs_laptop"] is True
    assert Request.objects.get(pk=body["id"]).form_data["cost_centre"] == "CC-100"


def test_hidden_type_fields_and_answers_are_the_desks_in_every_api_body(api, manager, agent, customer, category):
    """A hidden-type field (a cost centre) is answered by the service: the customer's item body
    has no such field nor its default, the customer's request bodies (detail, list, ?mine) no
    such answer; agents read both."""
    item = make_item(api, manager, category)
    request = raise_request(api, customer, item)
    client = api.as_user(customer)
    assert [f["name"] for f in client.get(f"{ITEMS}{item['id']}/").json()["form_fields"]] == [
        "needs_laptop", "laptop_model", "start_date", "contact", "count",
    ]  # fmt: skip
    assert "CC-100" not in client.get(ITEMS).content.decode()
    assert "cost_centre" not in client.get(f"{REQUESTS}{request['id']}/").json()["form_data"]
    for listing in (client.get(REQUESTS), client.get(REQUESTS, {"mine": "true"})):
        assert listing.status_code == 200 and "CC-100" not in listing.content.decode()
    desk = api.as_user(agent)
    assert desk.get(f"{REQUESTS}{request['id']}/").json()["form_data"]["cost_centre"] == "CC-100"
    assert "cost_centre" in [f["name"] for f in desk.get(f"{ITEMS}{item['id']}/").json()["form_fields"]]


def test_bad_form_data_is_a_400_naming_every_field_at_fault_and_nothing_is_written(api, manager, customer, category):
    item = make_item(api, manager, category)
    journal = AuditEntry.objects.count()
    data = {"needs_laptop": True, "laptop_model": "17-inch", "start_date": "04/01/2027", "contact": "not-mail",
            "count": "many", "shoe_size": "42"}  # fmt: skip
    r = api.as_user(customer).post(REQUESTS, {"catalog_item": item["id"], "form_data": data}, format="json")
    assert r.status_code == 400, r.content
    keys = {k for k in r.json() if k.startswith("form_data.")}
    assert keys == {"form_data.laptop_model", "form_data.start_date", "form_data.contact", "form_data.count",
                    "form_data.shoe_size"}, r.json()  # fmt: skip
    assert "Laptop model" in str(r.json()["form_data.laptop_model"])  # named as the customer reads it
    assert not Request.objects.exists() and AuditEntry.objects.count() == journal


def test_the_form_data_error_shape_is_documented_in_the_openapi_document():
    document = SchemaGenerator().get_schema(request=None, public=True)
    create = document["paths"]["/api/v1/requests/"]["post"]
    assert "form_data.<field name>" in create["description"]
    assert "400" in create["responses"]


def test_a_missing_required_field_is_named_but_false_is_a_valid_checkbox_value(api, manager, customer, category):
    item = make_item(api, manager, category)
    r = api.as_user(customer).post(REQUESTS, {"catalog_item": item["id"], "form_data": {}}, format="json")
    assert r.status_code == 400 and {"form_data.needs_laptop", "form_data.start_date"} <= set(r.json()), r.content
    # Unticked, the condition hides the laptop model: it is not required then.
    body = raise_request(api, customer, item, {"needs_laptop": False, "start_date": "2027-01-04"})
    assert body["form_data"]["needs_laptop"] is False


def test_requested_for_must_be_of_the_requesters_organisation(api, manager, customer, customer2, other_organisation, category):
    item = make_item(api, manager, category)
    outsider = make_user("outsider", *PERSONAS[Persona.EVERYONE], organisation=other_organisation)
    r = api.as_user(customer).post(
        REQUESTS, {"catalog_item": item["id"], "form_data": GOOD_DATA, "requested_for": outsider.pk}, format="json"
    )
    assert r.status_code == 400 and "requested_for" in r.json()
    body = raise_request(api, customer, item, requested_for=customer2.pk)
    assert body["requested_for"] == customer2.pk
    assert api.as_user(customer2).get(f"{REQUESTS}{body['id']}/").status_code == 200


def test_a_deactivated_item_takes_no_new_request_but_its_requests_stay(api, manager, customer, category):
    item = make_item(api, manager, category)
    old = raise_request(api, customer, item)
    api.as_user(manager).patch(f"{ITEMS}{item['id']}/", {"active": False}, format="json")
    r = api.as_user(customer).post(REQUESTS, {"catalog_item": item["id"], "form_data": GOOD_DATA}, format="json")
    assert r.status_code == 400 and "catalog_item" in r.json()
    got = api.as_user(customer).get(f"{REQUESTS}{old['id']}/")
    assert got.status_code == 200 and got.json()["form_data"]["laptop_model"] == "13-inch"


def test_catalog_item_and_form_data_cannot_be_changed_afterwards(api, manager, customer, category):
    item = make_item(api, manager, category)
    request = raise_request(api, customer, item)
    r = api.as_user(manager).patch(f"{REQUESTS}{request['id']}/", {"form_data": {"count": 9}}, format="json")
    assert r.status_code == 400 and "form_data" in r.json()


# --- Who reads what -----------------------------------------------------------------------


def test_another_customers_request_is_404_everywhere(api, manager, customer, customer2, category):
    item = make_item(api, manager, category)
    request = raise_request(api, customer, item)
    client = api.as_user(customer2)
    url = f"{REQUESTS}{request['id']}/"
    assert client.get(url).status_code == 404
    assert client.patch(url, {"description": "mine now"}, format="json").status_code == 404
    for path in ("notes/", "timeline/", "journal/"):
        assert client.get(f"{url}{path}").status_code == 404, path
    for name in ("cancel", "approve", "reject"):
        assert act(api, customer2, request, name, {"reason": "no"}).status_code == 404, name
    assert client.get(REQUESTS).json()["results"] == []


def test_a_customer_never_reads_the_hidden_request_fields(api, manager, customer, agent, category):
    group = make_group("Desk", members=[agent])
    item = make_item(api, manager, category, fulfilment_group=group.pk, priority="P2")
    request = raise_request(api, customer, item)
    api.as_user(agent).patch(
        f"{REQUESTS}{request['id']}/", {"classification": "secret-class", "service": "secret-svc"}, format="json"
    )
    act(api, agent, request, "assign", {"assignee": agent.pk, "assignment_group": group.pk})
    for body in (
        api.as_user(customer).get(f"{REQUESTS}{request['id']}/").json(),
        api.as_user(customer).get(REQUESTS).json()["results"][0],
    ):
        assert not set(HIDDEN_ON_REQUEST) & set(body), body
        assert "secret" not in str(body)
    agents_view = api.as_user(agent).get(f"{REQUESTS}{request['id']}/").json()
    assert agents_view["priority"] == "P2" and agents_view["assignee"] == agent.pk


def test_a_customer_cannot_filter_order_or_search_by_hidden_fields(api, manager, customer, agent, category):
    item = make_item(api, manager, category)
    first = raise_request(api, customer, item)
    second = raise_request(api, customer, item)
    api.as_user(agent).patch(f"{REQUESTS}{first['id']}/", {"priority": "P1", "service": "zebra-svc"}, format="json")
    client = api.as_user(customer)
    everything = [r["id"] for r in client.get(REQUESTS).json()["results"]]
    assert sorted(everything) == sorted([first["id"], second["id"]])
    for query in ({"priority": "P1"}, {"ordering": "priority"}, {"ordering": "-priority"},
                  {"assignee": agent.pk}, {"unassigned": "true"}, {"assigned_to_me": "true"},
                  {"priority__in": "P1"}):  # fmt: skip
        r = client.get(REQUESTS, query)
        assert r.status_code == 200 and [x["id"] for x in r.json()["results"]] == everything, query
    # A word only in a hidden field finds nothing; search itself works.
    assert client.get(REQUESTS, {"search": "zebra-svc"}).json()["results"] == []
    assert len(client.get(REQUESTS, {"search": "laptop"}).json()["results"]) == 2
    # The control: an agent's filter does narrow the list.
    assert [x["id"] for x in api.as_user(agent).get(REQUESTS, {"priority": "P1"}).json()["results"]] == [first["id"]]


def test_a_customer_writing_a_hidden_field_is_refused_and_nothing_changes(api, manager, customer, category):
    item = make_item(api, manager, category)
    request = raise_request(api, customer, item)
    r = api.as_user(customer).patch(f"{REQUESTS}{request['id']}/", {"priority": "P1"}, format="json")
    assert r.status_code == 400 and "priority" in r.json()
    assert Request.objects.get(pk=request["id"]).priority != "P1"


def test_mine_lists_the_requests_i_raised(api, manager, customer, customer2, agent, category):
    item = make_item(api, manager, category)
    mine = raise_request(api, customer, item)
    for_me = raise_request(api, customer2, item, requested_for=customer.pk)
    client = api.as_user(customer)
    assert sorted(r["id"] for r in client.get(REQUESTS).json()["results"]) == sorted([mine["id"], for_me["id"]])
    assert [r["id"] for r in client.get(REQUESTS, {"mine": "true"}).json()["results"]] == [mine["id"]]
    assert len(api.as_user(agent).get(REQUESTS, {"mine": "true"}).json()["results"]) == 0


def test_summary_counts_my_requests_by_state(api, manager, customer, customer2, category):
    item = make_item(api, manager, category)
    approval_item = make_item(api, manager, category, name="Server", levels=[{"mode": "any", "users": [manager.pk]}])
    raise_request(api, customer, item)
    cancelled = raise_request(api, customer, item)
    act(api, customer, cancelled, "cancel")
    raise_request(api, customer, approval_item)
    raise_request(api, customer2, item)  # someone else's: not counted
    r = api.as_user(customer).get(f"{REQUESTS}summary/")
    assert r.status_code == 200, r.content
    body = r.json()
    counts = body.get("by_state", body)
    assert counts["approved"] == 1 and counts["cancelled"] == 1 and counts["pending_approval"] == 1
    assert counts.get("completed", 0) == 0


# --- Approval -----------------------------------------------------------------------------


def test_an_approver_finds_the_request_reads_it_and_approves_it(api, manager, customer, customer2, category):
    item = make_item(api, manager, category, levels=[{"mode": "any", "users": [customer2.pk]}])
    request = raise_request(api, customer, item)
    assert request["state"] == "pending_approval"
    approver = api.as_user(customer2)
    assert [r["id"] for r in approver.get(REQUESTS).json()["results"]] == [request["id"]]
    body = approver.get(f"{REQUESTS}{request['id']}/").json()
    assert body["form_data"]["laptop_model"] == "13-inch" and "priority" not in body
    r = act(api, customer2, request, "approve")
    assert r.status_code == 200 and r.json()["state"] == "approved", r.content
    approval = RequestApproval.objects.get(request_id=request["id"])
    assert approval.decision == "approved" and approval.decided_by == customer2
    assert AuditEntry.objects.filter(object_id=str(request["id"]), transition="approve").exists()


def test_every_mode_needs_every_approver_and_levels_go_in_order(
    api, manager, customer, customer2, customer3, customer4, category
):
    item = make_item(
        api, manager, category,
        levels=[{"mode": "every", "users": [customer2.pk, customer3.pk]}, {"mode": "any", "users": [customer4.pk]}],
    )  # fmt: skip
    request = raise_request(api, customer, item)
    # Level 2's approver is not asked yet: it cannot even read the request.
    assert act(api, customer4, request, "approve").status_code == 404
    r = act(api, customer2, request, "approve")
    assert r.status_code == 200 and r.json()["state"] == "pending_approval", r.content
    assert act(api, customer4, request, "approve").status_code == 404
    r = act(api, customer3, request, "approve")
    assert r.status_code == 200 and r.json()["state"] == "pending_approval", r.content
    r = act(api, customer4, request, "approve")
    assert r.status_code == 200 and r.json()["state"] == "approved", r.content
    decided = RequestApproval.objects.filter(request_id=request["id"]).values_list("level", "approver__username", "decision")
    assert sorted(decided) == [(1, "customer2", "approved"), (1, "customer3", "approved"), (2, "customer4", "approved")]


def test_an_agent_decides_the_current_level_for_everyone(api, manager, agent, customer, customer2, customer3, category):
    item = make_item(api, manager, category, levels=[{"mode": "every", "users": [customer2.pk, customer3.pk]}])
    request = raise_request(api, customer, item)
    r = act(api, agent, request, "approve")
    assert r.status_code == 200 and r.json()["state"] == "approved", r.content
    assert set(RequestApproval.objects.filter(request_id=request["id"]).values_list("decided_by__username", flat=True)) == {"agent"}


def test_any_mode_needs_one_approver(api, manager, customer, customer2, customer3, category):
    item = make_item(api, manager, category, levels=[{"mode": "any", "users": [customer2.pk, customer3.pk]}])
    request = raise_request(api, customer, item)
    assert act(api, customer3, request, "approve").json()["state"] == "approved"


def test_reject_needs_a_reason_and_one_rejection_rejects(api, manager, customer, customer2, customer3, category):
    item = make_item(api, manager, category, levels=[{"mode": "every", "users": [customer2.pk, customer3.pk]}])
    request = raise_request(api, customer, item)
    r = act(api, customer2, request, "reject", {"reason": "   "})
    assert r.status_code == 400 and "reason" in r.json(), r.content
    assert Request.objects.get(pk=request["id"]).state == "pending_approval"
    r = act(api, customer2, request, "reject", {"reason": "Not in the budget"})
    assert r.status_code == 200 and r.json()["state"] == "rejected", r.content
    assert RequestApproval.objects.get(request_id=request["id"], approver=customer2).reason == "Not in the budget"


def test_nobody_approves_a_request_they_raised(api, manager, lead, customer, category):
    item = make_item(api, manager, category, levels=[{"mode": "any", "users": [lead.pk]}])
    request = raise_request(api, lead, item)
    r = act(api, lead, request, "approve")
    assert r.status_code in (400, 403), r.content
    assert Request.objects.get(pk=request["id"]).state == "pending_approval"


def test_a_customer_who_is_not_an_approver_cannot_approve_its_own_request(api, manager, customer, customer2, category):
    item = make_item(api, manager, category, levels=[{"mode": "any", "users": [customer2.pk]}])
    request = raise_request(api, customer, item)
    assert act(api, customer, request, "approve").status_code in (400, 403)


# --- Fulfilment, completion, cancellation -------------------------------------------------


def test_fulfil_creates_the_items_tasks_for_their_groups(api, manager, agent, customer, category):
    desk, network = make_group("Desk", members=[agent]), make_group("Network")
    item = make_item(
        api, manager, category, fulfilment_group=desk.pk,
        templates=[{"short_description": "Order it", "assignment_group": network.pk},
                   {"short_description": "Set it up"}],
    )  # fmt: skip
    request = raise_request(api, customer, item)
    assert act(api, customer, request, "fulfil").status_code in (403, 404)
    r = act(api, agent, request, "fulfil")
    assert r.status_code == 200 and r.json()["state"] == "in_fulfilment", r.content
    tasks = api.as_user(agent).get(f"{REQUESTS}{request['id']}/tasks/").json()
    assert [(t["short_description"], t["assignment_group"]) for t in tasks] == [
        ("Order it", network.pk), ("Set it up", desk.pk)
    ]
    assert all(t["number"].startswith("TASK") for t in tasks)
    listed = api.as_user(agent).get("/api/v1/request-tasks/", {"request": request["id"]}).json()["results"]
    assert len(listed) == 2
    assert api.as_user(customer).get(f"{REQUESTS}{request['id']}/tasks/").status_code == 403


def test_complete_is_refused_while_a_task_is_open(api, manager, agent, customer, category):
    item = make_item(api, manager, category, templates=[{"short_description": "A"}, {"short_description": "B"}])
    request = raise_request(api, customer, item)
    act(api, agent, request, "fulfil")
    r = act(api, agent, request, "complete")
    assert r.status_code in (400, 409), r.content
    assert Request.objects.get(pk=request["id"]).state == "in_fulfilment"
    first, second = RequestTask.objects.filter(request_id=request["id"]).order_by("pk")
    assert api.as_user(agent).post(f"/api/v1/request-tasks/{first.pk}/close/").status_code == 200
    assert api.as_user(agent).post(f"/api/v1/request-tasks/{second.pk}/cancel/").status_code == 200
    r = act(api, agent, request, "complete", {"completion_notes": "Delivered."})
    assert r.status_code == 200 and r.json()["state"] == "completed", r.content
    assert api.as_user(customer).get(f"{REQUESTS}{request['id']}/").json()["state"] == "completed"


def test_a_customer_may_not_complete(api, manager, customer, category):
    item = make_item(api, manager, category)
    request = raise_request(api, customer, item)
    assert act(api, customer, request, "complete").status_code in (403, 404)
    assert Request.objects.get(pk=request["id"]).state == "approved"


def test_the_requester_cancels_before_fulfilment_but_not_after(api, manager, agent, customer, category):
    item = make_item(api, manager, category)
    early, late = raise_request(api, customer, item), raise_request(api, customer, item)
    r = act(api, customer, early, "cancel")
    assert r.status_code == 200 and r.json()["state"] == "cancelled", r.content
    act(api, agent, late, "fulfil")
    r = act(api, customer, late, "cancel")
    assert r.status_code in (400, 403), r.content
    assert Request.objects.get(pk=late["id"]).state == "in_fulfilment"


def test_the_person_a_request_is_for_may_not_cancel_it(api, manager, customer, customer2, category):
    """Issue 15: cancel by the requester; the requested-for person reads it but did not ask."""
    item = make_item(api, manager, category)
    request = raise_request(api, customer, item, requested_for=customer2.pk)
    r = act(api, customer2, request, "cancel")
    assert r.status_code == 403, r.content
    assert Request.objects.get(pk=request["id"]).state == "approved"


def test_a_finished_request_is_not_edited_by_agents_through_any_door_but_administrators_may(
    api, manager, agent, admin_user, customer, category
):
    """Assign is refused on a completed, rejected or cancelled request; a PATCH of the same fields
    is too (the policy's update rule), for agents — an ITSM administrator still corrects it."""
    group = make_group("Desk", members=[agent])
    item = make_item(api, manager, category)
    request = raise_request(api, customer, item)
    assert act(api, customer, request, "cancel").status_code == 200
    assert act(api, agent, request, "assign", {"assignee": agent.pk}).status_code == 403
    for body in ({"assignee": agent.pk}, {"assignment_group": group.pk}, {"priority": "P1"}):
        r = api.as_user(agent).patch(f"{REQUESTS}{request['id']}/", body, format="json")
        assert r.status_code == 403, (body, r.content)
    saved = Request.objects.get(pk=request["id"])
    assert (saved.assignee_id, saved.priority) == (None, item_priority(item))
    r = api.as_user(admin_user).patch(f"{REQUESTS}{request['id']}/", {"priority": "P1"}, format="json")
    assert r.status_code == 200, r.content
    assert Request.objects.get(pk=request["id"]).priority == "P1"


def item_priority(item) -> str:
    return CatalogItem.objects.get(pk=item["id"]).priority


def test_assign_sets_the_assignee_and_group(api, manager, agent, customer, category):
    group = make_group("Desk", members=[agent])
    item = make_item(api, manager, category)
    request = raise_request(api, customer, item)
    r = act(api, agent, request, "assign", {"assignee": agent.pk, "assignment_group": group.pk})
    assert r.status_code == 200 and (r.json()["assignee"], r.json()["assignment_group"]) == (agent.pk, group.pk)
    assert act(api, customer, request, "assign", {"assignee": agent.pk}).status_code in (400, 403)


# --- Notes and timeline -------------------------------------------------------------------


def test_customers_read_and_post_comments_only(api, manager, agent, customer, category):
    item = make_item(api, manager, category)
    request = raise_request(api, customer, item)
    notes = f"{REQUESTS}{request['id']}/notes/"
    assert api.as_user(agent).post(notes, {"kind": "work_note", "body": "internal-only"}, format="json").status_code == 201
    assert api.as_user(agent).post(notes, {"kind": "comment", "body": "On its way"}, format="json").status_code == 201
    r = api.as_user(customer).post(notes, {"body": "Thanks"}, format="json")
    assert r.status_code == 201 and r.json()["kind"] == "comment", r.content
    r = api.as_user(customer).post(notes, {"kind": "work_note", "body": "sneaky"}, format="json")
    assert r.status_code in (400, 403) and not RequestNote.objects.filter(body="sneaky").exists()
    seen = api.as_user(customer).get(notes).json()
    assert [n["body"] for n in seen] == ["On its way", "Thanks"]
    assert seen[0]["author"] == "Service desk"
    assert [n["body"] for n in api.as_user(agent).get(notes).json()] == ["internal-only", "On its way", "Thanks"]
    timeline = api.as_user(customer).get(f"{REQUESTS}{request['id']}/timeline/").json()
    assert "internal-only" not in str(timeline) and "On its way" in str(timeline)


def test_the_customer_timeline_names_no_hidden_field(api, manager, agent, customer, category):
    item = make_item(api, manager, category)
    request = raise_request(api, customer, item)
    api.as_user(agent).patch(f"{REQUESTS}{request['id']}/", {"priority": "P1", "service": "secret-svc"}, format="json")
    timeline = api.as_user(customer).get(f"{REQUESTS}{request['id']}/timeline/").json()
    assert "secret-svc" not in str(timeline) and not any(i["field"] in HIDDEN_ON_REQUEST for i in timeline)
    journal = api.as_user(customer).get(f"{REQUESTS}{request['id']}/journal/").json()
    assert not any(e["field"] in HIDDEN_ON_REQUEST for e in journal)


def test_the_requester_never_reads_who_approved_what_nor_the_approvers_comments(
    api, manager, customer, customer2, customer3, category
):
    """The requester learns the outcome; an approver's comment and the level it decided are the
    desk's and that approver's (the approvals), never in the requester's timeline or journal."""
    item = make_item(
        api, manager, category,
        levels=[{"mode": "any", "users": [customer2.pk]}, {"mode": "any", "users": [customer3.pk]}],
    )  # fmt: skip
    request = raise_request(api, customer, item)
    assert act(api, customer2, request, "approve", {"comment": "Budget holder says fine"}).status_code == 200
    assert act(api, customer3, request, "approve", {"comment": "Second opinion: ok"}).status_code == 200
    for path in ("timeline/", "journal/"):
        seen = str(api.as_user(customer).get(f"{REQUESTS}{request['id']}/{path}").json())
        assert "Budget holder" not in seen and "Second opinion" not in seen and "level 1" not in seen.lower()
    agents_view = str(api.as_user(manager).get(f"{REQUESTS}{request['id']}/timeline/").json())
    assert "Budget holder says fine" in agents_view


# --- Query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [3, 30])
def test_request_list_query_count_is_fixed_whatever_the_page_size(
    api, manager, customer, customer2, agent, category, page_size, django_assert_max_num_queries
):
    item = make_item(api, manager, category, levels=[{"mode": "every", "users": [customer2.pk, manager.pk]}])
    for _ in range(page_size):
        raise_request(api, customer, item)
    # An agent reads every decision; the requester none (they are the approvers' own).
    for user, decisions in ((agent, 2), (customer, 0), (customer2, 1)):
        client = api.as_user(user)
        # the token with its user and roles, the count, the page, its approvals (with their people)
        with django_assert_max_num_queries(4):
            r = client.get(REQUESTS, {"page_size": page_size})
        assert r.status_code == 200 and len(r.json()["results"]) == page_size
        assert all(len(x["approvals"]) == decisions for x in r.json()["results"]), user


@pytest.mark.parametrize("count", [2, 12])
def test_item_list_query_count_is_fixed_whatever_the_items(
    api, manager, customer, lead, category, count, django_assert_max_num_queries
):
    for n in range(count):
        make_item(api, manager, category, name=f"Item {n}", levels=[{"mode": "any", "users": [lead.pk]}],
                  templates=[{"short_description": "Do it"}])  # fmt: skip
    for user, most in ((manager, 6), (customer, 3)):
        client = api.as_user(user)
        # the token with its user and roles, the count, the page (with categories), levels, their
        # users, templates
        with django_assert_max_num_queries(most):
            r = client.get(ITEMS, {"page_size": 50})
        assert r.status_code == 200 and len(r.json()["results"]) == count


def test_request_detail_query_count_is_fixed_whatever_the_approvers(
    api, manager, agent, customer, organisation, category, django_assert_max_num_queries
):
    people = [make_user(f"approver{n}", *PERSONAS[Persona.EVERYONE], organisation=organisation) for n in range(8)]
    item = make_item(api, manager, category, levels=[{"mode": "every", "users": [p.pk for p in people]}])
    request = raise_request(api, customer, item)
    client = api.as_user(agent)
    # the token with its user and roles, the request, its approvals (with their people)
    with django_assert_max_num_queries(3):
        r = client.get(f"{REQUESTS}{request['id']}/")
    assert r.status_code == 200 and len(r.json()["approvals"]) == 8


# --- More of who may do what --------------------------------------------------------------


def test_an_approver_reads_the_request_but_may_not_edit_it(api, manager, customer, customer2, category):
    item = make_item(api, manager, category, levels=[{"mode": "any", "users": [customer2.pk]}])
    request = raise_request(api, customer, item)
    r = api.as_user(customer2).patch(f"{REQUESTS}{request['id']}/", {"description": "changed"}, format="json")
    assert r.status_code in (400, 403), r.content
    assert Request.objects.get(pk=request["id"]).description != "changed"
    assert act(api, customer2, request, "cancel").status_code in (400, 403)


def test_customers_see_only_active_categories(api, manager, customer, category):
    hidden = api.as_user(manager).post(CATEGORIES, {"name": "Retired", "active": False}, format="json").json()
    names = [c["name"] for c in api.as_user(customer).get(CATEGORIES).json()["results"]]
    assert names == ["Hardware"]
    assert api.as_user(customer).get(f"{CATEGORIES}{hidden['id']}/").status_code == 404
    assert len(api.as_user(manager).get(CATEGORIES).json()["results"]) == 2


def test_an_unknown_field_type_is_named_with_its_place(api, manager, category):
    r = api.as_user(manager).post(
        ITEMS, {"category": category["id"], "name": "X", "form_fields": [{"name": "a", "label": "A", "type": "colour"}]},
        format="json",
    )
    assert r.status_code == 400 and "form_fields[0].type" in r.json(), r.content


def test_editing_an_items_form_leaves_raised_requests_as_they_were(api, manager, customer, category):
    item = make_item(api, manager, category)
    request = raise_request(api, customer, item)
    r = api.as_user(manager).patch(
        f"{ITEMS}{item['id']}/", {"form_fields": [{"name": "colour", "label": "Colour", "type": "text"}]}, format="json"
    )
    assert r.status_code == 200 and [f["name"] for f in r.json()["form_fields"]] == ["colour"], r.content
    body = api.as_user(customer).get(f"{REQUESTS}{request['id']}/").json()
    assert body["form_data"]["laptop_model"] == "13-inch"
    assert Request.objects.get(pk=request["id"]).form_snapshot[1]["name"] == "laptop_model"


def test_deactivate_and_activate_are_actions_of_the_catalog_manager(api, manager, agent, customer, category):
    item = make_item(api, manager, category)
    request = raise_request(api, customer, item)
    assert api.as_user(agent).post(f"{ITEMS}{item['id']}/deactivate/").status_code == 403
    r = api.as_user(manager).post(f"{ITEMS}{item['id']}/deactivate/")
    assert r.status_code == 200 and r.json()["active"] is False, r.content
    assert api.as_user(customer).get(ITEMS).json()["results"] == []
    assert api.as_user(customer).get(f"{REQUESTS}{request['id']}/").status_code == 200
    r = api.as_user(manager).post(f"{ITEMS}{item['id']}/activate/")
    assert r.status_code == 200 and r.json()["active"] is True
    assert len(api.as_user(customer).get(ITEMS).json()["results"]) == 1


def test_a_level_without_approvers_is_a_400_naming_it(api, manager, category):
    r = api.as_user(manager).post(
        ITEMS, {"category": category["id"], "name": "X", "approval_levels": [{"mode": "any"}]}, format="json"
    )
    assert r.status_code == 400 and "approval_levels[0]" in r.json(), r.content
    assert not CatalogItem.objects.exists()
