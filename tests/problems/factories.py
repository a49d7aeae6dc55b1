"""Problems for tests, made as the product makes them: through ``problems.services`` and
``problems.workflows``, so each has its number, its priority and its journal."""

from __future__ import annotations

from problems import services, workflows
from problems.models import Problem

PLAN = [{"title": "Replace the failing disk", "description": "Swap the disk in rack 4."}]


def make_problem(*, by, short_description: str = "Disks keep failing", incident=None, **data) -> Problem:
    """Raised by ``by`` (an agent), writing ``data``; from ``incident`` when given."""
    return services.problem_create(
        actor=by, data={"short_description": short_description, **data}, incident=incident
    )


def submitted_problem(*, by, plan=PLAN, **data) -> Problem:
    """A problem whose RCA ``by`` has submitted with ``plan``."""
    problem = make_problem(by=by, **data)
    problem = workflows.problem_start(problem=problem, actor=by)
    return workflows.problem_submit_rca(
        problem=problem, actor=by, rca_summary="The disk firmware has a bug.", rca_confidence=0.8,
        corrective_plan=plan,
    )  # fmt: skip


def approved_problem(*, by, approver, plan=PLAN, **data) -> Problem:
    problem = submitted_problem(by=by, plan=plan, **data)
    return workflows.problem_approve_rca(problem=problem, actor=approver)
