"""What the doors read (issue 15, point 8) and who is told what (point 10): a customer's requests
and their summary in one query, the approvals awaiting someone, the timeline without what a
customer may not read; approvers, requester and fulfilment group told, never the actor, and a
customer never told an agent's name."""

from __future__ import annotations

import pytest
from django.core import mail

from catalog import selectors, services, workflows
from catalog.models import Request
from conftest import make_user
from itsm.roles import PERSONAS, Persona
from notifications.models import Kind, Notification
from tests.catalog.factories import make_category, make_group, make_item, make_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(organisation):
    return make_user("boss", *PERSONAS[Persona.EVERYONE], organisation=organisation)


@pytest.fixture
def needs_boss(boss):
    return make_item("Laptop", levels=[{"mode": "any", "users": [boss.pk]}])


# --- My requests, summary ---------------------------------------------------------------------


def test_my_requests_are_the_ones_i_raised_newest_first(customer, customer2):
    mine = [make_request(requester=customer) for _ in range(2)]
    make_request(requester=customer2, requested_for=customer)
    make_request(requester=customer2)
    assert list(selectors.my_requests(customer)) == mine[::-1]


def test_the_summary_counts_my_requests_by_state_in_one_query(customer, customer2, agent, needs_boss, boss,
                                                              django_assert_num_queries):
    make_request(requester=customer, item=needs_boss)
    make_request(requester=customer, item=needs_boss)
    workflows.request_complete(request=make_request(requester=customer), actor=agent)
    workflows.request_cancel(request=make_request(requester=customer), actor=customer)
    make_request(requester=customer2)
    with django_assert_num_queries(1):
        summary = selectors.summary(customer)
    assert summary == {
        "total": 4,
        "by_state": {"submitted": 0, "pending_approval": 2, "approved": 0, "rejected": 0, "in_fulfilment": 0,
                     "completed": 1, "cancelled": 1},
    }  # fmt: skip


# --- Approvals awaiting -----------------------------------------------------------------------


def test_an_approver_sees_what_awaits_its_decision_and_no_more(customer, boss, needs_boss, organisation):
    other = make_user("other", *PERSONAS[Persona.EVERYONE], organisation=organisation)
    waiting = make_request(requester=customer, item=needs_boss)
    decided = workflows.request_approve(request=make_request(requester=customer, item=needs_boss), actor=boss)
    make_request(requester=customer)
    assert list(selectors.approvals_awaiting(boss)) == [waiting]
    assert selectors.has_approvals_awaiting(boss)
    assert selectors.awaits_decision(boss, waiting)
    assert not selectors.awaits_decision(boss, decided)
    assert list(selectors.approvals_awaiting(other)) == []
    assert not selectors.has_approvals_awaiting(other)


def test_the_service_desk_sees_every_pending_approval_but_its_own(customer, agent, boss, needs_boss):
    first = make_request(requester=customer, item=needs_boss)
    second = make_request(requester=customer, item=needs_boss)
    make_request(requester=agent, item=needs_boss)
    assert list(selectors.approvals_awaiting(agent)) == [first, second]
    assert selectors.awaits_decision(agent, first)


def test_the_approval_queue_reads_in_a_fixed_number_of_queries(customer, boss, needs_boss, agent,
                                                              django_assert_max_num_queries):
    def read(user):
        return [(r.number, r.catalog_item.name, r.requester.username) for r in selectors.approvals_awaiting(user)]

    for _ in range(3):
        make_request(requester=customer, item=needs_boss)
    with django_assert_max_num_queries(2):
        assert len(read(boss)) == 3
    with django_assert_max_num_queries(2):
        assert len(read(agent)) == 3
    for _ in range(5):
        make_request(requester=customer, item=needs_boss)
    with django_assert_max_num_queries(2):
        assert len(read(boss)) == 8


def test_an_approver_reads_its_own_decision_rows_only(customer, boss, agent, organisation):
    second = make_user("second", *PERSONAS[Persona.EVERYONE], organisation=organisation)
    item = make_item(levels=[{"mode": "every", "users": [boss.pk, second.pk]}])
    request = make_request(requester=customer, item=item)
    assert [a.approver for a in selectors.approvals_for(boss, request)] == [boss]
    assert {a.approver for a in selectors.approvals_for(agent, request)} == {boss, second}
    assert not selectors.approvals_for(customer, request).exists()


# --- Timeline, form rows ----------------------------------------------------------------------


def test_a_customer_timeline_has_no_work_notes_nor_hidden_fields(customer, agent, needs_boss, boss):
    request = make_request(requester=customer, item=needs_boss)
    services.request_note_add(request=request, actor=agent, kind="work_note", body="Check stock first")
    services.request_note_add(request=request, actor=agent, kind="comment", body="We are on it")
    request = services.request_assign(request=request, actor=agent, assignee=agent)
    request = workflows.request_reject(request=request, actor=boss, reason="Budget is spent")
    seen = selectors.request_timeline(customer, request)
    texts = " ".join(f"{i['text']} {i['field']} {i['old_value']} {i['new_value']} {i['actor']}" for i in seen)
    assert "We are on it" in texts and "Budget is spent" in texts
    assert "Check stock first" not in texts
    assert not {"assignee", "approval_level", "priority", "work_journal"} & {i["field"] for i in seen}
    assert "agent" not in [i["actor"] for i in seen]  # the desk acts as "Service desk"
    agents_view = selectors.request_timeline(agent, request)
    assert "Check stock first" in " ".join(i["text"] for i in agents_view)
    assert selectors.request_timeline(make_user("stranger", *PERSONAS[Persona.EVERYONE]), request) == []


def test_form_rows_label_the_answers_as_the_form_did(customer, manager):
    item = make_item(form_fields=[
        {"name": "model", "label": "Laptop model", "type": "dropdown", "options": ["13-inch"], "required": True},
        {"name": "dock", "label": "Dock", "type": "checkbox"},
    ])  # fmt: skip
    request = make_request(requester=customer, item=item, form_data={"model": "13-inch"})
    services.item_update(item=item, actor=manager, form_fields=[])
    request.refresh_from_db()
    assert selectors.form_rows(customer, request) == [
        {"name": "model", "label": "Laptop model", "type": "dropdown", "value": "13-inch"},
        {"name": "dock", "label": "Dock", "type": "checkbox", "value": "No"},
    ]


def test_browse_lists_active_items_of_active_categories_with_search(customer, manager):
    hardware = make_category("Hardware", by=manager)
    laptop = make_item("Laptop", by=manager, category=hardware, description="A portable computer")
    make_item("Old phone", by=manager, category=hardware, active=False)
    make_item("Screen", by=manager, category=make_category("Gone", by=manager, active=False))
    assert list(selectors.browse(customer)) == [laptop]
    assert list(selectors.browse(customer, q="portable")) == [laptop]
    assert list(selectors.browse(customer, q="phone")) == []


# --- Notices ----------------------------------------------------------------------------------


def test_who_is_told_along_a_request_and_never_the_actor(customer, boss, agent, lead, organisation,
                                                        django_capture_on_commit_callbacks):
    desk = make_group("Desk", members=[agent, lead])
    item = make_item(
        levels=[{"mode": "any", "users": [boss.pk]}], fulfilment_group=desk,
        templates=[{"short_description": "Image it"}],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(requester=customer, item=item)
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([boss.email], f"Request {request.number} awaits your approval")
    ]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = workflows.request_approve(request=request, actor=boss)
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == sorted([
        (customer.email, f"Request {request.number} is approved"),
        (agent.email, f"Request {request.number} is ready to fulfil"),
        (lead.email, f"Request {request.number} is ready to fulfil"),
    ])  # fmt: skip
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = workflows.request_fulfil(request=request, actor=agent)
    assert [(m.to, m.subject) for m in mail.outbox] == [([lead.email], f"Tasks to fulfil request {request.number}")]
    assert "Image it" in mail.outbox[0].body
    assert Notification.objects.filter(recipient=lead, kind=Kind.REQUEST_TASKS).exists()  # in-app for agents
    assert not Notification.objects.filter(recipient=customer).exists()  # customers are e-mailed only


def test_a_rejection_tells_the_requester_why_without_naming_the_agent(customer, agent, boss, needs_boss,
                                                                     django_capture_on_commit_callbacks):
    request = make_request(requester=customer, item=needs_boss)
    with django_capture_on_commit_callbacks(execute=True):
        workflows.request_reject(request=request, actor=agent, reason="Laptops are frozen until May.")
    told = [m for m in mail.outbox if m.to == [customer.email]]
    assert len(told) == 1
    assert "Laptops are frozen until May." in told[0].body
    assert "Service desk" in told[0].body
    assert "agent" not in told[0].body.replace("agent@", "")
    assert "P4" not in told[0].body  # the priority is hidden from customers


def test_the_requester_is_told_of_completion(customer, agent, django_capture_on_commit_callbacks):
    request = make_request(requester=customer)
    with django_capture_on_commit_callbacks(execute=True):
        workflows.request_complete(request=request, actor=agent)
    assert [(m.to, m.subject) for m in mail.outbox] == [([customer.email], f"Request {request.number} is completed")]
    assert Request.objects.get(pk=request.pk).state == "completed"
