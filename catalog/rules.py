"""Who may do what to requests and request tasks (SPEC §4)."""

from __future__ import annotations

from catalog.models import RequestState
from itsm.policy.rules import (
    ADMIN,
    AGENT,
    OWN,
    SELF_SERVICE_WRITES,
    SLA_INTERNALS,
    SS,
    WORK_EDITABLE,
    Act,
    Read,
    RecordRules,
    Update,
    register,
    task_rules,
)

REQUEST_HIDDEN = frozenset(
    {
        "sla_status",
        "work_journal",
        "priority",
        "assignment_group",
        "assignee",
        "classification",
        "completion_notes",
        "collaborators",
        "subtasks",
        "related_configuration_items",
        "service",
        "related_slas",
        "changes_required",
    }
)


register(
    RecordRules(
        label="catalog.request",
        states=tuple(RequestState.values),
        initial_state="new",
        create=frozenset({SS}),
        read=(
            Read(AGENT),
            Read(
                SS,
                scope=OWN,
                via=("requester", "requested_for"),
                grant="approve_request",
                hidden=REQUEST_HIDDEN | SLA_INTERNALS,
            ),
        ),
        update=(Update(AGENT), Update(SS, fields=SELF_SERVICE_WRITES)),
        delete=frozenset({ADMIN}),
        editable=WORK_EDITABLE + ("classification", "service"),
        actions={
            "cancel": (
                Act(AGENT, states=frozenset({"new", "pending_approval", "approved"})),
                Act(SS, own=True, states=frozenset({"new", "pending_approval", "approved"})),
            ),
            "approve": (Act(SS, grant="approve_request", states=frozenset({"pending_approval"})),),
            "reject": (Act(SS, grant="approve_request", states=frozenset({"pending_approval"})),),
            "comment": (Act(AGENT), Act(SS, own=True)),
        },
    ),
    task_rules("catalog.requesttask"),
)
