"""The problem state machine: new → investigating → rca_submitted → (rca_rejected → rca_submitted)
→ change_created → verified → closed, and cancelled before the RCA is approved.

This module is the only place that changes a problem's ``state``. Each transition is one
function: atomic, on a locked row, checked against the policy and the table below, journaled.

Approving an RCA with no corrective items is refused (400 on ``corrective_plan``): approval is
the step that raises the corrective changes and makes the problem a known error, and a problem
manager approving a plan without actions would leave a known error with nothing tracked to fix
it. The manager rejects it instead, saying what to add, and the RCA is amended and resubmitted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from changes import services as change_services
from changes.models import ChangeType, SourceType
from itsm import services
from itsm.errors import InvalidInput
from itsm.workflow import Lifecycle, Transition, locked_for, register, task_lifecycle, transition
from problems import notices
from problems.models import Problem, ProblemState, ProblemTask

S = ProblemState
RCA_MIN = 10  # characters of an RCA summary, and of verification notes
PLAN_MAX = 50  # corrective items in one RCA
ITEM_TITLE_MAX = 200  # a change's short description

TRANSITIONS: dict[str, Transition] = {
    "start": Transition(frozenset({S.NEW}), S.INVESTIGATING),
    "submit-rca": Transition(frozenset({S.INVESTIGATING, S.RCA_REJECTED}), S.RCA_SUBMITTED),
    "approve-rca": Transition(frozenset({S.RCA_SUBMITTED}), S.CHANGE_CREATED),
    "reject-rca": Transition(frozenset({S.RCA_SUBMITTED}), S.RCA_REJECTED),
    "verify": Transition(frozenset({S.CHANGE_CREATED}), S.VERIFIED),
    "close": Transition(frozenset({S.VERIFIED}), S.CLOSED),
    "cancel": Transition(frozenset({S.NEW, S.INVESTIGATING, S.RCA_REJECTED, S.RCA_SUBMITTED}), S.CANCELLED),
}

LIFECYCLE = register(
    Lifecycle(
        model=Problem,
        states=ProblemState,
        initial=S.NEW,
        transitions=TRANSITIONS,
        # Verified: the fix is confirmed and only the closing remains, so nothing is still owed.
        finished=frozenset({S.VERIFIED, S.CLOSED, S.CANCELLED}),
        desk_page="desk:problem-detail",
    )
)


@transaction.atomic
def problem_start(*, problem: Problem, actor) -> Problem:
    """An agent starts investigating a new problem."""
    return transition(TRANSITIONS, problem, actor, "start")


def clean_plan(corrective_plan: Any) -> tuple[list[dict[str, str]], list[str]]:
    """The corrective plan as stored ([{title, description}, …]) and what is wrong with it."""
    if corrective_plan is None:
        return [], []
    if isinstance(corrective_plan, str | bytes | Mapping) or not isinstance(corrective_plan, Iterable):
        return [], ["Give a list of items, each with a title and an optional description."]
    items, errors = [], []
    for n, item in enumerate(corrective_plan, start=1):
        if not isinstance(item, Mapping):
            errors.append(f"Item {n}: give a title and an optional description.")
            continue
        unknown = set(item) - {"title", "description"}
        title = item.get("title")
        description = item.get("description") or ""
        if unknown:
            errors.append(f"Item {n}: unknown fields {', '.join(sorted(map(str, unknown)))}.")
        elif not isinstance(title, str) or not title.strip():
            errors.append(f"Item {n}: the title is required.")
        elif len(title.strip()) > ITEM_TITLE_MAX:
            errors.append(f"Item {n}: the title has more than {ITEM_TITLE_MAX} characters.")
        elif not isinstance(description, str):
            errors.append(f"Item {n}: the description is text.")
        else:
            items.append({"title": title.strip(), "description": description.strip()})
    if len(items) + len(errors) > PLAN_MAX:
        errors.append(f"At most {PLAN_MAX} corrective items.")
    return items, errors


def _confidence(value) -> tuple[Decimal | None, str | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return None, "Give a number from 0.0 to 1.0."
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None, "Give a number from 0.0 to 1.0."
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(1):
        return None, "Give a number from 0.0 to 1.0."
    return number.quantize(Decimal("0.01")), None


@transaction.atomic
def problem_submit_rca(
    *, problem: Problem, actor, rca_summary: str, rca_confidence=None, corrective_plan: Iterable = ()
) -> Problem:
    """Submit the root-cause analysis for review: a summary of at least 10 characters, an
    optional confidence from 0.0 to 1.0 and the corrective plan (items with a title and an
    optional description). A rejected RCA is amended and submitted again the same way."""
    errors: dict[str, list[str]] = {}
    summary = (rca_summary or "").strip() if isinstance(rca_summary, str) else ""
    if len(summary) < RCA_MIN:
        errors["rca_summary"] = [f"Summarise the root cause in at least {RCA_MIN} characters."]
    confidence, problem_text = _confidence(rca_confidence)
    if problem_text:
        errors["rca_confidence"] = [problem_text]
    plan, plan_errors = clean_plan(corrective_plan)
    if plan_errors:
        errors["corrective_plan"] = plan_errors
    if errors:
        raise InvalidInput("The RCA cannot be submitted as it is.", fields=errors)
    problem = transition(
        TRANSITIONS, problem, actor, "submit-rca",
        changes={
            "rca_summary": summary, "rca_confidence": confidence, "corrective_plan": plan,
            "rca_submitted_by": actor, "rca_submitted_at": timezone.now(),
            "rca_reviewed_by": None, "rca_reviewed_at": None,
        },
    )  # fmt: skip
    notices.rca_submitted(problem)
    return problem


@transaction.atomic
def problem_approve_rca(*, problem: Problem, actor) -> Problem:
    """Approve the RCA (problems.approve_rca, not its submitter): one normal draft change per
    corrective item, linked to the problem; the problem becomes a known error with its changes
    created — all of it or, when anything is refused, nothing. An RCA without corrective items
    is refused: reject it asking for the plan."""
    locked = services.lock(problem)
    if locked.state == S.RCA_SUBMITTED:
        locked = locked_for(locked, actor, "approve-rca")
        if locked.rca_submitted_by_id is not None and locked.rca_submitted_by_id == actor.pk:
            raise InvalidInput(
                "You submitted this RCA: another problem manager reviews it.",
                fields={"rca_submitted_by": ["Nobody approves an RCA they submitted."]},
            )
        if not locked.corrective_plan:
            raise InvalidInput(
                "The RCA has no corrective items, so there is no change to raise. Reject it and "
                "ask for a corrective plan.",
                fields={"corrective_plan": ["An approved RCA needs at least one corrective item."]},
            )
    now = timezone.now()
    problem = transition(
        TRANSITIONS, locked, actor, "approve-rca",
        changes={"is_known_error": True, "rca_reviewed_by": actor, "rca_reviewed_at": now, "review_notes": "",
                 # The known error needs its root cause: the approved summary, unless one was written.
                 "root_cause": locked.root_cause or locked.rca_summary},
    )  # fmt: skip
    for item in problem.corrective_plan:
        # Through the changes' own service, so each is scored, checked and journaled as any change.
        change_services.change_create(
            actor=actor,
            data={"short_description": item["title"], "description": item.get("description", "")},
            change_type=ChangeType.NORMAL, source_type=SourceType.PROBLEM, problem=problem,
            organisation=problem.organisation,
        )  # fmt: skip
    notices.rca_reviewed(problem, approved=True)
    return problem


@transaction.atomic
def problem_reject_rca(*, problem: Problem, actor, review_notes: str) -> Problem:
    """Send the RCA back (problems.approve_rca, not its submitter) with review notes saying what
    to change; the problem is amended and the RCA submitted again."""
    notes = (review_notes or "").strip() if isinstance(review_notes, str) else ""
    if not notes:
        raise InvalidInput(
            "Say why the RCA is rejected.",
            fields={"review_notes": ["Say what the RCA needs before approval."]},
        )
    locked = services.lock(problem)
    if locked.state == S.RCA_SUBMITTED:
        locked = locked_for(locked, actor, "reject-rca")
        if locked.rca_submitted_by_id is not None and locked.rca_submitted_by_id == actor.pk:
            raise InvalidInput(
                "You submitted this RCA: another problem manager reviews it.",
                fields={"rca_submitted_by": ["Nobody reviews an RCA they submitted."]},
            )
    problem = transition(
        TRANSITIONS, locked, actor, "reject-rca",
        changes={"review_notes": notes, "rca_reviewed_by": actor, "rca_reviewed_at": timezone.now()},
    )  # fmt: skip
    notices.rca_reviewed(problem, approved=False)
    return problem


@transaction.atomic
def problem_verify(*, problem: Problem, actor, verification_notes: str) -> Problem:
    """Confirm the corrective changes fixed the problem, saying how (at least 10 characters)."""
    notes = (verification_notes or "").strip() if isinstance(verification_notes, str) else ""
    if len(notes) < RCA_MIN:
        raise InvalidInput(
            "Say how the fix was verified.",
            fields={"verification_notes": [f"Describe the verification in at least {RCA_MIN} characters."]},
        )
    return transition(
        TRANSITIONS, problem, actor, "verify",
        changes={"verification_notes": notes, "verified_at": timezone.now()},
    )  # fmt: skip


@transaction.atomic
def problem_close(*, problem: Problem, actor) -> Problem:
    """Close a verified problem."""
    return transition(TRANSITIONS, problem, actor, "close")


@transaction.atomic
def problem_cancel(*, problem: Problem, actor) -> Problem:
    """Cancel a problem before its RCA is approved (no changes raised yet)."""
    return transition(TRANSITIONS, problem, actor, "cancel")


# --- Problem tasks: the shared task states and transitions (itsm.workflow) -------------------

TASK_LIFECYCLE = task_lifecycle(ProblemTask)
