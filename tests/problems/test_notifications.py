"""Who is told about a problem: the assignee and the group's leads when assigned; problem
managers when an RCA is submitted; the submitter when it is approved or rejected."""

from __future__ import annotations

import pytest

from conftest import make_user
from itsm.errors import InvalidInput
from itsm.models import AssignmentGroup, GroupMembership
from notifications.models import Kind, Notification
from problems import services, workflows
from tests.problems.factories import make_problem, submitted_problem

pytestmark = pytest.mark.django_db


def _told(kind):
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_assignee_and_group_leads_are_told_of_an_assignment(agent, l1):
    group = AssignmentGroup.objects.create(name="Storage")
    GroupMembership.objects.create(group=group, user=l1)
    boss = make_user("boss", "itsm_agent")
    GroupMembership.objects.create(group=group, user=boss, role=GroupMembership.Role.LEAD)
    problem = make_problem(by=agent)
    services.problem_assign(problem=problem, actor=agent, assignee=l1, assignment_group=group)
    assert _told(Kind.PROBLEM_ASSIGNED) == ["boss", "l1"]
    note = Notification.objects.get(kind=Kind.PROBLEM_ASSIGNED, recipient=l1)
    assert problem.number in note.subject


def test_nobody_is_told_of_assigning_a_problem_to_themselves(agent):
    services.problem_assign(problem=make_problem(by=agent), actor=agent, assignee=agent)
    assert _told(Kind.PROBLEM_ASSIGNED) == []


def test_problem_managers_are_told_of_a_submitted_rca_but_not_agents(agent, lead, manager):
    submitted_problem(by=agent)
    assert _told(Kind.RCA_SUBMITTED) == ["lead", "manager"]


def test_the_submitter_is_told_of_the_approval(agent, lead):
    problem = submitted_problem(by=agent)
    workflows.problem_approve_rca(problem=problem, actor=lead)
    assert _told(Kind.RCA_APPROVED) == ["agent"]
    assert "approved" in Notification.objects.get(kind=Kind.RCA_APPROVED).subject


def test_the_submitter_is_told_of_the_rejection_with_the_review_notes(agent, lead):
    problem = submitted_problem(by=agent)
    workflows.problem_reject_rca(problem=problem, actor=lead, review_notes="Look at the RAID controller")
    note = Notification.objects.get(kind=Kind.RCA_REJECTED)
    assert note.recipient == agent and "Look at the RAID controller" in note.body


def test_a_refused_approval_tells_nobody(lead):
    problem = submitted_problem(by=lead)
    with pytest.raises(InvalidInput):
        workflows.problem_approve_rca(problem=problem, actor=lead)
    assert _told(Kind.RCA_APPROVED) == []


def test_each_problem_message_names_who_acted(agent, lead, manager, l1):
    """The messages say who assigned, submitted, approved or rejected (problems do not escalate,
    so the name must not travel under an escalation-only key, which the sender drops)."""
    problem = make_problem(by=agent)
    services.problem_assign(problem=problem, actor=agent, assignee=l1)
    approved = submitted_problem(by=agent)
    workflows.problem_approve_rca(problem=approved, actor=lead)
    rejected = submitted_problem(by=agent)
    workflows.problem_reject_rca(problem=rejected, actor=manager, review_notes="Look at the RAID controller")
    said = {
        Kind.PROBLEM_ASSIGNED: "\nagent assigned problem",
        Kind.RCA_SUBMITTED: "\nagent submitted the root-cause analysis",
        Kind.RCA_APPROVED: "\nlead approved your root-cause analysis",
        Kind.RCA_REJECTED: "\nmanager rejected your root-cause analysis",
    }
    for kind, words in said.items():
        body = Notification.objects.filter(kind=kind).first().body
        assert words in body, body
