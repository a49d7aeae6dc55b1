"""The service catalog in the self-service portal: Browse, the request form, My Requests, the
Approval Queue and a request's page — what each reader sees there, and what it may do."""

import re
from html import unescape

import pytest
from django.urls import reverse

from catalog import services, workflows
from catalog.models import Request, RequestNote
from conftest import make_user
from itsm.models import TaskState
from itsm.roles import PERSONAS, Persona
from itsm.workflow import task_transition
from tests.catalog.factories import LAPTOP_FORM, make_category, make_group, make_item, make_request

pytestmark = pytest.mark.django_db

BROWSE = reverse("portal:catalog")
LIST = reverse("portal:request-list")
QUEUE = reverse("portal:approval-queue")
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')
# Session, user with its roles, then the page's own reads: a count and a page of rows. Never one per row.
LIST_QUERY_BOUND = 7


def html_of(response) -> str:
    """The page as text, without the random CSRF tokens (which may spell anything by chance)."""
    return CSRF_INPUT.sub("", unescape(response.content.decode()))


def url(name, obj):
    return reverse(f"portal:{name}", args=[obj.pk])


@pytest.fixture
def outsider(other_organisation):
    return make_user("outsider", *PERSONAS[Persona.EVERYONE], organisation=other_organisation)


@pytest.fixture
def laptop(manager):
    category = make_category("Hardware", by=manager, description="Things you can hold.")
    return make_item("Laptop", by=manager, category=category, description="A work laptop.", form_fields=LAPTOP_FORM)


@pytest.fixture
def approved_item(manager, customer2):
    """An item whose one approval level is customer2's."""
    return make_item(
        "VPN access", by=manager, description="Remote access.",
        levels=[{"mode": "any", "users": [customer2]}],
        form_fields=[{"name": "reason", "label": "Why do you need it?", "type": "textarea", "required": True}],
    )  # fmt: skip


# --- Browse ------------------------------------------------------------------------------------


def test_browse_lists_active_items_by_category_and_never_deactivated_ones(client, customer, manager, laptop):
    software = make_category("Software", by=manager)
    make_item("Photo editor", by=manager, category=software, description="Edit pictures.")
    gone = make_item("Fax machine", by=manager, category=software)
    services.item_deactivate(item=gone, actor=manager)
    client.force_login(customer)
    html = html_of(client.get(BROWSE))
    assert "Hardware" in html and "Software" in html
    assert f'href="{url("catalog-item", laptop)}"' in html
    assert "Photo editor" in html and "Edit pictures." in html
    assert "Fax machine" not in html
    items = html[html.index('class="catalog-group"'):]
    assert items.index("Hardware") < items.index("Laptop") < items.index("Software") < items.index("Photo editor")


def test_browse_search_matches_name_or_description_and_says_when_nothing_does(client, customer, manager, laptop):
    make_item("Photo editor", by=manager, description="Edit pictures.")
    client.force_login(customer)
    html = html_of(client.get(BROWSE, {"q": "pictures"}))
    assert "Photo editor" in html and "Laptop" not in html
    html = html_of(client.get(BROWSE, {"q": "LAPTOP"}))
    assert "Laptop" in html and "Photo editor" not in html
    html = html_of(client.get(BROWSE, {"q": "submarine"}))
    assert "Nothing in the catalog matches “submarine”" in html


def test_browse_one_category(client, customer, manager, laptop):
    software = make_category("Software", by=manager)
    make_item("Photo editor", by=manager, category=software)
    client.force_login(customer)
    html = html_of(client.get(BROWSE, {"category": software.pk}))
    assert "Photo editor" in html and f'href="{url("catalog-item", laptop)}"' not in html
    html = html_of(client.get(BROWSE, {"category": "999999"}))
    assert "There is no such category" in html and "Photo editor" in html and "Laptop" in html


def test_deactivated_item_has_no_request_form(client, customer, manager, laptop):
    services.item_deactivate(item=laptop, actor=manager)
    client.force_login(customer)
    assert client.get(url("catalog-item", laptop)).status_code == 404
    assert client.post(url("catalog-item", laptop), {"start_date": "2030-01-01"}).status_code == 404
    assert not Request.objects.exists()


# --- The request form ----------------------------------------------------------------------


def test_request_form_shows_the_items_fields_with_their_help_and_options(client, customer, laptop):
    client.force_login(customer)
    response = client.get(url("catalog-item", laptop))
    assert response.status_code == 200
    html = html_of(response)
    for text in ("Laptop", "A work laptop.", "Need a laptop?", "Laptop model", "13-inch", "15-inch", "Start date"):
        assert text in html, text
    assert 'data-show-if-field="needs_laptop"' in html and 'data-show-if-value="true"' in html
    assert 'type="date"' in html
    # A hidden-type field never reaches the customer's browser: the service injects its default.
    assert 'name="cost_centre"' not in html and "IT-100" not in html and "Cost centre" not in html


def test_customer_submits_a_request_and_lands_on_its_page_with_the_answers(client, customer, laptop):
    client.force_login(customer)
    response = client.post(
        url("catalog-item", laptop),
        {"needs_laptop": "on", "laptop_model": "15-inch", "start_date": "2030-02-01", "cost_centre": "HACKED",
         "meta-requested_for": customer.pk},
    )  # fmt: skip
    req = Request.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("request-detail", req)
    assert req.requester == customer and req.requested_for is None
    assert req.catalog_item == laptop
    assert req.form_data == {"needs_laptop": True, "laptop_model": "15-inch", "start_date": "2030-02-01",
                             "cost_centre": "IT-100"}  # fmt: skip
    html = html_of(client.get(response["Location"]))
    assert f"We have received your request {req.number}." in html
    for text in ("Need a laptop?", "Yes", "Laptop model", "15-inch", "Start date", "2030-02-01"):
        assert text in html, text
    assert "IT-100" not in html and "Cost centre" not in html  # hidden-type answers are the desk's


def test_refused_submit_shows_every_fields_error_with_400_and_writes_nothing(client, customer, laptop):
    client.force_login(customer)
    response = client.post(url("catalog-item", laptop), {"needs_laptop": "on", "start_date": "01/02/2030"})
    assert response.status_code == 400
    html = html_of(response)
    assert "Laptop model is required." in html
    assert "Start date: enter a date as YYYY-MM-DD." in html
    assert 'value="01/02/2030"' in html  # what was typed comes back to be corrected
    assert not Request.objects.exists()


def test_a_field_its_condition_hides_is_not_required(client, customer, laptop):
    client.force_login(customer)
    response = client.post(url("catalog-item", laptop), {"start_date": "2030-02-01", "meta-requested_for": customer.pk})
    assert response.status_code == 302
    assert Request.objects.get().form_data == {"needs_laptop": False, "start_date": "2030-02-01", "cost_centre": "IT-100"}


def test_requested_for_is_typed_lists_nobody_and_names_only_my_organisation(client, customer, customer2, outsider, laptop):
    client.force_login(customer)
    html = html_of(client.get(url("catalog-item", laptop)))
    assert 'name="meta-requested_for" value=""' in html
    picker = html.split('name="meta-requested_for"')[1].split("</div>")[0]
    assert "<option" not in picker and "customer2" not in html and "outsider" not in html
    response = client.post(url("catalog-item", laptop), {"start_date": "2030-02-01", "meta-requested_for": "outsider"})
    assert response.status_code == 400
    assert "No one called “outsider” can be named here." in html_of(response)
    assert not Request.objects.exists()
    response = client.post(url("catalog-item", laptop), {"start_date": "2030-02-01", "meta-requested_for": "customer2"})
    assert response.status_code == 302
    assert Request.objects.get().requested_for == customer2


# --- My Requests ---------------------------------------------------------------------------


def test_my_requests_lists_what_i_raised_newest_first_not_others(client, customer, customer2, manager):
    first = make_request(requester=customer, item=make_item("Monitor", by=manager))
    second = make_request(requester=customer, item=make_item("Keyboard", by=manager))
    theirs = make_request(requester=customer2, item=make_item("Desk lamp", by=manager))
    client.force_login(customer)
    html = html_of(client.get(LIST))
    assert f'href="{url("request-detail", first)}"' in html and "Keyboard" in html
    assert "Desk lamp" not in html and theirs.number not in html
    assert html.index(second.number) < html.index(first.number)


def test_my_requests_filters_by_state_and_refuses_an_unknown_one(client, customer, manager):
    waiting = make_request(requester=customer, item=make_item("Monitor", by=manager))
    cancelled = make_request(requester=customer, item=make_item("Keyboard", by=manager))
    workflows.request_cancel(request=cancelled, actor=customer)
    client.force_login(customer)
    html = html_of(client.get(LIST, {"state": "cancelled"}))
    assert cancelled.number in html and waiting.number not in html
    html = html_of(client.get(LIST, {"state": "approved"}))
    assert waiting.number in html and cancelled.number not in html
    response = client.get(LIST, {"state": "priority"})
    assert response.status_code == 400
    assert "Choose one of the listed states, or All." in html_of(response)


def test_my_requests_query_count_is_fixed_whatever_the_number_of_requests(client, customer, manager, django_assert_max_num_queries):
    item = make_item("Monitor", by=manager)
    make_request(requester=customer, item=item)
    client.force_login(customer)
    client.get(LIST)
    with django_assert_max_num_queries(LIST_QUERY_BOUND) as few:
        assert client.get(LIST).status_code == 200
    for _ in range(12):
        make_request(requester=customer, item=item)
    with django_assert_max_num_queries(LIST_QUERY_BOUND) as many:
        assert client.get(LIST).status_code == 200
    assert len(few) == len(many)


# --- The request page ----------------------------------------------------------------------


def test_another_customers_request_is_404_everywhere(client, customer, customer2, manager):
    req = make_request(requester=customer2, item=make_item("Monitor", by=manager))
    client.force_login(customer)
    assert client.get(url("request-detail", req)).status_code == 404
    for name in ("request-comment", "request-cancel", "request-approve", "request-reject", "request-complete"):
        assert client.post(url(name, req), {"body": "Hi", "reason": "No"}).status_code == 404, name
    req.refresh_from_db()
    assert req.state == "approved"
    assert not RequestNote.objects.exists()
    assert client.get(reverse("portal:request-detail", args=[2**70])).status_code == 404


def test_action_urls_accept_only_post(client, customer, manager):
    req = make_request(requester=customer, item=make_item("Monitor", by=manager))
    client.force_login(customer)
    for name in ("request-comment", "request-cancel", "request-approve", "request-reject", "request-complete"):
        assert client.get(url(name, req)).status_code == 405


SECRETS = ("zz-secret-agent", "ZZ Secret Group", "zz-secret-work-note", "zz-secret-completion", "Priority",
           "P1", "Assignee", "Assignment group", "Work note", "Completion notes", "SLA")  # fmt: skip


def test_hidden_fields_never_appear_on_the_customers_request_page(client, customer, agent, manager):
    secret_agent = make_user("zz-secret-agent", *PERSONAS[Persona.L2_AGENT])
    group = make_group("ZZ Secret Group", members=[secret_agent])
    item = make_item("Monitor", by=manager, priority="P1", fulfilment_group=group)
    req = make_request(requester=customer, item=item)
    services.request_assign(request=req, actor=agent, assignee=secret_agent, assignment_group=group)
    services.request_note_add(request=req, actor=agent, kind=RequestNote.Kind.WORK_NOTE, body="zz-secret-work-note")
    services.request_note_add(request=req, actor=agent, kind=RequestNote.Kind.COMMENT, body="It ships Monday.")
    req = workflows.request_complete(request=req, actor=agent, completion_notes="zz-secret-completion")
    client.force_login(customer)
    html = html_of(client.get(url("request-detail", req)))
    assert "It ships Monday." in html and "Service desk" in html and "Completed" in html
    for secret in SECRETS:
        assert secret not in html, secret
    for page in (LIST, BROWSE, reverse("portal:home")):
        html = html_of(client.get(page))
        for secret in SECRETS:
            assert secret not in html, (page, secret)


def test_answers_keep_the_labels_of_the_form_as_it_was_submitted(client, customer, manager, laptop):
    req = make_request(requester=customer, item=laptop, form_data={"start_date": "2030-03-01"})
    renamed = [dict(field) for field in LAPTOP_FORM]
    renamed[2]["label"] = "First day"
    services.item_update(item=laptop, actor=manager, form_fields=renamed)
    client.force_login(customer)
    html = html_of(client.get(url("request-detail", req)))
    assert "Start date" in html and "First day" not in html


def test_a_deactivated_items_requests_stay_intact(client, customer, manager, laptop):
    req = make_request(requester=customer, item=laptop, form_data={"start_date": "2030-03-01"})
    services.item_deactivate(item=laptop, actor=manager)
    client.force_login(customer)
    response = client.get(url("request-detail", req))
    assert response.status_code == 200
    html = html_of(response)
    assert "Laptop" in html and "Start date" in html and "2030-03-01" in html
    assert req.number in html_of(client.get(LIST))


def test_hidden_type_answers_are_shown_to_request_managers(client, customer, agent, laptop):
    req = make_request(requester=customer, item=laptop, form_data={"start_date": "2030-03-01"})
    client.force_login(agent)
    html = html_of(client.get(url("request-detail", req)))
    assert "Cost centre" in html and "IT-100" in html


def test_the_colleague_it_is_for_reads_it_but_may_not_cancel_it(client, customer, customer2, manager):
    req = make_request(requester=customer, item=make_item("Monitor", by=manager), requested_for=customer2)
    client.force_login(customer2)
    html = html_of(client.get(url("request-detail", req)))
    assert req.number in html and "Cancel this request" not in html and "Add a comment" in html
    assert req.number not in html_of(client.get(LIST))  # My Requests lists what I raised
    response = client.post(url("request-cancel", req))
    assert response.status_code == 403
    req.refresh_from_db()
    assert req.state == "approved"


def test_comment_appears_in_the_conversation_and_an_empty_one_is_refused(client, customer, manager):
    req = make_request(requester=customer, item=make_item("Monitor", by=manager))
    client.force_login(customer)
    html = html_of(client.get(url("request-detail", req)))
    assert "Add a comment" in html
    response = client.post(url("request-comment", req), {"body": "  "})
    assert response.status_code == 400
    assert "Write your comment first." in html_of(response)
    response = client.post(url("request-comment", req), {"body": "Black, please."}, follow=True)
    html = html_of(response)
    assert "Your comment has been added." in html and "Black, please." in html and "You" in html
    assert RequestNote.objects.get().kind == RequestNote.Kind.COMMENT


def test_requester_cancels_before_fulfilment_but_not_after(client, customer, agent, manager):
    item = make_item("Monitor", by=manager)
    req = make_request(requester=customer, item=item)
    client.force_login(customer)
    assert "Cancel this request" in html_of(client.get(url("request-detail", req)))
    response = client.post(url("request-cancel", req), follow=True)
    assert f"{req.number} has been cancelled." in html_of(response)
    req.refresh_from_db()
    assert req.state == "cancelled"
    started = workflows.request_fulfil(request=make_request(requester=customer, item=item), actor=agent)
    html = html_of(client.get(url("request-detail", started)))
    assert "Cancel this request" not in html
    response = client.post(url("request-cancel", started))
    assert response.status_code in (400, 403)
    assert "cannot cancel it now" in html_of(response)
    started.refresh_from_db()
    assert started.state == "in_fulfilment"


def test_mark_complete_is_offered_to_request_managers_only_once_every_task_is_done(client, customer, agent, manager):
    group = make_group("Desk", members=[agent])
    item = make_item("Monitor", by=manager, templates=[{"short_description": "Order it", "assignment_group": group}])
    req = workflows.request_fulfil(request=make_request(requester=customer, item=item), actor=agent)
    page = url("request-detail", req)
    client.force_login(customer)
    html = html_of(client.get(page))
    assert "Mark complete" not in html and ">Close</a>" in html and f'href="{LIST}"' in html
    client.force_login(agent)
    html = html_of(client.get(page))
    assert "Mark complete" not in html and ">Close</a>" in html  # a task is still open
    task = req.tasks.get()
    task_transition(task=task, actor=agent, name="close")
    assert req.tasks.get().state == TaskState.CLOSED
    html = html_of(client.get(page))
    assert "Mark complete" in html and ">Close</a>" not in html
    client.force_login(customer)
    assert client.post(url("request-complete", req)).status_code in (400, 403)
    req.refresh_from_db()
    assert req.state == "in_fulfilment"
    client.force_login(agent)
    response = client.post(url("request-complete", req), follow=True)
    assert f"{req.number} is complete." in html_of(response)
    req.refresh_from_db()
    assert req.state == "completed"
    client.force_login(customer)
    html = html_of(client.get(page))
    assert "Completed" in html and "Mark complete" not in html


# --- Approvals -----------------------------------------------------------------------------


def test_approver_finds_the_request_in_the_queue_and_approves_it(client, customer, customer2, approved_item):
    req = make_request(requester=customer, item=approved_item, form_data={"reason": "Working from home."})
    assert req.state == "pending_approval"
    client.force_login(customer2)
    html = html_of(client.get(QUEUE))
    assert req.number in html and "VPN access" in html and "Asked by customer" in html
    assert "Approval queue" in html_of(client.get(BROWSE))  # the tab shows while something waits
    html = html_of(client.get(url("request-detail", req)))
    assert "Working from home." in html and "waiting for your decision" in html
    response = client.post(url("request-approve", req), {"next": "queue"})
    assert response.status_code == 302 and response["Location"] == QUEUE
    req.refresh_from_db()
    assert req.state == "approved"
    html = html_of(client.get(QUEUE))
    assert f"You approved {req.number}." in html and "Nothing is waiting for your decision." in html
    html = html_of(client.get(url("request-detail", req)))  # the approver still reads what it decided
    assert "Approved" in html and "by you" in html and "waiting for your decision" not in html


def test_only_the_requester_is_offered_cancel_not_the_person_it_is_for(client, customer, customer2):
    req = make_request(requester=customer, requested_for=customer2)
    client.force_login(customer2)
    assert url("request-cancel", req) not in html_of(client.get(url("request-detail", req)))
    assert client.post(url("request-cancel", req), {}).status_code in (403, 404)
    assert Request.objects.get(pk=req.pk).state == "approved"
    client.force_login(customer)
    assert url("request-cancel", req) in html_of(client.get(url("request-detail", req)))


def current_nav(html) -> list[str]:
    """The site navigation's current item(s)."""
    nav = html.split("</nav>", 1)[0]
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]*)</a>', nav)


def test_the_navigation_follows_the_readers_relation_to_the_request(client, customer, customer2, approved_item):
    """An approver opened the request from its Approval Queue: the site navigation shows the
    service catalog (where the queue is), not "My requests"; the requester's is My requests."""
    req = make_request(requester=customer, item=approved_item, form_data={"reason": "Working from home."})
    client.force_login(customer2)
    assert current_nav(html_of(client.get(url("request-detail", req)))) == ["Service catalog"]
    client.force_login(customer)
    assert current_nav(html_of(client.get(url("request-detail", req)))) == ["My requests"]


def test_approver_rejects_with_a_reason_the_requester_then_reads(client, customer, customer2, approved_item):
    req = make_request(requester=customer, item=approved_item, form_data={"reason": "Because."})
    client.force_login(customer2)
    response = client.post(url("request-reject", req), {"reason": "   "})
    assert response.status_code == 400
    assert "Say why you are rejecting the request." in html_of(response)
    req.refresh_from_db()
    assert req.state == "pending_approval"
    response = client.post(url("request-reject", req), {"reason": "Use the office network."}, follow=True)
    assert f"You rejected {req.number}." in html_of(response)
    client.force_login(customer)
    html = html_of(client.get(url("request-detail", req)))
    assert "Rejected" in html and "Use the office network." in html


def test_customer_without_approvals_gets_no_queue_tab_and_an_empty_queue(client, customer, customer2, approved_item):
    make_request(requester=customer, item=approved_item, form_data={"reason": "Because."})
    client.force_login(customer)  # the requester is no approver of its own request
    assert "Approval queue" not in html_of(client.get(BROWSE))
    html = html_of(client.get(QUEUE))
    assert "Nothing is waiting for your decision." in html


def test_requester_never_gets_approve_buttons_even_as_an_agent(client, agent, manager):
    item = make_item("Server", by=manager, levels=[{"mode": "any", "users": [manager]}])
    req = make_request(requester=agent, item=item)
    client.force_login(agent)
    html = html_of(client.get(QUEUE))
    assert req.number not in html
    assert "waiting for your decision" not in html_of(client.get(url("request-detail", req)))
    response = client.post(url("request-approve", req))
    assert response.status_code == 403
    assert "someone else must approve it" in html_of(response)
    req.refresh_from_db()
    assert req.state == "pending_approval"


def test_request_managers_see_every_pending_approval_and_may_decide_it(client, customer, customer2, agent, approved_item):
    req = make_request(requester=customer, item=approved_item, form_data={"reason": "Because."})
    client.force_login(agent)
    html = html_of(client.get(QUEUE))
    assert req.number in html and "Every request waiting for an approval decision" in html
    response = client.post(url("request-approve", req), follow=True)
    assert response.status_code == 200
    req.refresh_from_db()
    assert req.state == "approved"


# --- Home, navigation ------------------------------------------------------------------------


def test_home_counts_my_requests_by_state_with_links_to_the_filtered_list(client, customer, manager):
    item = make_item("Monitor", by=manager)
    make_request(requester=customer, item=item)
    make_request(requester=customer, item=item)
    workflows.request_cancel(request=make_request(requester=customer, item=item), actor=customer)
    client.force_login(customer)
    html = html_of(client.get(reverse("portal:home")))
    assert "My requests" in html
    assert f'href="{LIST}?state=approved"' in html and "2 approved" in " ".join(html.split()).replace("</strong> ", " ").replace("<strong>", "")
    assert f'href="{LIST}?state=cancelled"' in html


def test_navigation_links_to_the_catalog_and_my_requests(client, customer):
    client.force_login(customer)
    html = html_of(client.get(reverse("portal:home")))
    assert f'href="{BROWSE}"' in html and f'href="{LIST}"' in html


def test_portal_catalog_pages_need_signing_in(client, laptop):
    for path in (BROWSE, LIST, QUEUE, url("catalog-item", laptop)):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --- Fixed query counts ----------------------------------------------------------------------

# Session, user with its roles, then the page's own reads (detail: the request, its decisions, comments,
# the approver check, the tab strip's count, and for an approver one grant check per policy
# question, the attachments card's files and whether the reader may attach). Never one per
# comment, row, item or file.
PAGE_QUERY_BOUND = 17


def queries(client, path, django_assert_max_num_queries) -> int:
    client.get(path)  # warm process-wide caches (content types), which no page size changes
    with django_assert_max_num_queries(PAGE_QUERY_BOUND) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_request_page_query_count_is_fixed_whatever_the_number_of_comments(
    client, customer, customer2, agent, approved_item, django_assert_max_num_queries
):
    req = make_request(requester=customer, item=approved_item, form_data={"reason": "Because."})
    path = url("request-detail", req)
    client.force_login(customer2)
    few = queries(client, path, django_assert_max_num_queries)
    for n in range(8):
        services.request_note_add(request=req, actor=agent, kind=RequestNote.Kind.COMMENT, body=f"Note {n}")
        services.request_note_add(request=req, actor=customer, kind=RequestNote.Kind.COMMENT, body=f"Reply {n}")
    assert queries(client, path, django_assert_max_num_queries) == few


def test_approval_queue_query_count_is_fixed_whatever_the_number_waiting(
    client, customer, customer2, approved_item, django_assert_max_num_queries
):
    make_request(requester=customer, item=approved_item, form_data={"reason": "One."})
    client.force_login(customer2)
    few = queries(client, QUEUE, django_assert_max_num_queries)
    for n in range(10):
        make_request(requester=customer, item=approved_item, form_data={"reason": f"More {n}."})
    assert queries(client, QUEUE, django_assert_max_num_queries) == few


def test_browse_query_count_is_fixed_whatever_the_number_of_items(client, customer, manager, django_assert_max_num_queries):
    category = make_category("Hardware", by=manager)
    make_item("Laptop", by=manager, category=category)
    client.force_login(customer)
    few = queries(client, BROWSE, django_assert_max_num_queries)
    for n in range(10):
        make_item(f"Item {n}", by=manager, category=make_category(f"Category {n}", by=manager) if n % 3 else category)
    assert queries(client, BROWSE, django_assert_max_num_queries) == few
