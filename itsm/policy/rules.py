"""The access policy as data: SPEC §3 and §4, declared once.

Nothing outside ``itsm.policy`` names a role when deciding who may do what: doors and services
ask ``itsm.policy`` (``can``, ``readable``, ``readable_fields``, ``writable_fields``), which reads
the tables below.

How to read a record's rules:

* ``create``: roles that may create it.
* ``read``: who reads which rows. ``ALL`` reads every row; ``OWN`` reads rows where the user is
  one of the ``via`` people, or holds the ``grant`` (a django-guardian object permission) on the
  row. A reader's ``hidden`` fields are never shown to it — unless another of its roles reads the
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
    or records it holds ``grant`` on, and only in ``states``."""

    role: str
    states: frozenset[str] | None = ANY_STATE
    own: bool = False
    grant: str | None = None


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

# SPEC §4: what a self-service user never reads.
INCIDENT_HIDDEN = frozenset(
    {
        "major_incident",
        "major_incident_review",
        "major_incident_journal",
        "major_incident_manager",
        "major_incident_followers",
        "sla_status",
        "work_journal",
        "priority",
        "assignment_group",
        "assignee",
        "classification",
        "impact",
        "urgency",
        "resolution_notes",
        "collaborators",
        "service",
        "related_configuration_items",
        "related_incidents",
        "changes_required",
        "related_problems",
        "related_slas",
        "subtasks",
    }
)
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

INCIDENT_STATES = ("new", "in_progress", "on_hold", "resolved", "closed", "cancelled")
REQUEST_STATES = (
    "new",
    "pending_approval",
    "approved",
    "rejected",
    "in_fulfilment",
    "completed",
    "closed",
    "cancelled",
)
PROBLEM_STATES = ("new", "in_progress", "rca_submitted", "change_created", "verified", "closed")
CHANGE_STATES = ("draft", "submitted", "approved", "rejected", "implementing", "review", "closed")
TASK_STATES = ("open", "in_progress", "closed", "cancelled")
WORK_STATES = tuple(
    dict.fromkeys(INCIDENT_STATES + REQUEST_STATES + PROBLEM_STATES + CHANGE_STATES + TASK_STATES)
)

CLOSED_OR_CANCELLED = frozenset({"closed", "cancelled"})
OPEN_INCIDENT = frozenset({"new", "in_progress", "on_hold"})
MANAGE_INCIDENTS = "incidents.manage"
CLOSED = frozenset({"closed"})


def _task(label: str) -> RecordRules:
    """Incident, request, change and problem tasks share one rule (SPEC §4: "as Incident task")."""
    return RecordRules(
        label=label,
        states=TASK_STATES,
        initial_state="open",
        create=frozenset({AGENT}),
        read=(Read(AGENT),),
        update=(Update(ADMIN), Update(AGENT, unless_states=CLOSED_OR_CANCELLED)),
        delete=frozenset({ADMIN}),
        editable=TASK_EDITABLE,
    )


RECORDS: dict[str, RecordRules] = {
    rules.label: rules
    for rules in (
        RecordRules(
            label="itsm.work",
            states=WORK_STATES,
            initial_state="new",
            create=frozenset({ADMIN}),
            read=(Read(AGENT),),
            update=(Update(ADMIN),),
            delete=frozenset({ADMIN}),
            editable=WORK_EDITABLE,
        ),
        RecordRules(
            label="incidents.incident",
            states=INCIDENT_STATES,
            initial_state="new",
            create=frozenset({SS}),
            read=(
                Read(AGENT),
                Read(
                    SS,
                    scope=OWN,
                    via=("requester", "requested_for"),
                    grant="follow_incident",
                    hidden=INCIDENT_HIDDEN | SLA_INTERNALS | ESCALATION_INTERNALS,
                ),
            ),
            update=(Update(AGENT), Update(SS, fields=SELF_SERVICE_WRITES)),
            delete=frozenset({ADMIN}),
            editable=WORK_EDITABLE
            + (
                "impact",
                "urgency",
                "classification",
                "category",
                "subcategory",
                "service",
                "major_incident",
                "major_incident_review",
                "major_incident_manager",
                "collaborators",
                "hosts",
                "related_configuration_items",
                "related_incidents",
                "related_problems",
                "changes_required",
            ),
            actions={
                "cancel": (
                    Act(AGENT, states=OPEN_INCIDENT),
                    Act(SS, own=True, states=OPEN_INCIDENT),
                ),
                "comment": (Act(AGENT), Act(SS, own=True)),
                "work_note": (Act(AGENT),),
                "acknowledge": (Act(MANAGE_INCIDENTS, states=OPEN_INCIDENT),),
                "assign": (Act(MANAGE_INCIDENTS),),
                "start": (Act(MANAGE_INCIDENTS),),
                "hold": (Act(MANAGE_INCIDENTS),),
                "resume": (Act(MANAGE_INCIDENTS),),
                "resolve": (Act(MANAGE_INCIDENTS),),
                "reopen": (Act(MANAGE_INCIDENTS),),
                "close": (Act(MANAGE_INCIDENTS),),
                "escalate": (Act(MANAGE_INCIDENTS, states=OPEN_INCIDENT),),
                "view_sla": (Act(AGENT),),
                "log_time": (Act(MANAGE_INCIDENTS),),
                "read_time": (Act(AGENT),),
                "csat": (Act(SS, own=True, states=frozenset({"resolved", "closed"})),),
                "read_csat": (Act(AGENT), Act(SS, own=True)),
            },
        ),
        _task("incidents.incidenttask"),
        RecordRules(
            label="catalog.request",
            states=REQUEST_STATES,
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
        _task("catalog.requesttask"),
        RecordRules(
            label="changes.change",
            states=CHANGE_STATES,
            initial_state="draft",
            create=frozenset({AGENT}),
            read=(Read(AGENT),),
            update=(
                Update(ADMIN),
                Update(
                    AGENT,
                    unless_states=CLOSED,
                    gates={"change_type": Gate(frozenset({"draft", "submitted"}), unset=("cab_decision",))},
                ),
            ),
            delete=frozenset({ADMIN}),
            editable=WORK_EDITABLE + ("change_type",),
        ),
        _task("changes.changetask"),
        RecordRules(
            label="problems.problem",
            states=PROBLEM_STATES,
            initial_state="new",
            create=frozenset({AGENT}),
            read=(Read(AGENT),),
            update=(Update(ADMIN), Update(AGENT, unless_states=CLOSED)),
            delete=frozenset({ADMIN}),
            editable=WORK_EDITABLE + ("workaround",),
        ),
        _task("problems.problemtask"),
    )
}

# Shared reference data (SPEC §3: configuration items by the cmdb_* roles).
REFERENCE: dict[str, RecordRules] = {
    rules.label: rules
    for rules in (
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
        RecordRules(
            label="itsm.host",
            states=(),
            initial_state="",
            create=frozenset({Role.CMDB_MANAGER}),
            read=(Read(Role.CMDB_VIEWER),),
            update=(Update(Role.CMDB_MANAGER),),
            delete=frozenset({Role.CMDB_ADMINISTRATOR}),
            editable=("hostname", "description", "ip_address", "host_group", "organisation", "is_active"),
        ),
        RecordRules(
            label="itsm.hostgroup",
            states=(),
            initial_state="",
            create=frozenset({Role.CMDB_MANAGER}),
            read=(Read(Role.CMDB_VIEWER),),
            update=(Update(Role.CMDB_MANAGER),),
            delete=frozenset({Role.CMDB_ADMINISTRATOR}),
            editable=("name", "description", "service_tier", "sla", "organisation"),
        ),
        RecordRules(
            label="itsm.hostgroupdependency",
            states=(),
            initial_state="",
            create=frozenset({Role.CMDB_MANAGER}),
            read=(Read(Role.CMDB_VIEWER),),
            update=(Update(Role.CMDB_MANAGER),),
            delete=frozenset({Role.CMDB_ADMINISTRATOR}),
            editable=("dependent", "depends_on", "description"),
        ),
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
        # SLA calendars, holidays and escalation policies (SPEC §3): itsm_administrator manages
        # them (itsm.configure); agents read them to explain due times and escalations.
        *(
            RecordRules(
                label=label,
                states=(),
                initial_state="",
                create=PERMISSIONS["itsm.configure"],
                read=(Read(AGENT),),
                update=tuple(Update(role) for role in sorted(PERMISSIONS["itsm.configure"])),
                delete=PERMISSIONS["itsm.configure"],
                editable=editable,
            )
            for label, editable in (
                ("sla.businesscalendar", ("name", "description", "time_zone", "always_open")),
                ("sla.workingperiod", ("calendar", "weekday", "start", "end")),
                ("sla.holiday", ("calendar", "name", "date", "recurring")),
                (
                    "escalation.escalationpolicy",
                    ("name", "description", "organisation", "is_default", "is_active"),
                ),
                (
                    "escalation.escalationstage",
                    (
                        "policy",
                        "order",
                        "timeout_minutes",
                        "requires_acknowledgment",
                        "users",
                        "assignment_group",
                        "schedule",
                    ),
                ),
            )
        ),
        # Clocks are kept by sla.clocks and the sweeps only; agents read them.
        RecordRules(
            label="sla.slaclock",
            states=(),
            initial_state="",
            create=frozenset(),
            read=(Read(AGENT),),
            update=(),
            delete=frozenset(),
        ),
        # Each person reads (and marks read) only its own notifications.
        RecordRules(
            label="notifications.notification",
            states=(),
            initial_state="",
            create=frozenset(),
            read=(Read(Role.PLATFORM_AGENT, scope=OWN, via=("recipient",)),),
            update=(Update(Role.PLATFORM_AGENT, fields={"read_at": ANY_STATE}),),
            delete=frozenset(),
        ),
        # Alerts from monitoring: written only by incidents.alerts.event_ingest (named permission
        # events.ingest), read by agents, removed with their incident.
        RecordRules(
            label="incidents.alert",
            states=(),
            initial_state="",
            create=frozenset(),
            read=(Read(AGENT),),
            update=(),
            delete=frozenset(),
        ),
        # The journal is written by services only; no role creates, updates or deletes it.
        RecordRules(
            label="itsm.auditentry",
            states=(),
            initial_state="",
            create=frozenset(),
            read=(Read(AGENT),),
            update=(),
            delete=frozenset(),
        ),
        # On-call (seed 000): agents read schedules; managing them (participants, overrides,
        # group routing, feed links) takes whoever holds incidents.manage.
        RecordRules(
            label="oncall.schedule",
            states=(),
            initial_state="",
            create=PERMISSIONS[MANAGE_INCIDENTS],
            read=(Read(AGENT),),
            update=tuple(Update(role) for role in sorted(PERMISSIONS[MANAGE_INCIDENTS])),
            delete=PERMISSIONS[MANAGE_INCIDENTS],
            editable=(
                "name",
                "description",
                "time_zone",
                "rotation",
                "handoff_day",
                "handoff_time",
                "custom_rotation_hours",
                "start",
                "participants",
                "assignment_groups",
            ),
            actions={"override": (Act(MANAGE_INCIDENTS),), "reset_feed": (Act(MANAGE_INCIDENTS),)},
        ),
        RecordRules(
            label="oncall.override",
            states=(),
            initial_state="",
            create=PERMISSIONS[MANAGE_INCIDENTS],
            read=(Read(AGENT),),
            update=tuple(Update(role) for role in sorted(PERMISSIONS[MANAGE_INCIDENTS])),
            delete=PERMISSIONS[MANAGE_INCIDENTS],
            editable=("schedule", "user", "start", "end", "reason"),
        ),
        RecordRules(
            label="oncall.groupschedule",
            states=(),
            initial_state="",
            create=PERMISSIONS[MANAGE_INCIDENTS],
            read=(Read(AGENT),),
            update=tuple(Update(role) for role in sorted(PERMISSIONS[MANAGE_INCIDENTS])),
            delete=PERMISSIONS[MANAGE_INCIDENTS],
            editable=("group", "schedule"),
        ),
        # A person's feed link is its own secret: nobody reads it through a door; its owner
        # resets it, and so may a manager (e.g. when the link leaked).
        RecordRules(
            label="oncall.feedtoken",
            states=(),
            initial_state="",
            create=frozenset(),
            read=(),
            update=(),
            delete=frozenset(),
            actions={"reset_any": (Act(MANAGER),)},
        ),
    )
}

ALL_RULES: dict[str, RecordRules] = {**RECORDS, **REFERENCE}

# Notes (comments and work notes): besides their author, these roles may edit or delete them.
NOTE_EDITORS: frozenset[str] = frozenset({ADMIN})

# Incident fields whose change is derived, not typed: editing impact or urgency re-derives the
# priority from the matrix unless the same edit sets priority itself.
