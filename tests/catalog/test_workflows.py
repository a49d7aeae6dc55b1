"""The request workflow (issue 15, point 5): approval level by level ("any one" or "every"
approver), one rejection rejects, nobody approves a request they raised, an agent decides a level
for everyone, approvers get a guardian grant; fulfil creates the item's tasks for their groups;
complete only once every task is closed or cancelled; cancel before fulfilment by the requester."""

from __future__ import annotations

import pytest
from django.core import mail
from guardian.shortcuts import get_perms

from catalog import workflows
from catalog.models import Decision, Request, RequestApproval, RequestNote
from conftest import make_user
from itsm import policy
from itsm.errors import InvalidInput, NotAllowed, NotFound, TransitionNotAllowed
from itsm.models import AuditEntry
from itsm.roles import PERSONAS, Persona
from itsm.workflow import task_transition
from tests.catalog.factories import make_group, make_item, make_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """``with sent():`` — the e-mails of what runs inside, which leave once it commits."""

    def capture():
        mail.outbox.clear()
        return django_capture_on_commit_callbacks(execute=True)

    return capture


def customer_named(username, organisation):
    return make_user(username, *PERSONAS[Persona.EVERYONE], organisation=organisation)


@pytest.fixture
def boss(organisation):
    """A customer who approves (a line manager without desk roles)."""
    return customer_named("boss", organisation)


@pytest.fixture
def approvers(organisation):
    """A group of three customers who approve."""
    people = [customer_named(f"approver{n}", organisation) for n in (1, 2, 3)]
    return make_group("Approvers", members=people), people


def decisions(request):
    return {(a.level, a.approver.username): a.decision for a in request.approvals.select_related("approver")}


def fresh(request):
    return Request.objects.get(pk=request.pk)


# --- Without approval levels ------------------------------------------------------------------


def test_an_item_without_approval_levels_approves_its_requests_at_once(customer, agent):
    request = make_request(requester=customer, item=make_item(fulfilment_group=make_group(members=[agent])))
    assert request.state == "approved"
    assert request.approval_level is None
    assert not request.approvals.exists()
    moves = AuditEntry.objects.filter(object_id=str(request.pk), action="transition")
    assert [m.transition for m in moves] == ["auto-approve"]


# --- Levels, grants, the requester skipped ----------------------------------------------------


def test_a_request_waits_for_its_first_level_whose_approvers_get_a_grant(customer, boss, approvers):
    group, people = approvers
    item = make_item(levels=[{"mode": "any", "users": [boss.pk]}, {"mode": "any", "group": group}])
    request = make_request(requester=customer, item=item)
    assert request.state == "pending_approval"
    assert request.approval_level == 1
    assert decisions(request) == {(1, "boss"): "pending"}  # the second level has not started
    assert "approve_request" in get_perms(boss, request)
    assert not any("approve_request" in get_perms(p, request) for p in people)
    assert policy.is_readable(boss, request)
    assert not policy.is_readable(people[0], request)


def test_the_requester_is_never_an_approver_of_its_own_request(approvers):
    group, people = approvers
    item = make_item(levels=[{"mode": "every", "group": group}])
    request = make_request(requester=people[0], item=item)
    assert decisions(request) == {(1, "approver1"): "skipped", (1, "approver2"): "pending", (1, "approver3"): "pending"}
    assert "approve_request" not in get_perms(people[0], request)
    with pytest.raises(NotAllowed, match="someone else"):
        workflows.request_approve(request=request, actor=people[0])


def test_an_any_level_is_decided_by_one_approval_and_the_next_level_starts(customer, boss, approvers, sent):
    group, people = approvers
    item = make_item(levels=[{"mode": "any", "group": group}, {"mode": "any", "users": [boss.pk]}])
    request = make_request(requester=customer, item=item)
    with sent():
        request = workflows.request_approve(request=request, actor=people[1], comment="Looks right.")
    assert request.state == "pending_approval"
    assert request.approval_level == 2
    assert decisions(request) == {
        (1, "approver1"): "skipped", (1, "approver2"): "approved", (1, "approver3"): "skipped", (2, "boss"): "pending",
    }  # fmt: skip
    mine = request.approvals.get(approver=people[1])
    assert (mine.reason, mine.decided_by) == ("Looks right.", people[1])
    assert "approve_request" in get_perms(boss, request)
    assert [m.to for m in mail.outbox if "awaits your approval" in m.subject] == [[boss.email]]
    request = workflows.request_approve(request=request, actor=boss)
    assert request.state == "approved"
    assert request.approval_level is None


def test_an_every_level_waits_for_all_its_approvers(customer, approvers):
    group, people = approvers
    request = make_request(requester=customer, item=make_item(levels=[{"mode": "every", "group": group}]))
    request = workflows.request_approve(request=request, actor=people[0])
    request = workflows.request_approve(request=request, actor=people[1])
    assert request.state == "pending_approval"
    assert decisions(request)[(1, "approver3")] == "pending"
    request = workflows.request_approve(request=request, actor=people[2])
    assert request.state == "approved"


def test_one_rejection_rejects_even_after_others_approved(customer, approvers, sent):
    group, people = approvers
    request = make_request(requester=customer, item=make_item(levels=[{"mode": "every", "group": group}]))
    workflows.request_approve(request=request, actor=people[0])
    with sent():
        request = workflows.request_reject(request=request, actor=people[1], reason="  Not in the budget.  ")
    assert request.state == "rejected"
    assert request.closed_at is not None
    assert decisions(request) == {(1, "approver1"): "approved", (1, "approver2"): "rejected", (1, "approver3"): "skipped"}
    assert request.approvals.get(approver=people[1]).reason == "Not in the budget."
    told = [m for m in mail.outbox if m.to == [customer.email]]
    assert len(told) == 1 and "rejected" in told[0].subject and "Not in the budget." in told[0].body
    comment = request.notes.get()
    assert (comment.kind, comment.body) == (RequestNote.Kind.COMMENT, "[Rejected] Not in the budget.")


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_rejection_needs_a_reason_and_changes_nothing_without_one(customer, boss, reason):
    request = make_request(requester=customer, item=make_item(levels=[{"mode": "any", "users": [boss.pk]}]))
    with pytest.raises(InvalidInput) as refused:
        workflows.request_reject(request=request, actor=boss, reason=reason)
    assert refused.value.fields == {"reason": ["Say why the request is rejected."]}
    assert fresh(request).state == "pending_approval"
    assert decisions(request) == {(1, "boss"): "pending"}


def test_an_approver_decides_once(customer, boss, approvers):
    group, people = approvers
    item = make_item(levels=[{"mode": "every", "group": group}])
    request = make_request(requester=customer, item=item)
    workflows.request_approve(request=request, actor=people[0])
    with pytest.raises(NotAllowed, match="already decided"):
        workflows.request_approve(request=request, actor=people[0])
    with pytest.raises(NotAllowed, match="already decided"):
        workflows.request_reject(request=request, actor=people[0], reason="Changed my mind")


def test_an_approver_of_a_later_level_cannot_decide_the_current_one(customer, boss, approvers):
    group, people = approvers
    item = make_item(levels=[{"mode": "any", "users": [boss.pk]}, {"mode": "any", "group": group}])
    request = make_request(requester=customer, item=item)
    with pytest.raises(NotFound):  # no grant yet: the request is not theirs to read
        workflows.request_approve(request=request, actor=people[0])


def test_an_approver_keeps_reading_what_it_decided(customer, boss):
    request = make_request(requester=customer, item=make_item(levels=[{"mode": "any", "users": [boss.pk]}]))
    request = workflows.request_approve(request=request, actor=boss)
    assert policy.is_readable(boss, request)
    assert not policy.can(boss, "approve", request)


def test_a_stranger_cannot_find_the_request_to_decide(customer, customer2, boss):
    request = make_request(requester=customer, item=make_item(levels=[{"mode": "any", "users": [boss.pk]}]))
    with pytest.raises(NotFound):
        workflows.request_approve(request=request, actor=customer2)


# --- Agents -----------------------------------------------------------------------------------


def test_an_agent_decides_the_whole_level_for_everyone(customer, agent, approvers):
    group, people = approvers
    request = make_request(requester=customer, item=make_item(levels=[{"mode": "every", "group": group}]))
    workflows.request_approve(request=request, actor=people[0])
    request = workflows.request_approve(request=request, actor=agent)
    assert request.state == "approved"
    rows = {a.approver.username: (a.decision, a.decided_by.username) for a in request.approvals.all()}
    assert rows == {
        "approver1": ("approved", "approver1"),
        "approver2": ("skipped", "agent"),
        "approver3": ("skipped", "agent"),
        "agent": ("approved", "agent"),
    }


def test_nobody_approves_a_request_they_raised_not_even_an_agent(agent, boss):
    request = make_request(requester=agent, item=make_item(levels=[{"mode": "any", "users": [boss.pk]}]))
    with pytest.raises(NotAllowed, match="You raised this request"):
        workflows.request_approve(request=request, actor=agent)
    with pytest.raises(NotAllowed, match="You raised this request"):
        workflows.request_reject(request=request, actor=agent, reason="No")
    assert fresh(request).state == "pending_approval"


def test_a_level_without_approvers_waits_for_the_service_desk(customer, agent):
    lonely = make_group("Only the requester", members=[customer])
    request = make_request(requester=customer, item=make_item(levels=[{"mode": "any", "group": lonely}]))
    assert request.state == "pending_approval"
    assert decisions(request) == {(1, "customer"): "skipped"}
    assert "awaits the service desk" in AuditEntry.objects.get(object_id=str(request.pk), field="approval_level").note
    request = workflows.request_reject(request=request, actor=agent, reason="Use the shared one.")
    assert request.state == "rejected"
    assert request.approvals.get(approver=agent).decided_by == agent


def test_each_decision_and_who_made_it_is_journaled(customer, boss, approvers):
    group, people = approvers
    item = make_item(levels=[{"mode": "every", "group": group}, {"mode": "any", "users": [boss.pk]}])
    request = make_request(requester=customer, item=item)
    for person in people:
        request = workflows.request_approve(request=request, actor=person)
    workflows.request_approve(request=request, actor=boss)
    journal = AuditEntry.objects.filter(object_id=str(request.pk), content_type__model="request")
    decided = [(e.actor.username, e.new_value) for e in journal.filter(field="approval_decisions")]
    assert decided == [
        ("approver1", "level 1: one approval"), ("approver2", "level 1: one approval"),
        ("approver3", "level 1 approved"), (boss.username, "level 2 approved"),
    ]  # fmt: skip
    final = journal.get(action="transition", transition="approve")
    assert (final.actor, final.new_value) == (boss, "approved")


# --- Fulfil, complete, cancel -----------------------------------------------------------------


def test_fulfil_creates_the_items_tasks_in_order_for_their_groups(customer, agent, lead, sent):
    fulfilment = make_group("Fulfilment", members=[agent])
    imaging = make_group("Imaging", members=[lead])
    item = make_item(
        fulfilment_group=fulfilment,
        templates=[
            {"short_description": "Image the laptop", "assignment_group": imaging},
            {"short_description": "Deliver it", "description": "To the desk."},
        ],
    )
    request = make_request(requester=customer, item=item)
    with sent():
        request = workflows.request_fulfil(request=request, actor=agent)
    assert request.state == "in_fulfilment"
    tasks = list(request.tasks.order_by("pk"))
    assert [(t.short_description, t.assignment_group.name, t.state) for t in tasks] == [
        ("Image the laptop", "Imaging", "open"), ("Deliver it", "Fulfilment", "open"),
    ]  # fmt: skip
    assert all(t.number.startswith("TASK") for t in tasks)
    assert tasks[1].description == "To the desk."
    assert [m.to for m in mail.outbox if "Tasks to fulfil" in m.subject] == [[lead.email]]  # not the actor


def test_fulfil_without_templates_still_moves_to_fulfilment(customer, agent):
    request = workflows.request_fulfil(request=make_request(requester=customer), actor=agent)
    assert request.state == "in_fulfilment"
    assert not request.tasks.exists()


def test_fulfil_only_once_approved_and_only_by_the_desk(customer, agent, boss):
    pending = make_request(requester=customer, item=make_item(levels=[{"mode": "any", "users": [boss.pk]}]))
    with pytest.raises(TransitionNotAllowed):
        workflows.request_fulfil(request=pending, actor=agent)
    approved = make_request(requester=customer)
    with pytest.raises(NotAllowed):
        workflows.request_fulfil(request=approved, actor=customer)


def test_complete_waits_for_every_task_to_be_closed_or_cancelled(customer, agent, sent):
    item = make_item(templates=[{"short_description": "One"}, {"short_description": "Two"}])
    request = workflows.request_fulfil(request=make_request(requester=customer, item=item), actor=agent)
    one, two = request.tasks.order_by("pk")
    with pytest.raises(InvalidInput) as refused:
        workflows.request_complete(request=request, actor=agent)
    assert refused.value.fields == {"tasks": [f"Still open: {one.number}, {two.number}."]}
    assert not workflows.may_complete(fresh(request), agent)
    task_transition(task=one, actor=agent, name="close")
    task_transition(task=two, actor=agent, name="cancel")
    assert workflows.may_complete(fresh(request), agent)
    assert not workflows.may_complete(fresh(request), customer)
    with sent():
        request = workflows.request_complete(request=request, actor=agent, completion_notes=" Delivered. ")
    assert (request.state, request.completion_notes) == ("completed", "Delivered.")
    assert request.closed_at is not None
    assert [m.to for m in mail.outbox] == [[customer.email]]
    assert "completed" in mail.outbox[0].subject


def test_an_approved_request_without_tasks_may_be_completed_at_once(customer, agent):
    request = workflows.request_complete(request=make_request(requester=customer), actor=agent)
    assert request.state == "completed"


def test_only_the_service_desk_completes(customer):
    with pytest.raises(NotAllowed):
        workflows.request_complete(request=make_request(requester=customer), actor=customer)


def test_the_requester_cancels_before_fulfilment_and_pending_approvals_are_withdrawn(customer, boss):
    request = make_request(requester=customer, item=make_item(levels=[{"mode": "any", "users": [boss.pk]}]))
    request = workflows.request_cancel(request=request, actor=customer, reason="Found one")
    assert request.state == "cancelled"
    assert decisions(request) == {(1, "boss"): "skipped"}
    assert request.notes.get().body == "[Cancelled] Found one"
    assert not RequestApproval.objects.filter(decision=Decision.PENDING).exists()


def test_cancel_is_refused_once_fulfilment_started(customer, agent):
    request = workflows.request_fulfil(request=make_request(requester=customer), actor=agent)
    with pytest.raises(TransitionNotAllowed):
        workflows.request_cancel(request=request, actor=customer)
    with pytest.raises(TransitionNotAllowed):
        workflows.request_cancel(request=request, actor=agent)


def test_the_person_it_is_for_cannot_cancel_what_someone_else_raised(customer, customer2, agent):
    request = make_request(requester=customer, requested_for=customer2)
    assert not policy.can(customer2, "cancel", request)
    with pytest.raises(NotAllowed):
        workflows.request_cancel(request=request, actor=customer2)
    assert Request.objects.get(pk=request.pk).state == "approved"
    assert workflows.request_cancel(request=request, actor=agent).state == "cancelled"
