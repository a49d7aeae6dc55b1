"""Who may do what to problems and problem tasks (SPEC §4), declared with the problem state
machine's states: the states an action is possible in come from its transition."""

from __future__ import annotations

from itsm import people
from itsm.policy.rules import (
    ADMIN,
    AGENT,
    CLOSED_OR_CANCELLED,
    TASK_EDITABLE,
    Act,
    Read,
    RecordRules,
    Update,
    register,
    sources,
    task_rules,
)
from problems.models import ProblemState, ProblemTask
from problems.workflows import LIFECYCLE, TRANSITIONS

MANAGE = "problems.manage"
APPROVE_RCA = "problems.approve_rca"


def _manage(name: str) -> tuple[Act, ...]:
    return (Act(MANAGE, states=sources(TRANSITIONS, name)),)


register(
    RecordRules(
        label="problems.problem",
        states=tuple(ProblemState.values),
        initial_state=LIFECYCLE.initial,
        create=frozenset({AGENT}),
        read=(Read(AGENT),),
        update=(Update(ADMIN), Update(AGENT, unless_states=CLOSED_OR_CANCELLED)),
        delete=frozenset({ADMIN}),
        # No requester, requested-for person or organisation to edit: problems are the desk's own
        # records (their requester is who raised them), and naming a customer would share one.
        editable=TASK_EDITABLE
        + ("symptoms", "root_cause", "workaround", "category", "impact", "urgency", "hosts", "host_groups"),
        actions={
            "start": _manage("start"),
            "submit-rca": _manage("submit-rca"),
            # Reviewing an RCA is the problem manager's (itsm_manager and above).
            "approve-rca": (Act(APPROVE_RCA, states=sources(TRANSITIONS, "approve-rca")),),
            "reject-rca": (Act(APPROVE_RCA, states=sources(TRANSITIONS, "reject-rca")),),
            "verify": _manage("verify"),
            "close": _manage("close"),
            "cancel": _manage("cancel"),
            "assign": (Act(MANAGE, states=frozenset(ProblemState.values) - CLOSED_OR_CANCELLED),),
            "link_incidents": (Act(MANAGE),),
            "note": (Act(MANAGE),),
        },
    ),
    task_rules("problems.problemtask"),
)

# Who the desk's people pickers offer as assignees (itsm.people): what problems.services checks.
people.assignees("problems.problem", MANAGE)
people.assignees("problems.problemtask", ProblemTask.ASSIGNEE_PERMISSION)
