"""The access policy as data: SPEC §3 and §4, declared once.

Nothing outside ``itsm.policy`` names a role when deciding who may do what: doors and services
ask ``itsm.policy`` (``can``, ``readable``, ``readable_fields``, ``writable_fields``), which reads
the tables below.

How to read a record's rules:

* ``create``: roles that may create it.
* ``read``: who reads which rows. ``ALL`` reads every row; ``OWN`` reads rows where the user is
  one of the ``via`` people, or holds the ``grant`` (a django-guardian object permission) on the
  row. ``where`` narrows either to rows whose fields hold one of the given values (e.g. published
  articles for everyone: ``where=(("state", {"published"}), ("audience", {"everyone"}))``). A
  reader's ``hidden`` fields are never shown to it — unless another of its roles reads the
  record with nothing hidden.
* ``update``: who updates, in which states, which fields. Only readers update. ``fields=None``
  means every editable field the user may read; otherwise only the listed fields, each while the
  record is in the given states (``ANY_STATE`` for every state). ``gates`` narrow single fields
  further (e.g. ``change_type`` only before a CAB decision).
* ``delete``: roles that may delete it.
* ``actions``: transitions and other actions beyond plain updates (``cancel``, ``approve``…): who
  may take them, in which states; the domain's workflow says what each one does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from itsm.models import TaskState
from itsm.roles import Role

ALL = "all"
OWN = "own"
ANY_STATE: frozenset[str] | None = None

SS = Role.PLATFORM_SELFSERVICE
AGENT = Role.ITSM_AGENT
MANAGER = Role.ITSM_MANAGER
ADMIN = Role.ITSM_ADMINISTRATOR


@dataclass(frozen=True)
class Read:
    role: str
    scope: str = ALL
    via: tuple[str, ...] = ()
    grant: str | None = None
    hidden: frozenset[str] = frozenset()
    # (field, values) pairs a readable row must match, all of them: plain column conditions, so
    # ``readable`` stays one query.
    where: tuple[tuple[str, frozenset[str]], ...] = ()

    def matches(self, obj) -> bool:
        return all(getattr(obj, name) in values for name, values in self.where)


@dataclass(frozen=True)
class Gate:
    """A field writable only in ``states`` and while every field in ``unset`` is still empty."""

    states: frozenset[str]
    unset: tuple[str, ...] = ()


@dataclass(frozen=True)
class Update:
    role: str
    unless_states: frozenset[str] = frozenset()
    fields: Mapping[str, frozenset[str] | None] | None = None
    gates: Mapping[str, Gate] = field(default_factory=dict)


@dataclass(frozen=True)
class Act:
    """Who may take an action: a role (or a named permission), optionally only on own records
    (``own``: any people field of its OWN read rule; ``via``: only these people fields, e.g. a
    request's ``requester``) or records it holds ``grant`` on, and only in ``states``."""

    role: str
    states: frozenset[str] | None = ANY_STATE
    own: bool = False
    grant: str | None = None
    via: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordRules:
    label: str  # "app_label.modelname"
    states: tuple[str, ...]
    initial_state: str
    create: frozenset[str]
    read: tuple[Read, ...]
    update: tuple[Update, ...]
    delete: frozenset[str]
    editable: tuple[str, ...] = ()
    actions: Mapping[str, tuple[Act, ...]] = field(default_factory=dict)


# --- Named permissions (seed 000) and the roles that hold them --------------------------------

PERMISSIONS: dict[str, frozenset[str]] = {
    "incidents.manage": frozenset({AGENT}),
    "problems.manage": frozenset({AGENT}),
    "problems.approve_rca": frozenset({MANAGER}),
    "changes.approve": frozenset({MANAGER}),
    "service_requests.manage": frozenset({AGENT}),
    "service_catalog.manage": frozenset({MANAGER}),
    "itsm.configure": frozenset({ADMIN}),  # SLAs, calendars, holidays, escalation, templates
    "itsm.grant_roles": frozenset({ADMIN, Role.APPLICATION_ADMINISTRATOR}),
    "knowledge.edit": frozenset({Role.KNOWLEDGE_EDITOR}),
    "knowledge.publish": frozenset({Role.KNOWLEDGE_MANAGER}),
    "cmdb.view": frozenset({Role.CMDB_VIEWER}),
    "cmdb.edit": frozenset({Role.CMDB_MANAGER}),
    "cmdb.delete": frozenset({Role.CMDB_ADMINISTRATOR}),
    "desk.access": frozenset({Role.PLATFORM_AGENT}),
    "admin.access": frozenset({ADMIN, Role.APPLICATION_ADMINISTRATOR, Role.CMDB_MANAGER}),
    # Posting monitoring alerts (POST /api/v1/events/): service accounts are given itsm_agent.
    "events.ingest": frozenset({AGENT}),
    "sla.report": frozenset({AGENT}),  # the SLA compliance report (API and desk)
}


# --- Field lists -----------------------------------------------------------------------------

# Beyond SPEC §4's list, the SLA and escalation bookkeeping behind "SLA status" and "related
# SLAs" (which definition, when it falls due, the escalation policy and its stage) is the
# desk's business too: it would tell a customer what the SLA status says.
SLA_INTERNALS = frozenset({"sla_definition", "sla_due_at"})
ESCALATION_INTERNALS = frozenset(
    {
        "escalation_level",
        "escalation_policy",
        "escalation_stage",
        "escalation_stage_started_at",
        "escalation_acknowledged_at",
        "escalation_next_at",
        "escalation_time_left",
    }
)
WORK_EDITABLE = (
    "short_description",
    "description",
    "priority",
    "assignment_group",
    "assignee",
    "requester",
    "requested_for",
    "organisation",
)
TASK_EDITABLE = ("short_description", "description", "priority", "assignment_group", "assignee")

# SPEC §4: what a self-service user may write on its own records, and in which states.
SELF_SERVICE_WRITES = {
    "short_description": frozenset({"new"}),
    "description": frozenset({"new"}),
    "requested_for": ANY_STATE,
}

CLOSED_OR_CANCELLED = frozenset({"closed", "cancelled"})
MANAGE_INCIDENTS = "incidents.manage"
CLOSED = frozenset({"closed"})


def task_rules(label: str) -> RecordRules:
    """Incident, request, change and problem tasks share one rule (SPEC §4: "as Incident task")."""
    return RecordRules(
        label=label,
        states=tuple(TaskState.values),
        initial_state="open",
        create=frozenset({AGENT}),
        read=(Read(AGENT),),
        update=(Update(ADMIN), Update(AGENT, unless_states=CLOSED_OR_CANCELLED)),
        delete=frozenset({ADMIN}),
        editable=TASK_EDITABLE,
    )


# Shared reference data (SPEC §3: configuration items by the cmdb_* roles).
# --- The registry: every record type's rules, declared by its app (``<app>/rules.py``) ------

ALL_RULES: dict[str, RecordRules] = {}


def register(*rules: RecordRules) -> None:
    """Declare record types' rules; each app's ``rules.py`` calls this once at start-up (the core
    discovers those modules: ``itsm.apps``). A label declared twice is a mistake, not an override."""
    for entry in rules:
        if entry.label in ALL_RULES and ALL_RULES[entry.label] != entry:
            raise ValueError(f"Access rules for {entry.label} are declared twice.")
        ALL_RULES[entry.label] = entry


def managed_by(permission: str, label: str, editable: tuple[str, ...]) -> RecordRules:
    """Configuration that holders of a named permission manage and agents read (e.g. SLA
    calendars and escalation policies: ``itsm.configure``)."""
    holders = PERMISSIONS[permission]
    return RecordRules(
        label=label,
        states=(),
        initial_state="",
        create=holders,
        read=(Read(AGENT),),
        update=tuple(Update(role) for role in sorted(holders)),
        delete=holders,
        editable=editable,
    )


def configuration_item(label: str, editable: tuple[str, ...]) -> RecordRules:
    """CMDB records (SPEC §3): cmdb_viewer reads, cmdb_manager creates and edits,
    cmdb_administrator deletes."""
    return RecordRules(
        label=label,
        states=(),
        initial_state="",
        create=frozenset({Role.CMDB_MANAGER}),
        read=(Read(Role.CMDB_VIEWER),),
        update=(Update(Role.CMDB_MANAGER),),
        delete=frozenset({Role.CMDB_ADMINISTRATOR}),
        editable=editable,
    )


def kept_by_services(label: str, *, read: tuple[Read, ...] = (Read(AGENT),)) -> RecordRules:
    """Records only services write (journal, clocks, alerts): no role creates, updates or
    deletes them through a door; ``read`` says who reads them."""
    return RecordRules(
        label=label, states=(), initial_state="", create=frozenset(), read=read, update=(), delete=frozenset()
    )


def sources(transitions, name: str) -> frozenset[str]:
    """The states a transition starts from: an action's states come from the state machine."""
    return transitions[name].sources


# --- The core's own records -------------------------------------------------------------------

register(
    RecordRules(
        label="itsm.work",
        states=(),  # each kind's own states (its lifecycle)
        initial_state="new",
        create=frozenset({ADMIN}),
        read=(Read(AGENT),),
        update=(Update(ADMIN),),
        delete=frozenset({ADMIN}),
        editable=WORK_EDITABLE,
    ),
    RecordRules(
        label="itsm.organisation",
        states=(),
        initial_state="",
        create=frozenset({ADMIN}),
        read=(Read(Role.PLATFORM_AGENT),),
        update=(Update(ADMIN),),
        delete=frozenset({ADMIN}),
        editable=("name", "is_active", "default_sla"),
    ),
    # Who is in a group (and who leads it) is the group's business: whoever may update the group
    # (itsm_manager) adds, changes and removes memberships; staff read them.
    RecordRules(
        label="itsm.groupmembership",
        states=(),
        initial_state="",
        create=frozenset({MANAGER}),
        read=(Read(Role.PLATFORM_AGENT),),
        update=(Update(MANAGER),),
        delete=frozenset({MANAGER}),
        editable=("group", "user", "role"),
    ),
    RecordRules(
        label="itsm.assignmentgroup",
        states=(),
        initial_state="",
        create=frozenset({ADMIN}),
        read=(Read(Role.PLATFORM_AGENT),),
        update=(Update(MANAGER),),
        delete=frozenset({ADMIN}),
        editable=("name", "description", "email", "organisation", "is_active"),
    ),
    configuration_item("itsm.host", ("hostname", "description", "ip_address", "host_group", "organisation", "is_active")),
    configuration_item("itsm.hostgroup", ("name", "description", "service_tier", "sla", "organisation")),
    configuration_item("itsm.hostgroupdependency", ("dependent", "depends_on", "description")),
    RecordRules(
        label="itsm.sladefinition",
        states=(),
        initial_state="",
        create=frozenset({ADMIN}),
        read=(Read(AGENT),),
        update=(Update(ADMIN),),
        delete=frozenset({ADMIN}),
        editable=(
            "name",
            "description",
            "is_active",
            "is_default",
            "calendar",
            *(f"p{n}_{t}_minutes" for n in range(1, 5) for t in ("response", "resolution")),
        ),
    ),
    # The journal is written by services only; agents read it.
    kept_by_services("itsm.auditentry"),
    # Files on records: written by itsm.attachments only; a record's readers read its files there
    # (attachments_of / attachment_or_404); as a table, agents read them (the admin's list).
    kept_by_services("itsm.attachment"),
)


# Notes (comments and work notes): besides their author, these roles may edit or delete them.
NOTE_EDITORS: frozenset[str] = frozenset({ADMIN})

# Incident fields whose change is derived, not typed: editing impact or urgency re-derives the
# priority from the matrix unless the same edit sets priority itself.
