"""The problem state machine and its RCA rules (SPEC §5, issue 13)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from changes.models import Change
from itsm.errors import InvalidInput, NotAllowed, TransitionNotAllowed
from itsm.models import AuditEntry
from problems import workflows
from problems.models import Problem
from tests.problems.factories import PLAN, approved_problem, make_problem, submitted_problem

pytestmark = pytest.mark.django_db


def test_problem_moves_through_the_whole_lifecycle(agent, lead):
    problem = approved_problem(by=agent, approver=lead)
    assert problem.state == "change_created"
    problem = workflows.problem_verify(
        problem=problem, actor=agent, verification_notes="No failures for 30 days."
    )
    assert problem.state == "verified" and problem.verified_at is not None
    problem = workflows.problem_close(problem=problem, actor=agent)
    assert problem.state == "closed" and problem.closed_at is not None


def test_every_transition_is_journaled(agent, lead):
    problem = approved_problem(by=agent, approver=lead)
    transitions = list(
        AuditEntry.objects.filter(object_id=str(problem.pk), action="transition").values_list(
            "transition", flat=True
        )
    )
    assert transitions == ["start", "submit-rca", "approve-rca"]


def test_submit_rca_needs_a_summary_of_ten_characters(agent):
    problem = workflows.problem_start(problem=make_problem(by=agent), actor=agent)
    with pytest.raises(InvalidInput) as refused:
        workflows.problem_submit_rca(problem=problem, actor=agent, rca_summary="too short")
    assert "rca_summary" in refused.value.fields
    assert Problem.objects.get(pk=problem.pk).state == "investigating"


@pytest.mark.parametrize("confidence", [-0.1, 1.01, "high", True, float("nan")])
def test_rca_confidence_is_between_zero_and_one(agent, confidence):
    problem = workflows.problem_start(problem=make_problem(by=agent), actor=agent)
    with pytest.raises(InvalidInput) as refused:
        workflows.problem_submit_rca(
            problem=problem, actor=agent, rca_summary="A long enough summary", rca_confidence=confidence
        )
    assert "rca_confidence" in refused.value.fields


@pytest.mark.parametrize(
    "plan",
    [
        [{"description": "no title"}],
        [{"title": "  "}],
        ["just text"],
        "not a list",
        [{"title": "x", "owner": "someone"}],
    ],
)
def test_each_corrective_item_needs_a_title(agent, plan):
    problem = workflows.problem_start(problem=make_problem(by=agent), actor=agent)
    with pytest.raises(InvalidInput) as refused:
        workflows.problem_submit_rca(
            problem=problem, actor=agent, rca_summary="A long enough summary", corrective_plan=plan
        )
    assert "corrective_plan" in refused.value.fields


def test_submitted_rca_records_the_submitter_and_plan(agent):
    problem = submitted_problem(by=agent)
    assert problem.state == "rca_submitted"
    assert problem.rca_submitted_by == agent and problem.rca_confidence == Decimal("0.80")
    assert problem.corrective_plan == PLAN


def test_submit_rca_is_refused_on_a_new_problem(agent):
    with pytest.raises(TransitionNotAllowed):
        workflows.problem_submit_rca(
            problem=make_problem(by=agent), actor=agent, rca_summary="A long enough summary"
        )


def test_approving_an_rca_creates_one_normal_draft_change_per_corrective_item(agent, lead):
    plan = [{"title": "Patch firmware", "description": "v2.1"}, {"title": "Add disk monitoring"}]
    problem = approved_problem(by=agent, approver=lead, plan=plan)
    changes = list(Change.objects.filter(problem=problem).order_by("number"))
    assert [c.short_description for c in changes] == ["Patch firmware", "Add disk monitoring"]
    assert {(c.change_type, c.state, c.source_type) for c in changes} == {("normal", "draft", "problem")}
    assert all(c.number.startswith("CHG") for c in changes)
    assert problem.is_known_error and problem.rca_reviewed_by == lead


def test_nobody_approves_an_rca_they_submitted(lead):
    problem = submitted_problem(by=lead)
    with pytest.raises(InvalidInput) as refused:
        workflows.problem_approve_rca(problem=problem, actor=lead)
    assert "submitted this RCA" in refused.value.message
    problem.refresh_from_db()
    assert problem.state == "rca_submitted" and not problem.is_known_error
    assert not Change.objects.filter(problem=problem).exists()


def test_nobody_rejects_an_rca_they_submitted(lead):
    problem = submitted_problem(by=lead)
    with pytest.raises(InvalidInput):
        workflows.problem_reject_rca(problem=problem, actor=lead, review_notes="Looks wrong to me")


def test_agent_cannot_approve_or_reject_an_rca(agent, l1):
    problem = submitted_problem(by=l1)
    with pytest.raises(NotAllowed):
        workflows.problem_approve_rca(problem=problem, actor=agent)
    with pytest.raises(NotAllowed):
        workflows.problem_reject_rca(problem=problem, actor=agent, review_notes="Not deep enough")


def test_approving_an_rca_without_corrective_items_is_refused(agent, lead):
    problem = submitted_problem(by=agent, plan=[])
    with pytest.raises(InvalidInput) as refused:
        workflows.problem_approve_rca(problem=problem, actor=lead)
    assert "corrective_plan" in refused.value.fields
    problem.refresh_from_db()
    assert problem.state == "rca_submitted" and not problem.is_known_error


def test_approval_is_all_or_nothing(agent, lead, monkeypatch):
    """A change that cannot be created undoes the whole approval."""
    problem = submitted_problem(by=agent, plan=[{"title": "One"}, {"title": "Two"}])
    from itsm import services

    real = services.record_create
    calls = []

    def failing(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise InvalidInput("boom")
        return real(**kwargs)

    monkeypatch.setattr(services, "record_create", failing)
    with pytest.raises(InvalidInput):
        workflows.problem_approve_rca(problem=problem, actor=lead)
    problem.refresh_from_db()
    assert problem.state == "rca_submitted" and not problem.is_known_error
    assert not Change.objects.filter(problem=problem).exists()


def test_rejected_rca_keeps_review_notes_and_can_be_resubmitted(agent, lead):
    problem = submitted_problem(by=agent)
    with pytest.raises(InvalidInput) as refused:
        workflows.problem_reject_rca(problem=problem, actor=lead, review_notes="  ")
    assert "review_notes" in refused.value.fields
    problem = workflows.problem_reject_rca(
        problem=problem, actor=lead, review_notes="Check the controller too"
    )
    assert problem.state == "rca_rejected" and problem.review_notes == "Check the controller too"
    problem = workflows.problem_submit_rca(
        problem=problem, actor=agent, rca_summary="The controller firmware, too.", corrective_plan=PLAN
    )
    assert problem.state == "rca_submitted"
    assert workflows.problem_approve_rca(problem=problem, actor=lead).state == "change_created"


def test_verify_needs_ten_characters_of_notes(agent, lead):
    problem = approved_problem(by=agent, approver=lead)
    with pytest.raises(InvalidInput) as refused:
        workflows.problem_verify(problem=problem, actor=agent, verification_notes="ok")
    assert "verification_notes" in refused.value.fields


@pytest.mark.parametrize("state_maker", ["new", "submitted"])
def test_cancel_is_possible_until_the_rca_is_approved(agent, state_maker):
    problem = make_problem(by=agent) if state_maker == "new" else submitted_problem(by=agent)
    assert workflows.problem_cancel(problem=problem, actor=agent).state == "cancelled"


def test_cancel_is_refused_once_changes_are_created(agent, lead):
    problem = approved_problem(by=agent, approver=lead)
    with pytest.raises(TransitionNotAllowed) as refused:
        workflows.problem_cancel(problem=problem, actor=agent)
    assert refused.value.fields["allowed"] == ["verify"]


def test_self_service_user_cannot_start_a_problem(agent, customer):
    from itsm.errors import NotFound

    with pytest.raises(NotFound):
        workflows.problem_start(problem=make_problem(by=agent), actor=customer)


def test_an_approved_rca_gives_the_known_error_its_root_cause_when_none_was_written(agent, lead):
    from tests.problems.factories import approved_problem

    problem = approved_problem(by=agent, approver=lead)
    problem.refresh_from_db()
    assert problem.is_known_error and problem.root_cause == problem.rca_summary
