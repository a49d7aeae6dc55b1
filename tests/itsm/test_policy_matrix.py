"""The whole access-policy matrix of SPEC §3 and §4, walked cell by cell.

Every expected value below is written out from the specification (SPEC §3 roles, inclusion and
named permissions; SPEC §4 record-level rules and the self-service hidden-field lists). Nothing
here reads ``itsm.policy.rules``: the policy is the code under test, the tables below are the
spec. Each parametrized id reads as the rule it checks, e.g.
``itsm_agent-cannot-update-closed-incident_task-unrelated``.

Actors are users granted exactly ONE role (inclusion per SPEC §3 applies), plus a Django
superuser, who "may do everything an itsm_administrator may".
"""

from __future__ import annotations

import itertools
import re

import pytest
from django.db import transaction
from django.urls import reverse
from guardian.shortcuts import assign_perm

from catalog.models import Request, RequestTask
from changes.models import Change, ChangeTask
from conftest import make_user
from incidents.models import Incident, IncidentTask
from itsm import policy
from itsm.actions import TASK_ACTIONS
from itsm.models import Organisation, Work
from itsm.roles import effective_roles
from knowledge.models import Article, ArticleFeedback, ArticleVersion
from problems import services as problem_services
from problems import workflows as problem_workflows
from problems.actions import ACTIONS as PROBLEM_ACTIONS
from problems.models import Problem, ProblemTask
from tests.problems import factories as problem_factories

# Every test only ASKS the policy about the records of ``world`` (built once, see below) and
# never writes; so no per-test transaction is needed, which keeps ~1,300 cases fast. The few
# API tests that write (section 6) take ``db``: their own transaction inside the world's.
pytestmark = pytest.mark.usefixtures("world")


# =============================================================================================
# SPEC §3 — the roles, and what each of them held ALONE effectively is
# =============================================================================================

SUPERUSER = "superuser"  # a Django superuser: "may do everything an itsm_administrator may"

ACTORS = (
    "platform_selfservice",
    "platform_agent",
    "itsm_agent",
    "itsm_manager",
    "itsm_administrator",
    "knowledge_editor",
    "knowledge_manager",
    "cmdb_viewer",
    "cmdb_manager",
    "cmdb_administrator",
    "application_administrator",
    SUPERUSER,
)

# "itsm_administrator ⊃ itsm_manager ⊃ itsm_agent ⊃ platform_agent ⊃ platform_selfservice".
# knowledge_*, cmdb_* and application_administrator include none of these.
SELF_SERVICE_OR_ABOVE = frozenset(
    {"platform_selfservice", "platform_agent", "itsm_agent", "itsm_manager", "itsm_administrator", SUPERUSER}
)
AGENT_OR_ABOVE = frozenset({"itsm_agent", "itsm_manager", "itsm_administrator", SUPERUSER})
MANAGER_OR_ABOVE = frozenset({"itsm_manager", "itsm_administrator", SUPERUSER})
ADMIN_OR_ABOVE = frozenset({"itsm_administrator", SUPERUSER})
# Held alone, these reach platform_selfservice but not itsm_agent: "basic visibility".
SELF_SERVICE_ONLY = frozenset({"platform_selfservice", "platform_agent"})

# SPEC §3 named permissions and who holds them by default.
NAMED_PERMISSIONS = {
    "incidents.manage": AGENT_OR_ABOVE,
    "problems.manage": AGENT_OR_ABOVE,
    "service_requests.manage": AGENT_OR_ABOVE,
    "problems.approve_rca": MANAGER_OR_ABOVE,
    "changes.approve": MANAGER_OR_ABOVE,
    "service_catalog.manage": MANAGER_OR_ABOVE,
}


# =============================================================================================
# SPEC §4 — record types, their states, and the record-level rules
# =============================================================================================

INCIDENT_STATES = ("new", "in_progress", "on_hold", "resolved", "closed", "cancelled")
# Issue 15: submitted → pending_approval → approved / rejected → in_fulfilment → completed, and
# cancelled.
REQUEST_STATES = (
    "submitted",
    "pending_approval",
    "approved",
    "rejected",
    "in_fulfilment",
    "completed",
    "cancelled",
)
PROBLEM_STATES = (
    "new", "investigating", "rca_submitted", "rca_rejected", "change_created", "verified", "closed", "cancelled",
)  # fmt: skip
CHANGE_STATES = (
    "draft", "submitted", "approved", "rejected", "in_progress", "review", "closed", "cancelled",
)  # fmt: skip
TASK_STATES = ("open", "in_progress", "closed", "cancelled")
# ITSM Work is the parent of all: its rows carry any of its children's states.
WORK_STATES = (
    "new",
    "in_progress",
    "on_hold",
    "resolved",
    "closed",
    "cancelled",
    "pending_approval",
    "approved",
    "rejected",
    "in_fulfilment",
    "completed",
    "investigating",
    "rca_submitted",
    "rca_rejected",
    "change_created",
    "verified",
    "draft",
    "submitted",
    "review",
    "open",
)

STATES = {
    "work": WORK_STATES,
    "incident": INCIDENT_STATES,
    "incident_task": TASK_STATES,
    "request": REQUEST_STATES,
    "request_task": TASK_STATES,
    "change": CHANGE_STATES,
    "change_task": TASK_STATES,
    "problem": PROBLEM_STATES,
    "problem_task": TASK_STATES,
}
RECORDS = tuple(STATES)

# How a record relates to the acting user. "shared" is the single-user django-guardian grant
# (an incident's follower, a request's approver); only incidents and requests have one.
RELATIONS = {
    "work": ("unrelated", "requester", "requested_for"),
    "incident": ("unrelated", "requester", "requested_for", "shared"),
    "incident_task": ("unrelated", "requester", "requested_for"),
    "request": ("unrelated", "requester", "requested_for", "shared"),
    "request_task": ("unrelated", "requester", "requested_for"),
    "change": ("unrelated", "requester", "requested_for"),
    "change_task": ("unrelated", "requester", "requested_for"),
    "problem": ("unrelated", "requester", "requested_for"),
    "problem_task": ("unrelated", "requester", "requested_for"),
}

# --- create (SPEC §4 "create" column) ---------------------------------------------------------
CREATE = {
    "work": ADMIN_OR_ABOVE,  # ITSM Work: itsm_administrator
    "incident": SELF_SERVICE_OR_ABOVE,  # Incident: platform_selfservice
    "incident_task": AGENT_OR_ABOVE,  # Incident task: itsm_agent
    "request": SELF_SERVICE_OR_ABOVE,  # ITSM Request: platform_selfservice
    "request_task": AGENT_OR_ABOVE,  # Request task: itsm_agent
    "change": AGENT_OR_ABOVE,  # Change: itsm_agent
    "change_task": AGENT_OR_ABOVE,  # Change task: itsm_agent
    "problem": AGENT_OR_ABOVE,  # Problem: itsm_agent
    "problem_task": AGENT_OR_ABOVE,  # Problem task: itsm_agent
}

# --- read (SPEC §4 "read" column), by relation -------------------------------------------------
# "Incident: itsm_agent: all; self-service: where requester or requested_for" (+ followers,
# SPEC §1/§4 single-user shares); "ITSM Request: ... self-service: where requester,
# requested_for or approver"; every other record: itsm_agent.
_OWN_READ = {
    "unrelated": AGENT_OR_ABOVE,
    "requester": SELF_SERVICE_OR_ABOVE,
    "requested_for": SELF_SERVICE_OR_ABOVE,
    "shared": SELF_SERVICE_OR_ABOVE,
}
_AGENT_READ = {
    "unrelated": AGENT_OR_ABOVE,
    "requester": AGENT_OR_ABOVE,
    "requested_for": AGENT_OR_ABOVE,
}
READ = {
    "work": _AGENT_READ,
    "incident": _OWN_READ,
    "incident_task": _AGENT_READ,
    "request": _OWN_READ,
    "request_task": _AGENT_READ,
    "change": _AGENT_READ,
    "change_task": _AGENT_READ,
    "problem": _AGENT_READ,
    "problem_task": _AGENT_READ,
}

# --- update (SPEC §4 "update" column), by state, on a record the actor is unrelated to --------
# Tasks: "itsm_administrator: always; itsm_agent: unless closed or cancelled".
_TASK_UPDATE = {
    "open": AGENT_OR_ABOVE,
    "in_progress": AGENT_OR_ABOVE,
    "closed": ADMIN_OR_ABOVE,
    "cancelled": ADMIN_OR_ABOVE,
}
# Incident / Request: "whoever may read it" — an unrelated record is read by itsm_agent up.
UPDATE_UNRELATED = {
    # ITSM Work: itsm_administrator, in any state.
    "work": {state: ADMIN_OR_ABOVE for state in WORK_STATES},
    # Incident: "whoever may read it" — and, a deliberate rule change, not once it is finished
    # (closed or cancelled), as SPEC §4 says of problems, changes and tasks ("itsm_administrator:
    # always; itsm_agent: unless closed"): itsm_administrator always. A resolved incident is not
    # finished: it may be reopened (SPEC §5), so agents still update it.
    "incident": {
        "new": AGENT_OR_ABOVE,
        "in_progress": AGENT_OR_ABOVE,
        "on_hold": AGENT_OR_ABOVE,
        "resolved": AGENT_OR_ABOVE,
        "closed": ADMIN_OR_ABOVE,
        "cancelled": ADMIN_OR_ABOVE,
    },
    "incident_task": _TASK_UPDATE,
    # Request: "as Incident" — and, like a problem or a change, not once it is finished
    # (issue 15 review: assign is refused on a completed, rejected or cancelled request, so a
    # plain edit of its assignee, group or priority is too): itsm_administrator always.
    "request": {
        "submitted": AGENT_OR_ABOVE,
        "pending_approval": AGENT_OR_ABOVE,
        "approved": AGENT_OR_ABOVE,
        "rejected": ADMIN_OR_ABOVE,
        "in_fulfilment": AGENT_OR_ABOVE,
        "completed": ADMIN_OR_ABOVE,
        "cancelled": ADMIN_OR_ABOVE,
    },
    "request_task": _TASK_UPDATE,
    # Change: "itsm_administrator: always; itsm_agent: unless closed" — and, for the cancelled
    # state SPEC §4 does not list (issue 14 adds it), unless cancelled: a finished record.
    "change": {
        "draft": AGENT_OR_ABOVE,
        "submitted": AGENT_OR_ABOVE,
        "approved": AGENT_OR_ABOVE,
        "rejected": AGENT_OR_ABOVE,
        "in_progress": AGENT_OR_ABOVE,
        "review": AGENT_OR_ABOVE,
        "closed": ADMIN_OR_ABOVE,
        "cancelled": ADMIN_OR_ABOVE,
    },
    "change_task": _TASK_UPDATE,
    # Problem: "itsm_administrator: always; itsm_agent: unless closed" — and, for the cancelled
    # state SPEC §4 does not list (issue 13 adds it), unless cancelled: a finished record.
    "problem": {
        "new": AGENT_OR_ABOVE,
        "investigating": AGENT_OR_ABOVE,
        "rca_submitted": AGENT_OR_ABOVE,
        "rca_rejected": AGENT_OR_ABOVE,
        "change_created": AGENT_OR_ABOVE,
        "verified": AGENT_OR_ABOVE,
        "closed": ADMIN_OR_ABOVE,
        "cancelled": ADMIN_OR_ABOVE,
    },
    "problem_task": _TASK_UPDATE,
}
# Incident / Request the self-service user owns (requester or requested_for): it may update
# them in every state (requested_for is writable in any state). A record merely shared with a
# self-service user (follower / approver) is read, not updated ("on its own records"): it is
# updated as an unrelated one (UPDATE_UNRELATED).
UPDATE_OWN_RECORD = {
    "requester": SELF_SERVICE_OR_ABOVE,
    "requested_for": SELF_SERVICE_OR_ABOVE,
}

# --- delete (SPEC §4 "delete" column): itsm_administrator for every record ------------------
DELETE = {record: ADMIN_OR_ABOVE for record in RECORDS}

# --- what a self-service user writes on its own incident / request (SPEC §4) -----------------
# "the short description and description while the record is new, the requested_for person".
SELF_SERVICE_WRITABLE_WHEN_NEW = frozenset({"short_description", "description", "requested_for"})
SELF_SERVICE_WRITABLE_OTHERWISE = frozenset({"requested_for"})
# "while the record is new": an incident is new, a request submitted (its first state).
NEW_STATE = {"incident": "new", "request": "submitted"}

# --- change_type on a change (SPEC §4) ----------------------------------------------------------
# itsm_agent: "change_type only in draft or submitted (before any CAB decision)";
# itsm_administrator: "always".
CHANGE_TYPE_WRITABLE_FOR_AGENT_IN = frozenset({"draft", "submitted"})

# --- self-service named actions (SPEC §4) -------------------------------------------------------
# "the cancel transition before resolution" on its own incident.
INCIDENT_CANCEL_ALLOWED_IN = frozenset({"new", "in_progress", "on_hold"})
INCIDENT_CANCEL_REFUSED_IN = frozenset({"resolved", "closed", "cancelled"})
# "on a request it approves, the approve and reject decision" — while awaiting approval. Issue 15:
# holders of service_requests.manage (itsm_agent up) decide too, on any request (the workflow
# refuses everyone, agents included, on a request they raised).
REQUEST_DECISION_ALLOWED_IN = frozenset({"pending_approval"})

# --- SPEC §4 "A self-service user never reads these fields" (snake_case per SPEC §7) ----------
INCIDENT_HIDDEN_FOR_SELF_SERVICE = [
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
]
# Beyond SPEC §4's list, stated here as the rules state it (incidents/rules.py CI_INTERNALS):
# the hosts an incident is about are configuration-item data, like related_configuration_items.
INCIDENT_HIDDEN_BEYOND_SPEC = ["hosts", "knowledge_articles"]
REQUEST_HIDDEN_FOR_SELF_SERVICE = [
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
]


# =============================================================================================
# Building actors and records
# =============================================================================================

MODELS = {
    "work": Work,
    "incident": Incident,
    "incident_task": IncidentTask,
    "request": Request,
    "request_task": RequestTask,
    "change": Change,
    "change_task": ChangeTask,
    "problem": Problem,
    "problem_task": ProblemTask,
}
SHARE_GRANT = {"incident": "follow_incident", "request": "approve_request"}
_PARENT = {
    "incident_task": ("incident", "in_progress"),
    "request_task": ("request", "in_fulfilment"),
    "change_task": ("change", "in_progress"),
    "problem_task": ("problem", "investigating"),
}
_numbers = itertools.count(1)


# The L2/3 agent persona of seed 004 ("knowledge_editor, platform_agent, platform_selfservice,
# cmdb_manager, cmdb_viewer, itsm_agent"): an agent who also holds self-service explicitly.
L2_AGENT_PERSONA = (
    "knowledge_editor",
    "platform_agent",
    "platform_selfservice",
    "cmdb_manager",
    "cmdb_viewer",
    "itsm_agent",
)


# The other agent personas of seed 004 the problem rows are walked with: the L1 agent
# ("platform_selfservice, platform_agent, itsm_agent, cmdb_viewer") and the service desk team
# leader ("knowledge_editor, platform_selfservice, platform_agent, itsm_manager, itsm_agent,
# cmdb_manager, cmdb_viewer"), the problem manager who reviews RCAs.
L1_AGENT_PERSONA = ("platform_selfservice", "platform_agent", "itsm_agent", "cmdb_viewer")
TEAM_LEADER_PERSONA = (
    "knowledge_editor",
    "platform_selfservice",
    "platform_agent",
    "itsm_manager",
    "itsm_agent",
    "cmdb_manager",
    "cmdb_viewer",
)


def make_actor(actor: str, username: str, organisation=None):
    if actor == SUPERUSER:
        return make_user(username, superuser=True, organisation=organisation)
    return make_user(username, actor, organisation=organisation)


def make_record(record: str, state: str, *, requester=None, requested_for=None, **extra):
    model = MODELS[record]
    if record in _PARENT and _PARENT[record][0] not in extra:
        parent_record, parent_state = _PARENT[record]
        extra[parent_record] = make_record(parent_record, parent_state, requester=requester)
    kind = "incident" if model is Work else model.KIND
    return model.objects.create(
        number=f"T{next(_numbers):09d}",
        kind=kind,
        state=state,
        short_description=f"{record} in {state}",
        requester=requester,
        requested_for=requested_for,
        **extra,
    )


class World:
    """Every actor, and every record in every state in every relation to every actor.

    Built once per module inside a transaction that is rolled back at the end, so each test
    only asks the policy (the records are never modified by the tests).
    """

    def __init__(self):
        self.org = Organisation.objects.create(name="Matrix org")
        self.stranger = make_user("m_stranger", "platform_selfservice", organisation=self.org)
        self.users = {a: make_actor(a, f"m_{a}", organisation=self.org) for a in ACTORS}
        self.l2_agent = make_user("m_l2_agent", *L2_AGENT_PERSONA)
        self.personas = {
            "l1_agent": make_user("m_l1_agent", *L1_AGENT_PERSONA),
            "l2_agent": self.l2_agent,
            "team_leader": make_user("m_team_leader", *TEAM_LEADER_PERSONA),
        }
        stranger = self.stranger
        parents = {
            task: {parent: make_record(parent, parent_state, requester=stranger)}
            for task, (parent, parent_state) in _PARENT.items()
        }

        def make(record, state, requester, requested_for, **extra):
            return make_record(
                record,
                state,
                requester=requester,
                requested_for=requested_for,
                **parents.get(record, {}),
                **extra,
            )

        # Records nobody of the actors is related to (the stranger's own).
        self.unrelated = {
            (record, state): make(record, state, stranger, stranger)
            for record in RECORDS
            for state in STATES[record]
        }
        # Changes after a CAB decision (the undecided ones are in ``unrelated``).
        self.decided_changes = {
            (state, decision): make("change", state, stranger, stranger, cab_decision=decision)
            for state in CHANGE_STATES
            for decision in ("approved", "rejected")
        }
        # Records related to one actor as requester, requested_for or share holder.
        self.related = {}
        for actor, user in self.users.items():
            for record in RECORDS:
                for state in STATES[record]:
                    for relation in RELATIONS[record]:
                        if relation == "requester":
                            obj = make(record, state, user, stranger)
                        elif relation == "requested_for":
                            obj = make(record, state, stranger, user)
                        elif relation == "shared":
                            obj = make(record, state, stranger, stranger)
                            assign_perm(SHARE_GRANT[record], user, obj)
                        else:
                            continue
                        self.related[(actor, record, state, relation)] = obj

    def record(self, actor, record, state, relation):
        if relation == "unrelated":
            return self.unrelated[(record, state)]
        return self.related[(actor, record, state, relation)]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The module's data, in one transaction rolled back after the module's last test.

    Database access stays open for the module's tests (read-only: they only call the policy).
    """
    with django_db_blocker.unblock(), transaction.atomic():
        try:
            yield World()
        finally:
            transaction.set_rollback(True)


def _verb(allowed: bool) -> str:
    return "can" if allowed else "cannot"


def _states_rule(expected: dict[str, bool]) -> str:
    """How a per-state expectation reads in a test id: in every state, in no state,
    only in some states, or except in some states."""
    allowed = [state for state, ok in expected.items() if ok]
    refused = [state for state, ok in expected.items() if not ok]
    if not refused:
        return "in-every-state"
    if not allowed:
        return "in-no-state"
    if len(allowed) <= len(refused):
        return "only-when-" + "+".join(allowed)
    return "except-when-" + "+".join(refused)


def _rule_id(actor: str, action: str, record: str, relation: str, expected: dict) -> str:
    if not any(expected.values()):
        return f"{actor}-cannot-{action}-{record}-{relation}"
    return f"{actor}-can-{action}-{record}-{relation}-{_states_rule(expected)}"


# =============================================================================================
# 1. role × record × action × state
# =============================================================================================

CREATE_CASES = [
    pytest.param(
        actor, record, actor in CREATE[record], id=f"{actor}-{_verb(actor in CREATE[record])}-create-{record}"
    )
    for actor in ACTORS
    for record in RECORDS
]


@pytest.mark.parametrize(("actor", "record", "expected"), CREATE_CASES)
def test_create(actor, record, expected, world):
    assert policy.can(world.users[actor], "create", MODELS[record]) is expected


READ_CASES = [
    pytest.param(
        actor,
        record,
        relation,
        actor in READ[record][relation],
        id=f"{actor}-{_verb(actor in READ[record][relation])}-read-{record}-{relation}",
    )
    for actor in ACTORS
    for record in RECORDS
    for relation in RELATIONS[record]
]


@pytest.mark.parametrize(("actor", "record", "relation", "expected"), READ_CASES)
def test_read(actor, record, relation, expected, world):
    """Reading does not depend on the state: checked in every state."""
    user = world.users[actor]
    actual = {
        state: policy.can(user, "read", world.record(actor, record, state, relation))
        for state in STATES[record]
    }
    assert actual == dict.fromkeys(STATES[record], expected)
    obj = world.record(actor, record, STATES[record][0], relation)
    assert policy.readable(user, MODELS[record]).filter(pk=obj.pk).exists() is expected
    if not expected:
        assert policy.readable_fields(user, obj) == frozenset()


def _expected_update(actor, record, state, relation) -> bool:
    if relation in ("requester", "requested_for") and record in ("incident", "request"):
        return actor in UPDATE_OWN_RECORD[relation]
    # Unrelated records; and agent-only records, where being requester changes nothing.
    return actor in UPDATE_UNRELATED[record][state]


UPDATE_CASES = []
for _actor in ACTORS:
    for _record in RECORDS:
        for _relation in RELATIONS[_record]:
            _expected = {
                state: _expected_update(_actor, _record, state, _relation) for state in STATES[_record]
            }
            UPDATE_CASES.append(
                pytest.param(
                    _actor,
                    _record,
                    _relation,
                    _expected,
                    id=_rule_id(_actor, "update", _record, _relation, _expected),
                )
            )


@pytest.mark.parametrize(("actor", "record", "relation", "expected"), UPDATE_CASES)
def test_update(actor, record, relation, expected, world):
    """``expected`` maps every state of the record to whether the actor may update it."""
    user = world.users[actor]
    can_update, writes_something = {}, {}
    for state in STATES[record]:
        obj = world.record(actor, record, state, relation)
        can_update[state] = policy.can(user, "update", obj)
        writable = policy.writable_fields(user, obj)
        writes_something[state] = bool(writable)
        # "state is never written directly by anyone: it changes only through transitions."
        assert "state" not in writable, state
    assert can_update == expected
    # Whoever may update writes some field; whoever may not writes none.
    assert writes_something == expected


DELETE_CASES = [
    pytest.param(
        actor, record, actor in DELETE[record], id=f"{actor}-{_verb(actor in DELETE[record])}-delete-{record}"
    )
    for actor in ACTORS
    for record in RECORDS
]


@pytest.mark.parametrize(("actor", "record", "expected"), DELETE_CASES)
def test_delete(actor, record, expected, world):
    """Deleting depends neither on the state nor on being requester / requested_for / shared."""
    user = world.users[actor]
    actual = {
        (relation, state): policy.can(user, "delete", world.record(actor, record, state, relation))
        for relation in RELATIONS[record]
        for state in STATES[record]
    }
    assert actual == dict.fromkeys(actual, expected)
    assert policy.can(user, "delete", MODELS[record]) is expected


# --- the exact fields a self-service user writes on its own incident / request ---------------


def _self_service_writable_cases():
    for actor in sorted(SELF_SERVICE_ONLY):
        for record in ("incident", "request"):
            for relation in RELATIONS[record]:
                if relation in ("requester", "requested_for"):
                    expected = {
                        state: (
                            SELF_SERVICE_WRITABLE_WHEN_NEW
                            if state == NEW_STATE[record]
                            else SELF_SERVICE_WRITABLE_OTHERWISE
                        )
                        for state in STATES[record]
                    }
                    rule = (
                        "writes-short_description+description+requested_for-when-new-else-only-requested_for"
                    )
                else:  # unrelated, or only a follower / approver
                    expected = dict.fromkeys(STATES[record], frozenset())
                    rule = "writes-nothing"
                yield pytest.param(
                    actor, record, relation, expected, id=f"{actor}-{rule}-on-{record}-{relation}"
                )


@pytest.mark.parametrize(("actor", "record", "relation", "expected"), list(_self_service_writable_cases()))
def test_self_service_writable_fields(actor, record, relation, expected, world):
    user = world.users[actor]
    actual = {
        state: policy.writable_fields(user, world.record(actor, record, state, relation))
        for state in STATES[record]
    }
    assert actual == expected


# --- change_type on a change ------------------------------------------------------------------


def _change_type_cases():
    for actor in sorted(AGENT_OR_ABOVE):
        for cab_decision in ("", "approved", "rejected"):
            if actor in ADMIN_OR_ABOVE:  # itsm_administrator: "always"
                expected = dict.fromkeys(CHANGE_STATES, True)
            else:
                expected = {
                    state: state in CHANGE_TYPE_WRITABLE_FOR_AGENT_IN and not cab_decision
                    for state in CHANGE_STATES
                }
            decided = f"after-cab-{cab_decision}" if cab_decision else "before-cab-decision"
            verb = _verb(any(expected.values()))
            rule = f"-{_states_rule(expected)}" if any(expected.values()) else ""
            yield pytest.param(
                actor, cab_decision, expected, id=f"{actor}-{verb}-write-change_type-{decided}{rule}"
            )


@pytest.mark.parametrize(("actor", "cab_decision", "expected"), list(_change_type_cases()))
def test_change_type_writable(actor, cab_decision, expected, world):
    user = world.users[actor]
    actual = {}
    for state in CHANGE_STATES:
        if cab_decision:
            change = world.decided_changes[(state, cab_decision)]
        else:
            change = world.unrelated[("change", state)]
        assert change.cab_decision == cab_decision
        actual[state] = "change_type" in policy.writable_fields(user, change)
    assert actual == expected


# =============================================================================================
# 2. Every field a self-service user never reads
# =============================================================================================

HIDDEN_CASES = [
    pytest.param(actor, "incident", name, id=f"{actor}-never-reads-incident-{name}")
    for actor in sorted(SELF_SERVICE_ONLY)
    for name in INCIDENT_HIDDEN_FOR_SELF_SERVICE + INCIDENT_HIDDEN_BEYOND_SPEC
] + [
    pytest.param(actor, "request", name, id=f"{actor}-never-reads-request-{name}")
    for actor in sorted(SELF_SERVICE_ONLY)
    for name in REQUEST_HIDDEN_FOR_SELF_SERVICE
]


def test_hidden_field_lists_are_the_spec_lists():
    assert len(INCIDENT_HIDDEN_FOR_SELF_SERVICE) == len(set(INCIDENT_HIDDEN_FOR_SELF_SERVICE)) == 22
    assert not set(INCIDENT_HIDDEN_BEYOND_SPEC) & set(INCIDENT_HIDDEN_FOR_SELF_SERVICE)
    assert len(REQUEST_HIDDEN_FOR_SELF_SERVICE) == len(set(REQUEST_HIDDEN_FOR_SELF_SERVICE)) == 13


@pytest.mark.parametrize(("actor", "record", "name"), HIDDEN_CASES)
def test_self_service_never_reads_field(actor, record, name, world):
    model = MODELS[record]
    customer = world.users[actor]
    agents = (world.users["itsm_agent"], world.l2_agent)  # agent alone; agent + self-service

    assert name in policy.hidden_fields(customer, model)
    for agent in agents:
        assert name not in policy.hidden_fields(agent, model)

    if name in {f.name for f in model._meta.get_fields()}:
        for state in STATES[record]:
            for relation in ("requester", "requested_for", "shared"):
                own = world.record(actor, record, state, relation)
                assert policy.can(customer, "read", own)
                assert name not in policy.readable_fields(customer, own)
                assert name not in policy.writable_fields(customer, own)
                for agent in agents:
                    assert name in policy.readable_fields(agent, own)
        assert name not in policy.writable_fields(customer, model)  # not when creating either


# =============================================================================================
# 3. readable(): the right rows, in one SQL query
# =============================================================================================


@pytest.mark.parametrize("record", ["incident", "request"])
@pytest.mark.parametrize("actor", sorted(SELF_SERVICE_ONLY))
def test_self_service_lists_only_own_and_shared_rows_in_one_query(
    actor, record, world, django_assert_num_queries
):
    customer = world.users[actor]
    # Its own as requester and as requested_for, and the ones shared with it (one guardian
    # grant per state: several grants); never the stranger's, never another actor's share.
    expected = {
        world.record(actor, record, state, relation).pk
        for state in STATES[record]
        for relation in ("requester", "requested_for", "shared")
    }
    assert len(expected) == 3 * len(STATES[record])

    qs = policy.readable(customer, MODELS[record])
    with django_assert_num_queries(1):
        rows = list(qs)
    assert {r.pk for r in rows} == expected


@pytest.mark.parametrize(
    "record", ["work", "incident_task", "request_task", "change", "change_task", "problem", "problem_task"]
)
@pytest.mark.parametrize("actor", sorted(SELF_SERVICE_ONLY))
def test_self_service_lists_no_agent_only_rows_even_its_own(actor, record, world):
    customer = world.users[actor]
    assert world.record(actor, record, STATES[record][0], "requester").requester == customer
    assert list(policy.readable(customer, MODELS[record])) == []


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("actor", sorted(AGENT_OR_ABOVE))
def test_agent_lists_every_row_in_one_query(actor, record, world, django_assert_num_queries):
    model = MODELS[record]
    qs = policy.readable(world.users[actor], model)
    with django_assert_num_queries(1):
        rows = list(qs)
    every = {o.pk for o in model.objects.all()}
    assert len(every) >= len(STATES[record]) * 2
    assert {r.pk for r in rows} == every


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize("actor", sorted(set(ACTORS) - SELF_SERVICE_OR_ABOVE))
def test_roles_outside_itsm_list_no_rows(actor, record, world):
    assert list(policy.readable(world.users[actor], MODELS[record])) == []


# =============================================================================================
# 4. Named permissions (SPEC §3)
# =============================================================================================

PERMISSION_CASES = [
    pytest.param(
        actor,
        permission,
        actor in holders,
        id=f"{actor}-{'holds' if actor in holders else 'lacks'}-{permission}",
    )
    for permission, holders in NAMED_PERMISSIONS.items()
    for actor in ACTORS
]


@pytest.mark.parametrize(("actor", "permission", "expected"), PERMISSION_CASES)
def test_named_permission(actor, permission, expected, world):
    user = world.users[actor]
    assert policy.has_permission(user, permission) is expected
    assert user.has_perm(permission) is expected


# =============================================================================================
# 5. Self-service named actions
# =============================================================================================


def test_cancel_states_cover_every_incident_state():
    assert set(INCIDENT_STATES) == INCIDENT_CANCEL_ALLOWED_IN | INCIDENT_CANCEL_REFUSED_IN
    assert not INCIDENT_CANCEL_ALLOWED_IN & INCIDENT_CANCEL_REFUSED_IN


def _cancel_cases():
    for actor in sorted(SELF_SERVICE_ONLY):
        for relation in ("requester", "requested_for", "shared", "unrelated"):
            own = relation in ("requester", "requested_for")
            expected = {state: own and state in INCIDENT_CANCEL_ALLOWED_IN for state in INCIDENT_STATES}
            yield pytest.param(
                actor, relation, expected, id=_rule_id(actor, "cancel", "incident", relation, expected)
            )


@pytest.mark.parametrize(("actor", "relation", "expected"), list(_cancel_cases()))
def test_self_service_cancel_incident(actor, relation, expected, world):
    user = world.users[actor]
    actual = {
        state: policy.can(user, "cancel", world.record(actor, "incident", state, relation))
        for state in INCIDENT_STATES
    }
    assert actual == expected


def _decision_cases():
    for action in ("approve", "reject"):
        for actor in ACTORS:
            for relation in ("shared", "requester", "requested_for", "unrelated"):
                approver = relation == "shared"
                expected = {
                    state: (
                        (approver and actor in SELF_SERVICE_OR_ABOVE) or actor in AGENT_OR_ABOVE
                    ) and state in REQUEST_DECISION_ALLOWED_IN
                    for state in REQUEST_STATES
                }
                who = "approver" if approver else f"{relation}-not-approver"
                yield pytest.param(
                    action, actor, relation, expected, id=_rule_id(actor, action, "request", who, expected)
                )


@pytest.mark.parametrize(("action", "actor", "relation", "expected"), list(_decision_cases()))
def test_request_approve_reject_only_by_approver(action, actor, relation, expected, world):
    user = world.users[actor]
    actual = {
        state: policy.can(user, action, world.record(actor, "request", state, relation))
        for state in REQUEST_STATES
    }
    assert actual == expected


# --- Requests: the other named actions (issue 15), role × relation × state -------------------
# fulfil (approved), complete (approved or in fulfilment) and assign (while open):
# service_requests.manage, itsm_agent up. Cancel before fulfilment: agents, or the customer who
# raised it (issue 15: "cancel by the requester"; not the person it was raised for). Comments: whoever reads
# the request (agents, its requester and requested-for person, its approvers), and so do files;
# work notes: agents.
REQUEST_OPEN = frozenset({"submitted", "pending_approval", "approved", "in_fulfilment"})
REQUEST_AGENT_ACTIONS = {
    "fulfil": frozenset({"approved"}),
    "complete": frozenset({"approved", "in_fulfilment"}),
    "assign": REQUEST_OPEN,
    "work_note": frozenset(REQUEST_STATES),
}
REQUEST_CANCEL_ALLOWED_IN = frozenset({"submitted", "pending_approval", "approved"})


def _request_action_cases():
    for actor in ACTORS:
        for relation in RELATIONS["request"]:
            for action, states in REQUEST_AGENT_ACTIONS.items():
                expected = {state: actor in AGENT_OR_ABOVE and state in states for state in REQUEST_STATES}
                yield pytest.param(
                    actor, action, relation, expected, id=_rule_id(actor, action, "request", relation, expected)
                )
            cancel = {
                state: (actor in AGENT_OR_ABOVE or (relation == "requester" and actor in SELF_SERVICE_OR_ABOVE))
                and state in REQUEST_CANCEL_ALLOWED_IN
                for state in REQUEST_STATES
            }
            yield pytest.param(
                actor, "cancel", relation, cancel, id=_rule_id(actor, "cancel", "request", relation, cancel)
            )
            reader = actor in AGENT_OR_ABOVE or (relation != "unrelated" and actor in SELF_SERVICE_OR_ABOVE)
            comment = dict.fromkeys(REQUEST_STATES, reader)
            # Attaching files to the request itself: whoever may comment (itsm.attachments).
            for name in ("comment", "attach"):
                yield pytest.param(
                    actor, name, relation, comment, id=_rule_id(actor, name, "request", relation, comment)
                )


@pytest.mark.parametrize(("actor", "action", "relation", "expected"), list(_request_action_cases()))
def test_request_action(actor, action, relation, expected, world):
    user = world.users[actor]
    actual = {
        state: policy.can(user, action, world.record(actor, "request", state, relation))
        for state in REQUEST_STATES
    }
    assert actual == expected


# --- Incidents: the desk's actions, role × relation × state -----------------------------------
# incidents.manage (itsm_agent up) takes each transition from its source states (SPEC §5), and
# assigns and logs time until the incident is finished: never on a closed or cancelled incident
# (as its update, above), on a resolved one still (it may be reopened). Comments, work notes and
# files stay possible in every state, as on a request.
INCIDENT_OPEN = frozenset({"new", "in_progress", "on_hold"})
INCIDENT_AGENT_ACTIONS = {
    "start": frozenset({"new"}),
    "acknowledge": INCIDENT_OPEN,
    "hold": frozenset({"new", "in_progress"}),
    "resume": frozenset({"on_hold"}),
    "resolve": INCIDENT_OPEN,
    "reopen": frozenset({"resolved"}),
    "close": frozenset({"resolved"}),
    "escalate": INCIDENT_OPEN,
    "assign": INCIDENT_OPEN | {"resolved"},
    "log_time": INCIDENT_OPEN | {"resolved"},
    "work_note": frozenset(INCIDENT_STATES),
}


def _incident_action_cases():
    for actor in ACTORS:
        for relation in RELATIONS["incident"]:
            for action, states in INCIDENT_AGENT_ACTIONS.items():
                expected = {state: actor in AGENT_OR_ABOVE and state in states for state in INCIDENT_STATES}
                yield pytest.param(
                    actor, action, relation, expected, id=_rule_id(actor, action, "incident", relation, expected)
                )
            own = relation in ("requester", "requested_for")
            reader = actor in AGENT_OR_ABOVE or (own and actor in SELF_SERVICE_OR_ABOVE)
            comment = dict.fromkeys(INCIDENT_STATES, reader)
            for name in ("comment", "attach"):
                yield pytest.param(
                    actor, name, relation, comment, id=_rule_id(actor, name, "incident", relation, comment)
                )


@pytest.mark.parametrize(("actor", "action", "relation", "expected"), list(_incident_action_cases()))
def test_incident_action(actor, action, relation, expected, world):
    user = world.users[actor]
    actual = {
        state: policy.can(user, action, world.record(actor, "incident", state, relation))
        for state in INCIDENT_STATES
    }
    assert actual == expected


# --- The catalog (issue 15): categories and items are read by everyone signed in while active
# (self-service up), inactive ones by agents; their approval levels and task templates by agents
# only. service_catalog.manage (itsm_manager up) creates, edits and deletes all four. A customer
# never reads an item's fulfilment group nor its priority (the priority of its requests).
CATALOG_RECORDS = ("catalog.catalogcategory", "catalog.catalogitem", "catalog.approvallevel", "catalog.tasktemplate")
CATALOG_READ_ACTIVE = {
    "catalog.catalogcategory": SELF_SERVICE_OR_ABOVE,
    "catalog.catalogitem": SELF_SERVICE_OR_ABOVE,
    "catalog.approvallevel": AGENT_OR_ABOVE,
    "catalog.tasktemplate": AGENT_OR_ABOVE,
}
CATALOG_ITEM_HIDDEN_FOR_SELF_SERVICE = frozenset({"fulfilment_group", "priority"})


def _catalog_rows():
    from catalog.models import ApprovalLevel, CatalogCategory, CatalogItem, TaskTemplate

    category = CatalogCategory.objects.create(name=f"Matrix {next(_numbers)}")
    hidden_category = CatalogCategory.objects.create(name=f"Matrix {next(_numbers)}", active=False)
    item = CatalogItem.objects.create(category=category, name="Laptop")
    inactive = CatalogItem.objects.create(category=category, name="Old laptop", active=False)
    return {
        "catalog.catalogcategory": (category, hidden_category),
        "catalog.catalogitem": (item, inactive),
        "catalog.approvallevel": (ApprovalLevel.objects.create(item=item, position=1),) * 2,
        "catalog.tasktemplate": (TaskTemplate.objects.create(item=item, short_description="Image it"),) * 2,
    }


def _catalog_cases():
    for label in CATALOG_RECORDS:
        for actor in ACTORS:
            writes = actor in MANAGER_OR_ABOVE
            expected = {
                "read-active": actor in CATALOG_READ_ACTIVE[label],
                "read-inactive": actor in AGENT_OR_ABOVE,
                "create": writes,
                "update": writes,
                "delete": writes,
            }
            rule = "+".join(name for name, ok in expected.items() if ok) or "nothing"
            yield pytest.param(actor, label, expected, id=f"{actor}-may-{rule}-on-{label}")


@pytest.mark.parametrize(("actor", "label", "expected"), list(_catalog_cases()))
def test_catalog_record_rules(actor, label, expected, world):
    from django.apps import apps

    model = apps.get_model(label)
    active, inactive = _catalog_rows()[label]
    user = world.users[actor]
    actual = {
        "read-active": policy.readable(user, model).filter(pk=active.pk).exists(),
        "read-inactive": policy.readable(user, model).filter(pk=inactive.pk).exists(),
        "create": policy.can(user, "create", model),
        "update": policy.can(user, "update", active),
        "delete": policy.can(user, "delete", active),
    }
    assert actual == expected
    assert policy.is_readable(user, active) is expected["read-active"]


@pytest.mark.parametrize("actor", sorted(SELF_SERVICE_ONLY))
def test_self_service_never_reads_catalog_item_fulfilment_group_or_priority(actor, world):
    from catalog.models import CatalogItem

    user = world.users[actor]
    assert policy.hidden_fields(user, CatalogItem) >= CATALOG_ITEM_HIDDEN_FOR_SELF_SERVICE
    assert not CATALOG_ITEM_HIDDEN_FOR_SELF_SERVICE & policy.hidden_fields(world.users["itsm_agent"], CatalogItem)


# =============================================================================================
# 6. Problems and problem tasks: the named actions (SPEC §3 and §5, issue 13), role × state
# =============================================================================================

# "problems.manage (every problem mutation): itsm_agent; RCA approve/reject: itsm_manager".
# The policy's action names, as problems/rules.py declares them.
PROBLEM_ACTION_HOLDERS = {
    "start": AGENT_OR_ABOVE,
    "submit-rca": AGENT_OR_ABOVE,
    "approve-rca": MANAGER_OR_ABOVE,
    "reject-rca": MANAGER_OR_ABOVE,
    "verify": AGENT_OR_ABOVE,
    "close": AGENT_OR_ABOVE,
    "cancel": AGENT_OR_ABOVE,
    "assign": AGENT_OR_ABOVE,
    "link_incidents": AGENT_OR_ABOVE,
    "note": AGENT_OR_ABOVE,
}
_OPEN_PROBLEM = frozenset(PROBLEM_STATES) - {"closed", "cancelled"}
# In which states each action is possible: new → investigating → rca_submitted → (rca_rejected →
# rca_submitted) → change_created → verified → closed, and cancelled before the RCA is approved.
# Assigning stops when the problem is finished (closed or cancelled); linking incidents and work
# notes are possible in every state (a closed known error still collects its incidents).
PROBLEM_ACTION_STATES = {
    "start": frozenset({"new"}),
    "submit-rca": frozenset({"investigating", "rca_rejected"}),
    "approve-rca": frozenset({"rca_submitted"}),
    "reject-rca": frozenset({"rca_submitted"}),
    "verify": frozenset({"change_created"}),
    "close": frozenset({"verified"}),
    "cancel": frozenset({"new", "investigating", "rca_submitted", "rca_rejected"}),
    "assign": _OPEN_PROBLEM,
    "link_incidents": frozenset(PROBLEM_STATES),
    "note": frozenset(PROBLEM_STATES),
}
# The desk's and API's action names for the policy's (linking is two actions at the doors).
PROBLEM_DOOR_ACTIONS = {
    "start": ("start",),
    "submit-rca": ("submit-rca",),
    "approve-rca": ("approve-rca",),
    "reject-rca": ("reject-rca",),
    "verify": ("verify",),
    "close": ("close",),
    "cancel": ("cancel",),
    "assign": ("assign",),
    "link_incidents": ("link-incidents", "unlink-incidents"),
    "note": (),  # a collection (notes/), not an action of the panel
}
# Problem tasks ("as Incident task"): whoever may update them starts, closes or cancels them,
# while they are open (start) or open or in progress (close, cancel).
PROBLEM_TASK_ACTION_STATES = {
    "start": frozenset({"open"}),
    "close": frozenset({"open", "in_progress"}),
    "cancel": frozenset({"open", "in_progress"}),
}
# Personas (several roles each) and the single-role actors they behave as for problems.
PERSONA_AS = {"l1_agent": "itsm_agent", "l2_agent": "itsm_agent", "team_leader": "itsm_manager"}


def test_problem_action_tables_cover_every_declared_action_and_state():
    assert set(PROBLEM_ACTION_HOLDERS) == set(PROBLEM_ACTION_STATES) == set(PROBLEM_DOOR_ACTIONS)
    assert set(policy.rules_for(Problem).actions) == set(PROBLEM_ACTION_HOLDERS)
    assert {name for names in PROBLEM_DOOR_ACTIONS.values() for name in names} == set(PROBLEM_ACTIONS)
    assert set(PROBLEM_STATES) == set(policy.rules_for(Problem).states)


def _problem_user(world, actor):
    return world.personas[actor] if actor in world.personas else world.users[actor]


def _expected_problem_action(actor: str, action: str) -> dict[str, bool]:
    holder = PERSONA_AS.get(actor, actor)
    return {
        state: holder in PROBLEM_ACTION_HOLDERS[action] and state in PROBLEM_ACTION_STATES[action]
        for state in PROBLEM_STATES
    }


def _problem_action_cases():
    for actor in (*ACTORS, *PERSONA_AS):
        for action in PROBLEM_ACTION_HOLDERS:
            # A self-service user's own problem (it raised it, or it is for it) changes nothing.
            relations = ("unrelated",) if actor in PERSONA_AS else ("unrelated", "requester", "requested_for")
            for relation in relations:
                expected = _expected_problem_action(actor, action)
                yield pytest.param(
                    actor,
                    action,
                    relation,
                    expected,
                    id=_rule_id(actor, action, "problem", relation, expected),
                )


@pytest.mark.parametrize(("actor", "action", "relation", "expected"), list(_problem_action_cases()))
def test_problem_action(actor, action, relation, expected, world):
    """``expected`` maps every problem state to whether the actor may take the action."""
    user = _problem_user(world, actor)
    actual = {}
    for state in PROBLEM_STATES:
        actual[state] = policy.can(user, action, world.record(actor, "problem", state, relation))
    assert actual == expected


def _problem_offer_cases():
    for actor in (*ACTORS, *PERSONA_AS):
        expected = {
            state: sorted(
                name
                for action, names in PROBLEM_DOOR_ACTIONS.items()
                if _expected_problem_action(actor, action)[state]
                for name in names
            )
            for state in PROBLEM_STATES
        }
        verb = "is-offered-problem-actions" if any(expected.values()) else "is-offered-no-problem-action"
        yield pytest.param(actor, expected, id=f"{actor}-{verb}")


@pytest.mark.parametrize(("actor", "expected"), list(_problem_offer_cases()))
def test_problem_action_table_offers_exactly_the_matrix(actor, expected, world):
    """The one action table the API, the desk panel and the admin are made from offers, in each
    state, exactly the actions of the matrix."""
    user = _problem_user(world, actor)
    actual = {
        state: sorted(a.name for a in PROBLEM_ACTIONS.available(user, world.unrelated[("problem", state)]))
        for state in PROBLEM_STATES
    }
    assert actual == expected


def _problem_task_action_cases():
    for actor in (*ACTORS, *PERSONA_AS):
        holder = PERSONA_AS.get(actor, actor)
        for action, states in PROBLEM_TASK_ACTION_STATES.items():
            expected = {state: holder in AGENT_OR_ABOVE and state in states for state in TASK_STATES}
            yield pytest.param(
                actor, action, expected, id=_rule_id(actor, action, "problem_task", "unrelated", expected)
            )


@pytest.mark.parametrize(("actor", "action", "expected"), list(_problem_task_action_cases()))
def test_problem_task_action(actor, action, expected, world):
    user = _problem_user(world, actor)
    actual = {
        state: action
        in {a.name for a in TASK_ACTIONS.available(user, world.unrelated[("problem_task", state)])}
        for state in TASK_STATES
    }
    assert actual == expected


# --- the same matrix through the API, for a sample of cells -----------------------------------

PROBLEM_API = "/api/v1/problems/"
# The API's action for each policy action, with a body good enough to pass input checks.
PROBLEM_API_BODIES = {
    "start": {},
    "submit-rca": {
        "rca_summary": "Firmware bug in the disk controllers",
        "corrective_plan": [{"title": "Patch"}],
    },
    "approve-rca": {},
    "reject-rca": {"review_notes": "Dig into the controller logs"},
    "verify": {"verification_notes": "Quiet for a month now."},
    "close": {},
    "cancel": {},
    "assign": {"assignee": None, "assignment_group": None},
    "link-incidents": {"incidents": [1]},
    "unlink-incidents": {"incidents": [1]},
}


@pytest.mark.parametrize("state", PROBLEM_STATES)
def test_api_self_service_user_gets_404_at_every_problem_url_in_every_state(state, world, api):
    """ "Self-service users see none of it": 404, never 403, even on a problem it raised."""
    customer = world.users["platform_selfservice"]
    client = api.as_user(customer)
    for relation in ("unrelated", "requester"):
        problem = world.record("platform_selfservice", "problem", state, relation)
        task = world.record("platform_selfservice", "problem_task", "open", relation)
        base = f"{PROBLEM_API}{problem.pk}/"
        for path in ("", "notes/", "tasks/", "timeline/", "journal/"):
            assert client.get(f"{base}{path}").status_code == 404, (relation, path)
        for action, body in PROBLEM_API_BODIES.items():
            assert client.post(f"{base}{action}/", body, format="json").status_code == 404, (relation, action)
        assert client.post(f"{base}notes/", {"body": "hello"}, format="json").status_code == 404
        assert client.get(f"/api/v1/problem-tasks/{task.pk}/").status_code == 404
        assert client.post(f"/api/v1/problem-tasks/{task.pk}/close/").status_code == 404
    assert client.get(PROBLEM_API).status_code == 404
    assert client.get("/api/v1/problem-tasks/").status_code == 404


def _post_problem(api, user, problem, action):
    return api.as_user(user).post(
        f"{PROBLEM_API}{problem.pk}/{action}/", PROBLEM_API_BODIES[action], format="json"
    )


@pytest.mark.parametrize("persona", ["l1_agent", "l2_agent"])
def test_api_agent_starts_and_submits_but_may_not_approve_or_reject_the_rca(persona, world, api, db):
    agent = world.personas[persona]
    problem = problem_factories.make_problem(by=agent)
    assert _post_problem(api, agent, problem, "start").status_code == 200
    r = _post_problem(api, agent, problem, "submit-rca")
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "rca_submitted"
    assert _post_problem(api, agent, problem, "approve-rca").status_code == 403
    assert _post_problem(api, agent, problem, "reject-rca").status_code == 403
    problem.refresh_from_db()
    assert problem.state == "rca_submitted" and not problem.is_known_error


@pytest.mark.parametrize("persona", ["l1_agent", "l2_agent"])
def test_api_team_leader_approves_an_rca_someone_else_submitted(persona, world, api, db):
    problem = problem_factories.submitted_problem(by=world.personas[persona])
    r = _post_problem(api, world.personas["team_leader"], problem, "approve-rca")
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "change_created" and r.json()["is_known_error"]


@pytest.mark.parametrize("action", ["approve-rca", "reject-rca"])
def test_api_team_leader_may_not_review_its_own_rca(action, world, api, db):
    lead = world.personas["team_leader"]
    problem = problem_factories.submitted_problem(by=lead)
    r = _post_problem(api, lead, problem, action)
    assert r.status_code == 400
    assert "submitted this RCA" in r.json()["detail"]
    problem.refresh_from_db()
    assert problem.state == "rca_submitted"


@pytest.mark.parametrize(
    ("persona", "action"),
    [("l2_agent", "close"), ("l2_agent", "verify"), ("team_leader", "approve-rca"), ("team_leader", "start")],
)
def test_api_action_the_state_forbids_is_a_400_for_those_who_hold_it(persona, action, world, api, db):
    """The state is the matrix's other axis: a new problem is neither closed, verified nor
    approved, and only started once."""
    user = world.personas[persona]
    problem = problem_factories.make_problem(by=user)
    if action == "start":
        problem = problem_workflows.problem_start(problem=problem, actor=user)
    r = _post_problem(api, user, problem, action)
    assert r.status_code == 400
    assert "allowed" in r.json()


def test_api_problem_task_agent_works_it_until_closed_administrator_always_deletes_only_administrator(
    world, api, db
):
    agent, admin = world.personas["l1_agent"], world.users["itsm_administrator"]
    problem = problem_factories.make_problem(by=agent)
    task = problem_services.problem_task_create(
        problem=problem, actor=agent, data={"short_description": "Logs"}
    )
    url = f"/api/v1/problem-tasks/{task.pk}/"
    assert api.as_user(agent).post(f"{url}start/").status_code == 200
    assert api.as_user(agent).post(f"{url}close/").status_code == 200
    assert api.as_user(agent).patch(url, {"description": "More"}, format="json").status_code == 403
    assert api.as_user(admin).patch(url, {"description": "More"}, format="json").status_code == 200
    assert api.as_user(agent).delete(url).status_code == 403
    assert api.as_user(admin).delete(url).status_code == 204


# --- the same matrix through the desk: the problem page offers exactly the matrix's actions -----

DESK_ACTION = re.compile(r'id="action-([a-z-]+)"')


def _desk_offered(client, problem) -> list[str]:
    """The action forms of the problem page: the overview's panel and the linked-incidents tab."""
    overview = client.get(reverse("desk:problem-detail", args=[problem.pk]))
    incidents = client.get(reverse("desk:problem-incidents", args=[problem.pk]))
    assert overview.status_code == incidents.status_code == 200
    return sorted(set(DESK_ACTION.findall(overview.content.decode() + incidents.content.decode())))


def _desk_cases():
    for actor in ("l1_agent", "l2_agent", "team_leader", "itsm_administrator", SUPERUSER):
        # Unlink is offered on each linked incident's row; these problems have none linked.
        expected = {
            state: sorted(
                name
                for action, names in PROBLEM_DOOR_ACTIONS.items()
                if _expected_problem_action(actor, action)[state]
                for name in names
                if name != "unlink-incidents"
            )
            for state in PROBLEM_STATES
        }
        yield pytest.param(actor, expected, id=f"{actor}-is-offered-the-matrix-actions-on-the-problem-page")


@pytest.mark.parametrize(("actor", "expected"), list(_desk_cases()))
def test_desk_problem_page_offers_action_forms_exactly_per_the_matrix(actor, expected, world, client):
    client.force_login(_problem_user(world, actor))
    actual = {state: _desk_offered(client, world.unrelated[("problem", state)]) for state in PROBLEM_STATES}
    assert actual == expected


# A self-service user has no desk at all (the desk's refusal page); a desk user without
# itsm_agent finds no problem there (404, as for a problem that does not exist).
DESK_REFUSAL = {"platform_selfservice": 403, "platform_agent": 404}


@pytest.mark.parametrize(("actor", "status"), sorted(DESK_REFUSAL.items()))
def test_desk_user_without_itsm_agent_finds_no_problem_page_nor_action(actor, status, world, client):
    client.force_login(world.users[actor])
    for relation in ("unrelated", "requester"):
        problem = world.record(actor, "problem", "new", relation)
        for name in ("problem-detail", "problem-incidents", "problem-tasks", "problem-timeline"):
            assert client.get(reverse(f"desk:{name}", args=[problem.pk])).status_code == status, name
        for action in ("start", "cancel", "link-incidents"):
            url = reverse("desk:problem-action", args=[problem.pk, action])
            assert client.post(url).status_code == status, action
        problem.refresh_from_db()
        assert problem.state == "new"


# =============================================================================================
# 7. Knowledge articles (SPEC §3 knowledge roles, §5 Knowledge; issue 16)
# =============================================================================================

ARTICLE_STATES = ("draft", "in_review", "published", "retired")
AUDIENCES = ("everyone", "agents")
KNOWLEDGE_WRITERS = frozenset({"knowledge_editor", "knowledge_manager", SUPERUSER})
KNOWLEDGE_MANAGERS = frozenset({"knowledge_manager", SUPERUSER})
# "agents read all published articles (everyone and agents-only)": platform_agent and above.
PLATFORM_AGENTS = frozenset({"platform_agent", "itsm_agent", "itsm_manager", "itsm_administrator", SUPERUSER})
# "customers read only published articles for everyone": platform_selfservice and all who include it.
EVERYONE_READERS = SELF_SERVICE_OR_ABOVE


def _article_readers(state: str, audience: str) -> frozenset[str]:
    if state != "published":
        return KNOWLEDGE_WRITERS  # drafts, reviews and retired articles: editors and managers only
    if audience == "agents":
        return PLATFORM_AGENTS | KNOWLEDGE_WRITERS
    return EVERYONE_READERS | KNOWLEDGE_WRITERS


ARTICLE_UPDATERS = {
    "draft": KNOWLEDGE_WRITERS,  # editors edit drafts
    "in_review": KNOWLEDGE_MANAGERS,  # once submitted, only the reviewing manager
    "published": frozenset(),  # changed only through a revision
    "retired": frozenset(),
}
ARTICLE_ACTIONS = {
    # action: (states it is possible in, who may take it there)
    "submit": (("draft",), KNOWLEDGE_WRITERS),
    "send-back": (("in_review",), KNOWLEDGE_MANAGERS),
    "publish": (("in_review",), KNOWLEDGE_MANAGERS),
    "retire": (("published",), KNOWLEDGE_MANAGERS),
    "revise": (("published",), KNOWLEDGE_WRITERS),
    "restore": (("published",), KNOWLEDGE_WRITERS),
    "feedback": (("published",), EVERYONE_READERS | KNOWLEDGE_WRITERS),
    "link_incident": (ARTICLE_STATES, AGENT_OR_ABOVE),
}
ARTICLE_HIDDEN_FOR_SELF_SERVICE = [
    "author", "owner", "published_by", "submitted_at", "review_notes", "revision_of", "source_incident",
    "incidents",
]  # fmt: skip


@pytest.fixture(scope="module")
def articles(world, django_db_blocker):
    with django_db_blocker.unblock():
        return {
            (state, audience): Article.objects.create(
                number=f"KBM{state}{audience}", title=f"{state} {audience}", state=state, audience=audience
            )
            for state in ARTICLE_STATES
            for audience in AUDIENCES
        }


ARTICLE_CASES = [(actor, state, audience) for actor in ACTORS for state in ARTICLE_STATES for audience in AUDIENCES]


@pytest.mark.parametrize("actor", ACTORS)
def test_create_article(actor, world):
    assert policy.can(world.users[actor], "create", Article) is (actor in KNOWLEDGE_WRITERS)


@pytest.mark.parametrize(
    ("actor", "state", "audience"),
    [
        pytest.param(a, s, au, id=f"{a}-{_verb(a in _article_readers(s, au))}-read-{s}-article-for-{au}")
        for a, s, au in ARTICLE_CASES
    ],
)
def test_read_article(actor, state, audience, world, articles):
    user, article = world.users[actor], articles[(state, audience)]
    expected = actor in _article_readers(state, audience)
    assert policy.can(user, "read", article) is expected
    assert policy.readable(user, Article).filter(pk=article.pk).exists() is expected


@pytest.mark.parametrize(("actor", "state", "audience"), ARTICLE_CASES)
def test_update_and_delete_article(actor, state, audience, world, articles):
    user, article = world.users[actor], articles[(state, audience)]
    assert policy.can(user, "update", article) is (actor in ARTICLE_UPDATERS[state])
    assert policy.can(user, "delete", article) is (actor in KNOWLEDGE_MANAGERS)


@pytest.mark.parametrize("action", sorted(ARTICLE_ACTIONS))
@pytest.mark.parametrize("actor", ACTORS)
def test_article_actions(actor, action, world, articles):
    states, takers = ARTICLE_ACTIONS[action]
    user = world.users[actor]
    for (state, audience), article in articles.items():
        expected = state in states and actor in takers and actor in _article_readers(state, audience)
        assert policy.can(user, action, article) is expected, (state, audience)


@pytest.mark.parametrize("actor", sorted(SELF_SERVICE_ONLY))
def test_self_service_never_reads_the_desk_side_of_an_article(actor, world, articles):
    user = world.users[actor]
    article = articles[("published", "everyone")]
    readable = policy.readable_fields(user, article)
    assert set(ARTICLE_HIDDEN_FOR_SELF_SERVICE) & readable == (
        set() if actor == "platform_selfservice" else set(ARTICLE_HIDDEN_FOR_SELF_SERVICE)
    )  # a platform_agent reads the article as an agent
    assert {"title", "body", "body_html", "summary", "helpful_count"} <= readable


def test_feedback_comments_are_read_by_knowledge_editors_only(world, articles):
    article = articles[("published", "everyone")]
    reader = world.users["platform_selfservice"]
    vote = ArticleFeedback.objects.create(article=article, user=reader, helpful=True, comment="Thanks")
    for actor in ACTORS:
        user = world.users[actor]
        assert ("comment" in policy.readable_fields(user, vote)) is (actor in KNOWLEDGE_WRITERS), actor
    assert policy.readable(world.users["platform_agent"], ArticleFeedback).filter(pk=vote.pk).exists() is False
    assert policy.readable(reader, ArticleFeedback).filter(pk=vote.pk).exists()


@pytest.mark.parametrize("actor", ACTORS)
def test_versions_are_read_by_knowledge_editors(actor, world):
    assert policy.can(world.users[actor], "read", ArticleVersion) is (actor in KNOWLEDGE_WRITERS)


@pytest.mark.parametrize("actor", ACTORS)
def test_reading_articles_is_one_query_at_most(actor, world, articles, django_assert_max_num_queries):
    user = world.users[actor]
    effective_roles(user)
    with django_assert_max_num_queries(1):
        list(policy.readable(user, Article))


# =============================================================================================
# 8. Changes and change tasks: the named actions (SPEC §3 and §5, issue 14), role × state
# =============================================================================================

# "changes.approve (CAB decision): itsm_manager"; agents create and work changes. The policy's
# action names, as changes/rules.py declares them.
CHANGE_ACTION_HOLDERS = {
    "submit": AGENT_OR_ABOVE,
    "approve": MANAGER_OR_ABOVE,
    "reject": MANAGER_OR_ABOVE,
    "rework": AGENT_OR_ABOVE,
    "start": AGENT_OR_ABOVE,
    "complete": AGENT_OR_ABOVE,
    "pir": AGENT_OR_ABOVE,
    "cancel": AGENT_OR_ABOVE,
    "assign": AGENT_OR_ABOVE,
    "complete-gate": AGENT_OR_ABOVE,
    "impact": AGENT_OR_ABOVE,
    "note": AGENT_OR_ABOVE,
}
_OPEN_CHANGE = frozenset(CHANGE_STATES) - {"closed", "cancelled"}
# draft → submitted → approved / rejected (→ rework → draft) → in_progress → review → closed, and
# cancelled before the work starts. Assigning and completing gates stop when the change is
# finished (closed or cancelled); the impact analysis and work notes are possible in every state.
CHANGE_ACTION_STATES = {
    "submit": frozenset({"draft"}),
    "approve": frozenset({"submitted"}),
    "reject": frozenset({"submitted"}),
    "rework": frozenset({"rejected"}),
    "start": frozenset({"approved"}),
    "complete": frozenset({"in_progress"}),
    "pir": frozenset({"review"}),
    "cancel": frozenset({"draft", "submitted", "approved", "rejected"}),
    "assign": _OPEN_CHANGE,
    "complete-gate": _OPEN_CHANGE,
    "impact": frozenset(CHANGE_STATES),
    "note": frozenset(CHANGE_STATES),
}
# The desk's and API's action names for the policy's.
CHANGE_DOOR_ACTIONS = {name: (name,) for name in CHANGE_ACTION_HOLDERS if name != "note"} | {
    "note": (),  # a collection (notes/), not an action of the panel
}
# Change tasks ("as Incident task"): whoever may update them starts, closes or cancels them.
CHANGE_TASK_ACTION_STATES = PROBLEM_TASK_ACTION_STATES


def test_change_action_tables_cover_every_declared_action_and_state():
    from changes.actions import ACTIONS as CHANGE_ACTIONS

    assert set(CHANGE_ACTION_HOLDERS) == set(CHANGE_ACTION_STATES) == set(CHANGE_DOOR_ACTIONS)
    assert set(policy.rules_for(Change).actions) == set(CHANGE_ACTION_HOLDERS)
    assert {name for names in CHANGE_DOOR_ACTIONS.values() for name in names} == set(CHANGE_ACTIONS)
    assert set(CHANGE_STATES) == set(policy.rules_for(Change).states)


def _expected_change_action(actor: str, action: str) -> dict[str, bool]:
    holder = PERSONA_AS.get(actor, actor)
    return {
        state: holder in CHANGE_ACTION_HOLDERS[action] and state in CHANGE_ACTION_STATES[action]
        for state in CHANGE_STATES
    }


def _change_action_cases():
    for actor in (*ACTORS, *PERSONA_AS):
        for action in CHANGE_ACTION_HOLDERS:
            # A self-service user named on a change (requester, requested-for) gains nothing.
            relations = ("unrelated",) if actor in PERSONA_AS else ("unrelated", "requester", "requested_for")
            for relation in relations:
                expected = _expected_change_action(actor, action)
                yield pytest.param(
                    actor, action, relation, expected, id=_rule_id(actor, action, "change", relation, expected)
                )


@pytest.mark.parametrize(("actor", "action", "relation", "expected"), list(_change_action_cases()))
def test_change_action(actor, action, relation, expected, world):
    """``expected`` maps every change state to whether the actor may take the action."""
    user = _problem_user(world, actor)
    actual = {
        state: policy.can(user, action, world.record(actor, "change", state, relation)) for state in CHANGE_STATES
    }
    assert actual == expected


def _change_offer_cases():
    for actor in (*ACTORS, *PERSONA_AS):
        expected = {
            state: sorted(
                name
                for action, names in CHANGE_DOOR_ACTIONS.items()
                if _expected_change_action(actor, action)[state]
                for name in names
            )
            for state in CHANGE_STATES
        }
        verb = "is-offered-change-actions" if any(expected.values()) else "is-offered-no-change-action"
        yield pytest.param(actor, expected, id=f"{actor}-{verb}")


@pytest.mark.parametrize(("actor", "expected"), list(_change_offer_cases()))
def test_change_action_table_offers_exactly_the_matrix(actor, expected, world):
    """The one action table the API, the desk panel and the admin are made from offers, in each
    state, exactly the actions of the matrix (the services' own transitions — auto-approve,
    send-back, close-without-review — never)."""
    from changes.actions import ACTIONS as CHANGE_ACTIONS

    user = _problem_user(world, actor)
    actual = {
        state: sorted(a.name for a in CHANGE_ACTIONS.available(user, world.unrelated[("change", state)]))
        for state in CHANGE_STATES
    }
    assert actual == expected


def _change_task_action_cases():
    for actor in (*ACTORS, *PERSONA_AS):
        holder = PERSONA_AS.get(actor, actor)
        for action, states in CHANGE_TASK_ACTION_STATES.items():
            expected = {state: holder in AGENT_OR_ABOVE and state in states for state in TASK_STATES}
            yield pytest.param(
                actor, action, expected, id=_rule_id(actor, action, "change_task", "unrelated", expected)
            )


@pytest.mark.parametrize(("actor", "action", "expected"), list(_change_task_action_cases()))
def test_change_task_action(actor, action, expected, world):
    user = _problem_user(world, actor)
    actual = {
        state: action in {a.name for a in TASK_ACTIONS.available(user, world.unrelated[("change_task", state)])}
        for state in TASK_STATES
    }
    assert actual == expected


# --- Change calendar records: governance templates (itsm.configure: itsm_administrator),
# maintenance windows and change freezes (changes.approve: itsm_manager); agents read them all.
CALENDAR_RECORD_RULES = {
    "changes.governancetemplate": {"create": ADMIN_OR_ABOVE, "update": ADMIN_OR_ABOVE, "delete": ADMIN_OR_ABOVE},
    "changes.maintenancewindow": {
        "create": MANAGER_OR_ABOVE, "update": MANAGER_OR_ABOVE, "delete": MANAGER_OR_ABOVE,
    },
    "changes.changefreeze": {"create": MANAGER_OR_ABOVE, "update": MANAGER_OR_ABOVE, "delete": MANAGER_OR_ABOVE},
}


def _calendar_record_cases():
    for label, rules in CALENDAR_RECORD_RULES.items():
        for actor in ACTORS:
            for action in ("read", "create", "update", "delete"):
                holders = AGENT_OR_ABOVE if action == "read" else rules[action]
                yield pytest.param(
                    actor, label, action, actor in holders, id=f"{actor}-{_verb(actor in holders)}-{action}-{label}"
                )


@pytest.mark.parametrize(("actor", "label", "action", "expected"), list(_calendar_record_cases()))
def test_change_configuration_record_rules(actor, label, action, expected, world):
    from datetime import UTC, datetime

    from django.apps import apps

    model = apps.get_model(label)
    if model.__name__ == "GovernanceTemplate":
        row = model.objects.create(name=f"T-{actor}-{action}")
    else:
        row = model.objects.create(
            name="Span", start=datetime(2027, 1, 1, tzinfo=UTC), end=datetime(2027, 1, 2, tzinfo=UTC)
        )
    user = world.users[actor]
    if action == "create":
        assert policy.can(user, "create", model) is expected
    elif action == "read":
        assert policy.readable(user, model).filter(pk=row.pk).exists() is expected
    else:
        assert policy.can(user, action, row) is expected
