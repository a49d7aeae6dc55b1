"""Who may do what to changes, change tasks and the change calendar (SPEC §3, §4), declared with
the change state machine's states: the states an action is possible in come from its transition.

- Change: agents create, read and work changes; itsm_administrator updates always, agents unless
  closed or cancelled (a finished record, as problems); an agent changes ``change_type`` only in
  draft or submitted before any CAB decision (SPEC §4). The CAB decision (approve, reject) is
  ``changes.approve`` (itsm_manager); the workflow also refuses it to the change's requester and
  assignee.
- Governance templates are configuration (SPEC §3): itsm_administrator (``itsm.configure``)
  manages them, agents read them (the create form offers them).
- Maintenance windows and change freezes are the CAB's calendar: the holders of
  ``changes.approve`` (itsm_manager) plan them, agents read them (the calendar shows them and a
  freeze refuses their changes).
"""

from __future__ import annotations

from changes.models import Change, ChangeState, ChangeTask
from changes.workflows import LIFECYCLE, TRANSITIONS
from itsm import people
from itsm.policy.rules import (
    ADMIN,
    AGENT,
    CLOSED_OR_CANCELLED,
    WORK_EDITABLE,
    Act,
    Gate,
    Read,
    RecordRules,
    Update,
    kept_by_services,
    managed_by,
    register,
    sources,
    task_rules,
)

APPROVE = "changes.approve"
OPEN_STATES = frozenset(ChangeState.values) - CLOSED_OR_CANCELLED

# What an agent types on a change (besides the Work fields).
CHANGE_EDITABLE = (
    "change_type",
    "planned_start",
    "planned_end",
    "implementation_plan",
    "backout_plan",
    "test_plan",
    "justification",
    "hosts",
    "host_groups",
    "governance_template",
    "notice_override_reason",
)


def _agent(name: str) -> tuple[Act, ...]:
    return (Act(AGENT, states=sources(TRANSITIONS, name)),)


register(
    RecordRules(
        label="changes.change",
        states=tuple(ChangeState.values),
        initial_state=LIFECYCLE.initial,
        create=frozenset({AGENT}),
        read=(Read(AGENT),),
        update=(
            Update(ADMIN),
            Update(
                AGENT,
                unless_states=CLOSED_OR_CANCELLED,
                gates={"change_type": Gate(frozenset({"draft", "submitted"}), unset=("cab_decision",))},
            ),
        ),
        delete=frozenset({ADMIN}),
        editable=WORK_EDITABLE + CHANGE_EDITABLE,
        actions={
            "submit": _agent("submit"),
            "approve": (Act(APPROVE, states=sources(TRANSITIONS, "approve")),),
            "reject": (Act(APPROVE, states=sources(TRANSITIONS, "reject")),),
            "rework": _agent("rework"),
            "start": _agent("start"),
            "complete": _agent("complete"),
            "pir": _agent("pir"),
            "cancel": _agent("cancel"),
            "assign": (Act(AGENT, states=OPEN_STATES),),
            "complete-gate": (Act(AGENT, states=OPEN_STATES),),
            "impact": (Act(AGENT),),
            "note": (Act(AGENT),),
        },
    ),
    task_rules("changes.changetask"),
    managed_by(
        "itsm.configure",
        "changes.governancetemplate",
        (
            "name",
            "description",
            "maturity_level",
            "min_notice_hours",
            "required_gates",
            "optional_gates",
            "auto_approve_max_risk",
            "auto_approve_risk_levels",
            "pir_required",
            "active",
        ),
    ),
    managed_by(APPROVE, "changes.maintenancewindow", ("name", "description", "start", "end", "host_groups")),
    managed_by(APPROVE, "changes.changefreeze", ("name", "reason", "start", "end")),
)

# A person's change-calendar feed link is its own secret: nobody reads it through a door; its
# owner gets and resets it through ``changes.feeds``.
register(kept_by_services("changes.calendarfeedtoken", read=()))

# Who the desk's people pickers offer as assignees (itsm.people): what changes.services checks.
people.assignees("changes.change", Change.ASSIGNEE_PERMISSION)
people.assignees("changes.changetask", ChangeTask.ASSIGNEE_PERMISSION)
