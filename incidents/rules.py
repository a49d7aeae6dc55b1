"""Who may do what to incidents, their tasks and alerts (SPEC §4), declared with the incident
state machine's states: the states an action is possible in come from its transition."""

from __future__ import annotations

from incidents.models import IncidentState, IncidentTask
from incidents.workflows import LIFECYCLE, TRANSITIONS
from itsm import people
from itsm.policy.rules import (
    ADMIN,
    AGENT,
    CLOSED_OR_CANCELLED,
    ESCALATION_INTERNALS,
    MANAGE_INCIDENTS,
    OWN,
    SELF_SERVICE_WRITES,
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

# Beyond SPEC §4's list: the hosts an incident is about (from monitoring alerts) are
# configuration-item data, hidden from self-service like related_configuration_items.
CI_INTERNALS = frozenset({"hosts"})
# The workarounds of the incident's problems: part of "related problems", hidden with them.
PROBLEM_INTERNALS = frozenset({"workarounds"})
# The knowledge articles agents linked to the incident as its answer (``knowledge`` links them):
# the desk's working, like related problems; drafts among them would name unpublished articles.
KNOWLEDGE_INTERNALS = frozenset({"knowledge_articles"})
# "Customer replied" is the desk's triage flag (a resolved incident a customer answered, waiting
# for an agent to reopen or close it): the customer knows it wrote, the flag is the desk's working.
# ``resolution_message``, by contrast, is written for the customer and readable by it.
FOLLOW_UP_INTERNALS = frozenset({"customer_replied_at"})

# A closed or cancelled incident is finished (a deliberate reading of SPEC §4, whose Incident row
# says only "whoever may read it"): like a closed problem, change or incident task (SPEC §4:
# "itsm_administrator: always; itsm_agent: unless closed or cancelled"), agents no longer edit it,
# assign it or log time on it; administrators still edit it. A resolved incident is not finished:
# it may be reopened (SPEC §5), so agents still work it. Comments, work notes and files stay open,
# as on a finished request or problem: a customer may still write about a closed incident.
WORKED = frozenset(IncidentState.values) - CLOSED_OR_CANCELLED


def _manage(name: str) -> tuple[Act, ...]:
    return (Act(MANAGE_INCIDENTS, states=sources(TRANSITIONS, name)),)


register(
    RecordRules(
        label="incidents.incident",
        states=tuple(IncidentState.values),
        initial_state=LIFECYCLE.initial,
        create=frozenset({SS}),
        read=(
            Read(AGENT),
            Read(
                SS,
                scope=OWN,
                via=("requester", "requested_for"),
                grant="follow_incident",
                hidden=INCIDENT_HIDDEN | CI_INTERNALS | PROBLEM_INTERNALS | KNOWLEDGE_INTERNALS | SLA_INTERNALS
                | ESCALATION_INTERNALS | FOLLOW_UP_INTERNALS,
            ),
        ),
        update=(
            Update(ADMIN),
            Update(AGENT, unless_states=CLOSED_OR_CANCELLED),
            Update(SS, fields=SELF_SERVICE_WRITES),
        ),
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
            # related_problems is not edited here: the problems services link and unlink, so a
            # problem's incident and host counters stay exact.
            "changes_required",
        ),
        actions={
            "cancel": (
                Act(AGENT, states=sources(TRANSITIONS, "cancel")),
                Act(SS, own=True, states=sources(TRANSITIONS, "cancel")),
            ),
            "comment": (Act(AGENT), Act(SS, own=True)),
            "work_note": (Act(AGENT),),
            # Files on the incident itself (itsm.attachments): whoever may comment on it.
            "attach": (Act(AGENT), Act(SS, own=True)),
            "acknowledge": _manage("acknowledge"),
            "assign": (Act(MANAGE_INCIDENTS, states=WORKED),),
            "start": _manage("start"),
            "hold": _manage("hold"),
            "resume": _manage("resume"),
            "resolve": _manage("resolve"),
            "reopen": _manage("reopen"),
            "close": _manage("close"),
            "escalate": _manage("escalate"),
            "view_sla": (Act(AGENT),),
            "log_time": (Act(MANAGE_INCIDENTS, states=WORKED),),
            "read_time": (Act(AGENT),),
            "csat": (Act(SS, own=True, states=frozenset({"resolved", "closed"})),),
            "read_csat": (Act(AGENT), Act(SS, own=True)),
        },
    ),
    task_rules("incidents.incidenttask"),
    # Alerts from monitoring: written only by incidents.alerts.event_ingest (named permission
    # events.ingest), read by agents, removed with their incident.
    kept_by_services("incidents.alert"),
)

# Who the desk's and portal's people pickers offer (itsm.people): assignees and the major-incident
# manager are agents (incidents.services.check_people); requester and requested-for are whoever
# the reader may name (a customer: its own organisation).
people.assignees("incidents.incident", "incidents.manage")
people.assignees("incidents.incident", "incidents.manage", field="major_incident_manager")
people.assignees("incidents.incidenttask", IncidentTask.ASSIGNEE_PERMISSION)
people.nameable("incidents.incident", "requester")
people.nameable("incidents.incident", "requested_for")
people.organisations("incidents.incident")
