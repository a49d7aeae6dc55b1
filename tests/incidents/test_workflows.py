"""The incident state machine and its doors (SPEC §4, §5): every transition through the API
action, refusals naming the current and allowed states, assignment, resolve / reopen / cancel /
close, and incident tasks (created, read, updated and deleted under the task rules)."""

import pytest

from incidents import services, workflows
from incidents.models import Incident, IncidentNote, IncidentTask
from itsm.errors import InvalidInput, NotAllowed, TransitionNotAllowed
from itsm.models import AssignmentGroup, AuditEntry, GroupMembership
from itsm.workflow import task_transition
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"
TASKS = "/api/v1/incident-tasks/"
RESOLVE_BODY = {"resolution_code": "resolved", "resolution_notes": "Replaced the fuser."}

# SPEC §5, written out: from each state, the transitions the API answers 200 to, and where each
# leads. Acknowledge takes the incident and starts a new one; elsewhere it keeps the state.
ALLOWED = {
    "new": {
        "start": "in_progress",
        "acknowledge": "in_progress",
        "hold": "on_hold",
        "resolve": "resolved",
        "cancel": "cancelled",
        "escalate": "new",
    },
    "in_progress": {
        "acknowledge": "in_progress",
        "hold": "on_hold",
        "resolve": "resolved",
        "cancel": "cancelled",
        "escalate": "in_progress",
    },
    "on_hold": {
        "acknowledge": "on_hold",
        "resume": "in_progress",
        "resolve": "resolved",
        "cancel": "cancelled",
        "escalate": "on_hold",
    },
    "resolved": {"reopen": "in_progress", "close": "closed"},
    "closed": {},
    "cancelled": {},
}
ACTIONS = ("start", "acknowledge", "hold", "resume", "resolve", "reopen", "close", "cancel")
STATES = tuple(ALLOWED)
ALLOWED_CASES = [(state, action) for state, moves in ALLOWED.items() for action in moves]
REFUSED_CASES = [(state, action) for state in STATES for action in ACTIONS if action not in ALLOWED[state]]


def _walk(incident: Incident, state: str, agent) -> Incident:
    """Bring ``incident`` from new to ``state`` through the workflows (never a raw write)."""
    steps = {
        "new": [],
        "in_progress": [workflows.incident_start],
        "on_hold": [workflows.incident_hold],
        "resolved": [workflows.incident_start, "resolve"],
        "closed": [workflows.incident_start, "resolve", workflows.incident_close],
        "cancelled": [workflows.incident_cancel],
    }[state]
    for step in steps:
        if step == "resolve":
            incident = workflows.incident_resolve(
                incident=incident, actor=agent, resolution_code="resolved", resolution_notes="Fixed."
            )
        else:
            incident = step(incident=incident, actor=agent)
    assert incident.state == state
    return incident


def _body(action):
    return RESOLVE_BODY if action == "resolve" else {}


def _transitions(incident):
    return list(
        AuditEntry.objects.filter(
            object_id=str(incident.pk), action=AuditEntry.Action.TRANSITION
        ).values_list("transition", "old_value", "new_value")
    )


# --- The state machine through the API --------------------------------------------------------


@pytest.mark.parametrize(("state", "action"), ALLOWED_CASES)
def test_every_allowed_transition_works_through_its_api_action(state, action, customer, agent, api):
    incident = _walk(make_incident(requester=customer), state, agent)
    before = len(_transitions(incident))
    r = api.as_user(agent).post(f"{URL}{incident.pk}/{action}/", _body(action), format="json")
    assert r.status_code == 200, r.content
    target = ALLOWED[state][action]
    assert r.json()["state"] == target
    incident.refresh_from_db()
    assert incident.state == target
    moved = _transitions(incident)[before:]
    assert moved == ([(action, state, target)] if target != state else [])


@pytest.mark.parametrize(("state", "action"), REFUSED_CASES)
def test_a_refused_transition_is_400_naming_the_current_state_and_the_allowed_ones(
    state, action, customer, agent, api
):
    incident = _walk(make_incident(requester=customer), state, agent)
    version = incident.version
    r = api.as_user(agent).post(f"{URL}{incident.pk}/{action}/", _body(action), format="json")
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["state"] == [state]
    assert body["allowed"] == sorted(ALLOWED[state])
    assert state.replace("_", " ") in body["detail"]
    incident.refresh_from_db()
    assert (incident.state, incident.version) == (state, version)


def test_the_full_lifecycle_new_in_progress_on_hold_resolved_closed(customer, agent, api):
    incident = make_incident(requester=customer)
    client = api.as_user(agent)
    seen = []
    for action in ("start", "hold", "resume", "hold", "resolve", "close"):
        r = client.post(f"{URL}{incident.pk}/{action}/", _body(action), format="json")
        assert r.status_code == 200, r.content
        seen.append(r.json()["state"])
    assert seen == ["in_progress", "on_hold", "in_progress", "on_hold", "resolved", "closed"]
    incident.refresh_from_db()
    assert incident.closed_at is not None


@pytest.mark.parametrize("user_fixture", ["customer", "agent"])
def test_state_cannot_be_written_by_patch(user_fixture, customer, agent, request, api):
    incident = make_incident(requester=customer)
    r = api.as_user(request.getfixturevalue(user_fixture)).patch(
        f"{URL}{incident.pk}/", {"state": "resolved"}, format="json"
    )
    assert r.status_code == 400, r.content
    assert "state" in r.json()
    incident.refresh_from_db()
    assert (incident.state, incident.version) == ("new", 1)


def test_a_customer_cannot_take_agent_transitions_on_its_own_incident(customer, api):
    incident = make_incident(requester=customer)
    client = api.as_user(customer)
    for action in ("start", "acknowledge", "hold", "resolve"):
        r = client.post(f"{URL}{incident.pk}/{action}/", _body(action), format="json")
        assert r.status_code == 403, (action, r.content)
    incident.refresh_from_db()
    assert incident.state == "new"


def test_acknowledge_assigns_the_acknowledging_agent_and_records_when(customer, agent, api):
    incident = make_incident(requester=customer)
    r = api.as_user(agent).post(f"{URL}{incident.pk}/acknowledge/", {"comment": "On it"}, format="json")
    assert r.status_code == 200, r.content
    incident.refresh_from_db()
    assert incident.assignee == agent
    assert incident.acknowledged_at is not None
    assert incident.notes.get().kind == IncidentNote.Kind.WORK_NOTE


def test_hold_with_a_reason_writes_it_into_the_work_journal(customer, agent, api):
    incident = make_incident(requester=customer)
    r = api.as_user(agent).post(f"{URL}{incident.pk}/hold/", {"reason": "Waiting for parts"}, format="json")
    assert r.status_code == 200, r.content
    note = incident.notes.get()
    assert (note.kind, note.body) == (IncidentNote.Kind.WORK_NOTE, "[On hold] Waiting for parts")


# --- Resolve, reopen, cancel, close -------------------------------------------------------------


@pytest.mark.parametrize("code", ["resolved", "workaround", "duplicate", "not_reproducible", "by_design"])
def test_resolve_accepts_each_resolution_code_of_the_spec(code, customer, agent, api):
    incident = make_incident(requester=customer)
    r = api.as_user(agent).post(
        f"{URL}{incident.pk}/resolve/", {"resolution_code": code, "resolution_notes": "Done."}, format="json"
    )
    assert r.status_code == 200, r.content
    incident.refresh_from_db()
    assert (incident.state, incident.resolution_code, incident.resolution_notes) == (
        "resolved",
        code,
        "Done.",
    )
    assert incident.resolved_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resolution_code": "fixed_it", "resolution_notes": "Done."}, "resolution_code"),
        ({"resolution_notes": "Done."}, "resolution_code"),
        ({"resolution_code": "resolved"}, "resolution_notes"),
        ({"resolution_code": "resolved", "resolution_notes": "   "}, "resolution_notes"),
    ],
)
def test_resolve_needs_a_valid_code_and_notes_else_400_naming_the_field(body, field, customer, agent, api):
    incident = make_incident(requester=customer)
    r = api.as_user(agent).post(f"{URL}{incident.pk}/resolve/", body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    incident.refresh_from_db()
    assert (incident.state, incident.resolution_code) == ("new", "")


@pytest.mark.parametrize(
    ("code", "notes", "field"), [("bogus", "Done.", "resolution_code"), ("resolved", " ", "resolution_notes")]
)
def test_the_resolve_workflow_itself_refuses_a_bad_code_or_empty_notes(code, notes, field, customer, agent):
    incident = make_incident(requester=customer)
    with pytest.raises(InvalidInput) as exc:
        workflows.incident_resolve(
            incident=incident, actor=agent, resolution_code=code, resolution_notes=notes
        )
    assert field in exc.value.fields
    incident.refresh_from_db()
    assert incident.state == "new"


def test_reopen_moves_back_to_in_progress_and_writes_reopened_notes_into_the_work_journal(
    customer, agent, api
):
    incident = _walk(make_incident(requester=customer), "resolved", agent)
    r = api.as_user(agent).post(f"{URL}{incident.pk}/reopen/", {"notes": "Still jams"}, format="json")
    assert r.status_code == 200, r.content
    incident.refresh_from_db()
    assert (incident.state, incident.resolved_at, incident.resolution_code) == ("in_progress", None, "")
    note = incident.notes.get(kind=IncidentNote.Kind.WORK_NOTE, body__startswith="[Reopened]")
    assert note.body == "[Reopened] Still jams"
    assert note.author == agent
    assert ("reopen", "resolved", "in_progress") in _transitions(incident)


def test_customer_cannot_reopen_its_own_resolved_incident(customer, agent, api):
    incident = _walk(make_incident(requester=customer), "resolved", agent)
    r = api.as_user(customer).post(f"{URL}{incident.pk}/reopen/", {"notes": "Not fixed"}, format="json")
    assert r.status_code == 403, r.content
    incident.refresh_from_db()
    assert incident.state == "resolved"
    assert not incident.notes.filter(body__contains="Not fixed").exists()


def test_agent_cancels_an_open_incident(customer, agent, api):
    incident = _walk(make_incident(requester=customer), "in_progress", agent)
    r = api.as_user(agent).post(f"{URL}{incident.pk}/cancel/", {"reason": "Raised twice"}, format="json")
    assert r.status_code == 200, r.content
    incident.refresh_from_db()
    assert incident.state == "cancelled"
    assert incident.closed_at is not None


def test_customer_cancels_its_own_incident_before_resolution(customer, api):
    incident = make_incident(requester=customer)
    r = api.as_user(customer).post(f"{URL}{incident.pk}/cancel/", {"reason": "It works now"}, format="json")
    assert r.status_code == 200, r.content
    incident.refresh_from_db()
    assert incident.state == "cancelled"
    note = incident.notes.get()
    assert (note.kind, note.body) == (IncidentNote.Kind.COMMENT, "[Cancelled] It works now")


def test_customer_cannot_cancel_its_incident_once_resolved(customer, agent, api):
    incident = _walk(make_incident(requester=customer), "resolved", agent)
    r = api.as_user(customer).post(f"{URL}{incident.pk}/cancel/", {}, format="json")
    assert r.status_code == 400, r.content
    assert r.json()["state"] == ["resolved"]
    incident.refresh_from_db()
    assert incident.state == "resolved"


def test_customer_cannot_cancel_someone_elses_incident(customer, customer2, api):
    incident = make_incident(requester=customer)
    r = api.as_user(customer2).post(f"{URL}{incident.pk}/cancel/", {}, format="json")
    assert r.status_code == 404, r.content
    incident.refresh_from_db()
    assert incident.state == "new"


def test_close_turns_a_resolved_incident_closed(customer, agent, api):
    incident = _walk(make_incident(requester=customer), "resolved", agent)
    r = api.as_user(agent).post(f"{URL}{incident.pk}/close/", format="json")
    assert r.status_code == 200, r.content
    incident.refresh_from_db()
    assert incident.state == "closed"
    assert incident.closed_at is not None
    assert _transitions(incident)[-1] == ("close", "resolved", "closed")


def test_the_workflow_refuses_a_transition_from_the_wrong_state_with_the_allowed_list(customer, agent):
    incident = _walk(make_incident(requester=customer), "closed", agent)
    with pytest.raises(TransitionNotAllowed) as exc:
        workflows.incident_reopen(incident=incident, actor=agent, notes="again")
    assert exc.value.fields == {"state": ["closed"], "allowed": []}


# --- Assign -------------------------------------------------------------------------------------


@pytest.fixture
def group(agent):
    group = AssignmentGroup.objects.create(name="Printers")
    GroupMembership.objects.create(group=group, user=agent)
    return group


def _assign(api, user, incident, body):
    return api.as_user(user).post(f"{URL}{incident.pk}/assign/", body, format="json")


def _assignment(incident):
    incident.refresh_from_db()
    return incident.assignee, incident.assignment_group


def test_assign_to_a_user(customer, agent, lead, api):
    incident = make_incident(requester=customer)
    r = _assign(api, lead, incident, {"assignee": agent.pk})
    assert r.status_code == 200, r.content
    assert r.json()["assignee"] == agent.pk
    assert _assignment(incident) == (agent, None)
    assert AuditEntry.objects.filter(object_id=str(incident.pk), field="assignee").exists()


def test_assign_to_a_group(customer, lead, group, api):
    incident = make_incident(requester=customer)
    r = _assign(api, lead, incident, {"assignment_group": group.pk})
    assert r.status_code == 200, r.content
    assert _assignment(incident) == (None, group)


def test_assign_to_a_user_within_its_group(customer, agent, lead, group, api):
    incident = make_incident(requester=customer)
    r = _assign(api, lead, incident, {"assignee": agent.pk, "assignment_group": group.pk})
    assert r.status_code == 200, r.content
    assert _assignment(incident) == (agent, group)


def test_the_assignee_must_be_an_agent(customer, customer2, lead, api):
    incident = make_incident(requester=customer)
    r = _assign(api, lead, incident, {"assignee": customer2.pk})
    assert r.status_code == 400, r.content
    assert "assignee" in r.json()
    assert _assignment(incident) == (None, None)


def test_with_a_group_the_assignee_must_be_one_of_its_members(customer, l1, lead, group, api):
    incident = make_incident(requester=customer)
    r = _assign(api, lead, incident, {"assignee": l1.pk, "assignment_group": group.pk})
    assert r.status_code == 400, r.content
    assert "assignee" in r.json()
    assert _assignment(incident) == (None, None)


def test_an_inactive_group_cannot_be_assigned(customer, lead, group, api):
    group.is_active = False
    group.save()
    incident = make_incident(requester=customer)
    r = _assign(api, lead, incident, {"assignment_group": group.pk})
    assert r.status_code == 400, r.content
    assert "assignment_group" in r.json()


def test_assigning_all_null_unassigns(customer, agent, lead, group, api):
    incident = make_incident(requester=customer)
    services.incident_assign(incident=incident, actor=lead, assignee=agent, assignment_group=group)
    r = _assign(api, lead, incident, {"assignee": None, "assignment_group": None})
    assert r.status_code == 200, r.content
    assert _assignment(incident) == (None, None)


def test_customer_may_read_its_incident_but_not_assign_it(customer, agent, api):
    incident = make_incident(requester=customer)
    assert api.as_user(customer).get(f"{URL}{incident.pk}/").status_code == 200
    r = _assign(api, customer, incident, {"assignee": agent.pk})
    assert r.status_code == 403, r.content
    assert _assignment(incident) == (None, None)


def test_customer_assigning_someone_elses_incident_is_404(customer, customer2, agent, api):
    incident = make_incident(requester=customer)
    r = _assign(api, customer2, incident, {"assignee": agent.pk})
    assert r.status_code == 404, r.content
    assert _assignment(incident) == (None, None)


def test_the_assign_service_refuses_a_customer_actor(customer, agent):
    incident = make_incident(requester=customer)
    with pytest.raises(NotAllowed):
        services.incident_assign(incident=incident, actor=customer, assignee=agent)


# --- Incident tasks ------------------------------------------------------------------------------


@pytest.fixture
def incident(customer):
    return make_incident(requester=customer)


@pytest.fixture
def task(incident, agent):
    return services.task_create(incident=incident, actor=agent, data={"short_description": "Swap toner"})


def test_agent_creates_a_task_under_an_incident(incident, agent, api):
    r = api.as_user(agent).post(
        f"{URL}{incident.pk}/tasks/", {"short_description": "Order part"}, format="json"
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["number"].startswith("TASK")
    assert (body["state"], body["incident"]) == ("open", incident.pk)
    assert IncidentTask.objects.get(pk=body["id"]).incident == incident


def test_a_task_is_created_in_its_initial_state_whatever_the_body_says(incident, agent, api):
    r = api.as_user(agent).post(
        f"{URL}{incident.pk}/tasks/", {"short_description": "x", "state": "closed"}, format="json"
    )
    assert r.status_code == 400, r.content
    assert "state" in r.json()
    assert not IncidentTask.objects.exists()


def test_customer_cannot_create_tasks_on_its_own_incident(incident, customer, api):
    r = api.as_user(customer).post(
        f"{URL}{incident.pk}/tasks/", {"short_description": "Please"}, format="json"
    )
    assert r.status_code == 403, r.content
    assert not IncidentTask.objects.exists()


def test_customer_cannot_read_an_incidents_tasks(incident, task, customer, api):
    client = api.as_user(customer)
    r = client.get(f"{URL}{incident.pk}/tasks/")
    assert r.status_code == 403, r.content
    assert "Swap toner" not in r.content.decode()
    assert client.get(TASKS).status_code in (403, 404)
    r = client.get(f"{TASKS}{task.pk}/")
    assert r.status_code in (403, 404)
    assert "Swap toner" not in r.content.decode()


def test_another_customers_incident_tasks_are_404(incident, task, customer2, api):
    client = api.as_user(customer2)
    assert client.get(f"{URL}{incident.pk}/tasks/").status_code == 404
    assert (
        client.post(f"{URL}{incident.pk}/tasks/", {"short_description": "x"}, format="json").status_code
        == 404
    )


def test_tasks_are_listed_as_the_incidents_subtasks(incident, task, customer, agent, api):
    other = services.task_create(
        incident=make_incident(requester=customer, short_description="Other"),
        actor=agent,
        data={"short_description": "No"},
    )
    r = api.as_user(agent).get(f"{URL}{incident.pk}/tasks/")
    assert r.status_code == 200, r.content
    assert [row["id"] for row in r.json()] == [task.pk]
    assert other.pk not in [row["id"] for row in r.json()]


def test_agent_updates_an_open_task(task, agent, api):
    r = api.as_user(agent).patch(f"{TASKS}{task.pk}/", {"short_description": "Swap drum"}, format="json")
    assert r.status_code == 200, r.content
    task.refresh_from_db()
    assert task.short_description == "Swap drum"


@pytest.mark.parametrize("action", ["close", "cancel"])
def test_agent_cannot_update_a_closed_or_cancelled_task(action, task, agent, api):
    client = api.as_user(agent)
    assert client.post(f"{TASKS}{task.pk}/{action}/").status_code == 200
    r = client.patch(f"{TASKS}{task.pk}/", {"short_description": "Too late"}, format="json")
    assert r.status_code == 403, r.content
    task.refresh_from_db()
    assert task.short_description == "Swap toner"


def test_itsm_administrator_updates_a_closed_task(task, agent, manager, api):
    task_transition(task=task, actor=agent, name="close")
    r = api.as_user(manager).patch(f"{TASKS}{task.pk}/", {"short_description": "Corrected"}, format="json")
    assert r.status_code == 200, r.content
    task.refresh_from_db()
    assert (task.state, task.short_description) == ("closed", "Corrected")


def test_only_an_itsm_administrator_deletes_a_task(task, agent, lead, manager, api):
    for user in (agent, lead):
        assert api.as_user(user).delete(f"{TASKS}{task.pk}/").status_code == 403
    assert IncidentTask.objects.filter(pk=task.pk).exists()
    assert api.as_user(manager).delete(f"{TASKS}{task.pk}/").status_code == 204
    assert not IncidentTask.objects.filter(pk=task.pk).exists()


def test_task_start_then_close(task, agent, api):
    client = api.as_user(agent)
    r = client.post(f"{TASKS}{task.pk}/start/")
    assert (r.status_code, r.json()["state"]) == (200, "in_progress")
    r = client.post(f"{TASKS}{task.pk}/close/")
    assert (r.status_code, r.json()["state"]) == (200, "closed")
    task.refresh_from_db()
    assert task.closed_at is not None


def test_task_cancel(task, agent, api):
    r = api.as_user(agent).post(f"{TASKS}{task.pk}/cancel/")
    assert (r.status_code, r.json()["state"]) == (200, "cancelled")


def test_a_closed_task_cannot_be_started_again(task, agent, manager, api):
    task_transition(task=task, actor=agent, name="close")
    for user in (agent, manager):
        r = api.as_user(user).post(f"{TASKS}{task.pk}/start/")
        assert r.status_code == 400, r.content
        assert (r.json()["state"], r.json()["allowed"]) == (["closed"], [])
    task.refresh_from_db()
    assert task.state == "closed"


def test_customer_cannot_work_a_task(task, customer, api):
    for action in ("start", "close", "cancel"):
        assert api.as_user(customer).post(f"{TASKS}{task.pk}/{action}/").status_code in (403, 404)
    task.refresh_from_db()
    assert task.state == "open"
