"""Who may do what in the service catalog (SPEC §3, §4), declared with the request state
machine's states: the states an action is possible in come from its transition.

- Catalog categories and items: everyone signed in reads the active ones (customers browse
  them; the item's fulfilment group and priority are the desk's business), agents read them all;
  holders of ``service_catalog.manage`` (itsm_manager) create, edit and remove them, with their
  approval levels and task templates (which only agents read: they name people and groups).
- ITSM Request (SPEC §4): customers raise them and read their own (requester, requested-for)
  or those they approve (a django-guardian ``approve_request`` grant), never the hidden fields;
  agents read and work them all. Approve and reject: the approvers (grant) and holders of
  ``service_requests.manage``; the workflow decides whose turn it is and refuses the requester.
  Fulfil, complete and assign: ``service_requests.manage`` (itsm_agent), on open requests;
  plain edits: agents until the request is finished, administrators always. Cancel: agents, or
  the customer who raised it (not the person it was raised for), before fulfilment.
- Request tasks: as incident tasks.
"""

from __future__ import annotations

from catalog.models import RequestState, RequestTask
from catalog.workflows import LIFECYCLE, TRANSITIONS
from itsm import people
from itsm.policy.rules import (
    ADMIN,
    AGENT,
    ANY_STATE,
    OWN,
    PERMISSIONS,
    SLA_INTERNALS,
    SS,
    WORK_EDITABLE,
    Act,
    Read,
    RecordRules,
    Update,
    kept_by_services,
    register,
    sources,
    task_rules,
)

MANAGE_REQUESTS = "service_requests.manage"
MANAGE_CATALOG = "service_catalog.manage"
APPROVE_GRANT = "approve_request"

# SPEC §4: what a self-service user never reads on a request.
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
# Beyond SPEC §4's list: the approval level being decided is the workflow's bookkeeping (the
# approvals themselves say where the request stands).
# Nor who decided what, with which comment, at which level (``approval_decisions`` in the
# journal): the requester learns the outcome, an approver its own decision (``approvals``).
REQUEST_INTERNALS = frozenset({"approval_level", "approval_decisions"})

# SPEC §4: what a self-service user writes on its own request (a request starts submitted).
REQUEST_SELF_SERVICE_WRITES = {
    "short_description": frozenset({RequestState.SUBMITTED}),
    "description": frozenset({RequestState.SUBMITTED}),
    "requested_for": ANY_STATE,
}
OPEN_STATES = frozenset(
    {RequestState.SUBMITTED, RequestState.PENDING_APPROVAL, RequestState.APPROVED, RequestState.IN_FULFILMENT}
)
# What the customer reads of an item: not who fulfils it nor the priority its requests get.
ITEM_HIDDEN = frozenset({"fulfilment_group", "priority"})
ACTIVE = (("active", frozenset({True})),)
CATALOG_WRITERS = PERMISSIONS[MANAGE_CATALOG]


def _catalog(label: str, editable: tuple[str, ...], *, customers: Read | None) -> RecordRules:
    return RecordRules(
        label=label,
        states=(),
        initial_state="",
        create=CATALOG_WRITERS,
        read=(Read(AGENT),) + ((customers,) if customers is not None else ()),
        update=tuple(Update(role) for role in sorted(CATALOG_WRITERS)),
        delete=CATALOG_WRITERS,
        editable=editable,
    )


def _decide(name: str) -> tuple[Act, ...]:
    states = sources(TRANSITIONS, name)
    return (Act(SS, grant=APPROVE_GRANT, states=states), Act(MANAGE_REQUESTS, states=states))


register(
    RecordRules(
        label="catalog.request",
        states=tuple(RequestState.values),
        initial_state=LIFECYCLE.initial,
        create=frozenset({SS}),
        read=(
            Read(AGENT),
            Read(
                SS,
                scope=OWN,
                via=("requester", "requested_for"),
                grant=APPROVE_GRANT,
                hidden=REQUEST_HIDDEN | REQUEST_INTERNALS | SLA_INTERNALS,
            ),
        ),
        # A finished request (completed, rejected, cancelled) is a closed record: agents no
        # longer edit it (its assign action is refused there too), administrators still do.
        update=(
            Update(ADMIN),
            Update(AGENT, unless_states=LIFECYCLE.finished),
            Update(SS, fields=REQUEST_SELF_SERVICE_WRITES),
        ),
        delete=frozenset({ADMIN}),
        editable=WORK_EDITABLE + ("classification", "service"),
        actions={
            "approve": _decide("approve"),
            "reject": _decide("reject"),
            "fulfil": (Act(MANAGE_REQUESTS, states=sources(TRANSITIONS, "fulfil")),),
            "complete": (Act(MANAGE_REQUESTS, states=sources(TRANSITIONS, "complete")),),
            "cancel": (
                Act(AGENT, states=sources(TRANSITIONS, "cancel")),
                # Issue 15: the customer who raised it (not the person it was raised for).
                Act(SS, via=("requester",), states=sources(TRANSITIONS, "cancel")),
            ),
            "assign": (Act(MANAGE_REQUESTS, states=OPEN_STATES),),
            "comment": (Act(AGENT), Act(SS, own=True), Act(SS, grant=APPROVE_GRANT)),
            "work_note": (Act(AGENT),),
            # Files on the request itself (itsm.attachments): whoever may comment on it.
            "attach": (Act(AGENT), Act(SS, own=True), Act(SS, grant=APPROVE_GRANT)),
            "view_sla": (Act(AGENT),),
            # Hidden-type form fields (a cost centre, a routing code) are the desk's own: their
            # answers, and an item's hidden fields with their defaults, are read by agents only
            # (catalog.selectors.answers / form_for); the service injects them at submission.
            "read_hidden_answers": (Act(AGENT),),
        },
    ),
    task_rules("catalog.requesttask"),
    _catalog(
        "catalog.catalogcategory",
        ("name", "description", "icon", "position", "active"),
        customers=Read(SS, where=ACTIVE),
    ),
    _catalog(
        "catalog.catalogitem",
        ("category", "name", "description", "icon", "active", "fulfilment_group", "priority", "form_fields"),
        customers=Read(SS, where=ACTIVE, hidden=ITEM_HIDDEN),
    ),
    _catalog("catalog.approvallevel", ("item", "position", "mode", "users", "group"), customers=None),
    _catalog(
        "catalog.tasktemplate",
        ("item", "position", "short_description", "description", "assignment_group"),
        customers=None,
    ),
    # Decisions are written by the workflow only; agents read them all, an approver its own.
    kept_by_services("catalog.requestapproval", read=(Read(AGENT), Read(SS, scope=OWN, via=("approver",)))),
    # Notes are written through catalog.services; which ones a reader sees is the request's
    # comment / work_note rule (the services and selectors ask it).
    kept_by_services("catalog.requestnote", read=()),
)

# Who the desk's and portal's people pickers offer (itsm.people): assignees are what
# catalog.services checks; requested-for is whoever the reader may name (a customer: its own
# organisation).
people.assignees("catalog.request", MANAGE_REQUESTS)
people.assignees("catalog.requesttask", RequestTask.ASSIGNEE_PERMISSION)
people.nameable("catalog.request", "requested_for")
# The approvers an item's level names: typed user names, with type-ahead (catalog.forms).
people.nameable("catalog.approvallevel", "users")
