"""Change writes other than transitions (issue 14 items 2, 3, 7–10): creation with the standard
change's auto-approval, plain edits and what they send back to the CAB, freezes, gates, the
emergency change from an incident, notes, and the governance template's own validation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from changes import services, workflows
from changes.models import Change, ChangeNote, GovernanceTemplate
from conftest import make_user
from incidents import services as incident_services
from incidents import workflows as incident_workflows
from itsm.errors import InvalidInput, NotAllowed, NotFound
from itsm.models import AuditEntry
from notifications.models import Notification
from tests.changes.factories import (
    PLANS,
    approved_change,
    in_progress_change,
    make_change,
    make_freeze,
    make_group,
    make_hosts,
    make_template,
    submitted_change,
    window,
)
from tests.problems.factories import approved_problem

pytestmark = pytest.mark.django_db


def _told(kind: str, change) -> set[str]:
    return set(Notification.objects.filter(kind=kind, work_id=change.pk).values_list("recipient__username", flat=True))


def _transitions(change) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_id=str(change.pk), action="transition")
        .order_by("pk")
        .values_list("transition", flat=True)
    )


# --- Creation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("change_type", ["normal", "emergency"])
def test_normal_and_emergency_changes_start_in_draft(agent, change_type):
    change = make_change(by=agent, change_type=change_type)
    assert change.state == "draft" and change.cab_decision == ""
    assert change.number.startswith("CHG") and change.requester == agent
    assert change.risk_score is not None


def test_a_standard_change_without_a_template_is_approved_as_created(agent, lead):
    change = make_change(by=agent, change_type="standard")
    assert (change.state, change.cab_decision, change.decided_by) == ("approved", "approved", None)
    assert _transitions(change) == ["auto-approve"]
    assert _told("change_submitted", change) == set()


def test_a_standard_change_within_its_templates_policy_is_approved_as_created(agent):
    template = make_template(auto_approve_max_risk=4, auto_approve_risk_levels=["low"])
    change = make_change(by=agent, change_type="standard", governance_template=template)
    assert change.risk_score == 1 and change.state == "approved"


def test_a_standard_change_above_the_templates_max_risk_goes_to_the_cab(agent, lead, manager):
    template = make_template(auto_approve_max_risk=4)
    group = make_group("Payments", tier="critical", hosts=6)
    # 6 hosts → 3, critical +2 = 5 (Saturday: no business hours); standard 1 → 5.
    saturday = timezone.now().replace(year=2027, month=1, day=9, hour=10, minute=0, second=0, microsecond=0)
    change = make_change(
        by=agent, change_type="standard", governance_template=template, host_groups=[group],
        planned_start=saturday, planned_end=saturday + timedelta(hours=1),
    )  # fmt: skip
    assert (change.risk_score, change.state, change.cab_decision) == (5, "submitted", "")
    assert "risk score 5 is above Server patching's auto-approval limit of 4" in change.routing_reason
    assert _transitions(change) == ["submit"]
    assert _told("change_submitted", change) == {"lead", "manager"}
    body = Notification.objects.get(kind="change_submitted", recipient=lead).body
    assert "Why it needs the CAB:" in body and "auto-approval limit" in body


def test_a_standard_change_at_a_level_its_template_does_not_allow_goes_to_the_cab(agent):
    template = make_template(auto_approve_risk_levels=["low"])
    change = make_change(by=agent, change_type="standard", governance_template=template, hosts=make_hosts(51))
    assert (change.risk_level, change.state) == ("medium", "submitted")
    assert "risk level medium is not one Server patching approves automatically (low)" in change.routing_reason


def test_an_inactive_template_is_not_offered_to_a_new_change(agent):
    template = make_template(active=False)
    with pytest.raises(InvalidInput) as refused:
        make_change(by=agent, governance_template=template)
    assert "governance_template" in refused.value.fields
    assert not Change.objects.exists()


def test_a_self_service_user_cannot_create_a_change(customer):
    with pytest.raises(NotAllowed):
        make_change(by=customer)


@pytest.mark.parametrize("field", ["risk_score", "cab_decision", "state", "actual_start", "gate_status"])
def test_derived_fields_are_not_written_by_the_client(agent, field):
    with pytest.raises(InvalidInput) as refused:
        services.change_create(actor=agent, data={"short_description": "X", field: "approved"})
    assert field in refused.value.fields
    assert not Change.objects.exists()


# --- Freezes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("change_type", ["standard", "normal"])
def test_a_standard_or_normal_change_planned_in_a_freeze_is_refused(agent, change_type):
    planned = window(days=10)
    make_freeze("Year end", start=planned["planned_start"] - timedelta(days=1),
                end=planned["planned_start"] + timedelta(minutes=30))  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        make_change(by=agent, change_type=change_type, **planned)
    message = refused.value.fields["planned_start"][0]
    assert "change freeze 'Year end'" in message and "only emergency changes" in message
    assert not Change.objects.exists()


def test_an_emergency_change_may_be_planned_in_a_freeze(agent):
    planned = window(days=10)
    make_freeze(start=planned["planned_start"], end=planned["planned_end"])
    assert make_change(by=agent, change_type="emergency", **planned).state == "draft"


def test_moving_a_change_into_a_freeze_is_refused(agent):
    change = make_change(by=agent, **window(days=10))
    freeze = window(days=20)
    make_freeze(start=freeze["planned_start"], end=freeze["planned_end"])
    with pytest.raises(InvalidInput) as refused:
        services.change_update(change=change, actor=agent, data=freeze)
    assert "planned_start" in refused.value.fields
    assert Change.objects.get(pk=change.pk).planned_start == change.planned_start


def test_turning_an_emergency_in_a_freeze_into_a_normal_change_is_refused(agent):
    planned = window(days=10)
    make_freeze(start=planned["planned_start"], end=planned["planned_end"])
    change = make_change(by=agent, change_type="emergency", **planned)
    with pytest.raises(InvalidInput) as refused:
        services.change_update(change=change, actor=agent, data={"change_type": "normal"})
    assert "planned_start" in refused.value.fields


def test_a_window_touching_a_freeze_end_to_start_is_not_in_it(agent):
    planned = window(days=10)
    make_freeze(start=planned["planned_end"], end=planned["planned_end"] + timedelta(days=2))
    assert make_change(by=agent, **planned).state == "draft"


# --- Plain edits ------------------------------------------------------------------------------


def test_an_agent_changes_change_type_only_before_a_cab_decision(agent, lead):
    draft = make_change(by=agent)
    assert services.change_update(change=draft, actor=agent, data={"change_type": "emergency"}).change_type == "emergency"
    approved = approved_change(by=agent, approver=lead)
    with pytest.raises(InvalidInput) as refused:
        services.change_update(change=approved, actor=agent, data={"change_type": "emergency"})
    assert "change_type" in refused.value.fields
    assert Change.objects.get(pk=approved.pk).change_type == "normal"


def test_an_administrator_changes_change_type_always(agent, lead, manager):
    change = in_progress_change(by=agent, approver=lead)
    change = services.change_update(change=change, actor=manager, data={"change_type": "emergency"})
    assert change.change_type == "emergency" and change.state == "in_progress"


def test_agents_cannot_update_a_closed_change_but_administrators_can(agent, lead, manager):
    change = workflows.change_complete(change=in_progress_change(by=agent, approver=lead), actor=agent)
    with pytest.raises(NotAllowed):
        services.change_update(change=change, actor=agent, data={"description": "More"})
    assert services.change_update(change=change, actor=manager, data={"description": "More"}).description == "More"


@pytest.mark.parametrize("edit", [
    "planned_start", "planned_end", "hosts", "host_groups", "implementation_plan", "backout_plan", "test_plan",
])  # fmt: skip
def test_editing_what_was_approved_sends_the_change_back_to_the_cab(agent, lead, manager, edit):
    change = approved_change(by=agent, approver=lead)
    later = change.planned_end + timedelta(hours=1)
    value = {
        "planned_start": change.planned_start + timedelta(minutes=30), "planned_end": later,
        "hosts": make_hosts(1), "host_groups": [make_group("Web")], "implementation_plan": "New steps.",
        "backout_plan": "New way back.", "test_plan": "New checks.",
    }[edit]  # fmt: skip
    change = services.change_update(change=change, actor=agent, data={edit: value})
    assert (change.state, change.cab_decision, change.decided_by, change.decided_at) == ("submitted", "", None, None)
    entry = AuditEntry.objects.get(object_id=str(change.pk), action="transition", transition="send-back")
    assert edit in entry.note
    assert _told("change_sent_back", change) == {"lead", "manager"}
    assert workflows.change_approve(change=change, actor=lead).state == "approved"


def test_an_administrator_changing_the_type_of_an_approved_change_sends_it_back(agent, lead, manager):
    change = approved_change(by=agent, approver=lead)
    change = services.change_update(change=change, actor=manager, data={"change_type": "emergency"})
    assert change.state == "submitted"


def test_editing_other_fields_of_an_approved_change_keeps_the_approval(agent, lead):
    change = approved_change(by=agent, approver=lead)
    change = services.change_update(change=change, actor=agent, data={"description": "Typo fixed", "justification": "x"})
    assert change.state == "approved" and change.cab_decision == "approved"


def test_editing_a_started_change_does_not_send_it_back(agent, lead):
    change = in_progress_change(by=agent, approver=lead)
    change = services.change_update(change=change, actor=agent, data={"backout_plan": "Another way."})
    assert change.state == "in_progress"


def test_a_stale_edit_is_refused(agent):
    change = make_change(by=agent)
    services.change_update(change=change, actor=agent, data={"description": "first"})
    from itsm.errors import Conflict

    with pytest.raises(Conflict):
        services.change_update(change=change, actor=agent, data={"description": "second"}, expected_version=1)


def test_a_planned_end_before_the_start_is_refused_naming_planned_end(agent):
    start = timezone.now() + timedelta(days=5)
    with pytest.raises(InvalidInput) as refused:
        make_change(by=agent, planned_start=start, planned_end=start - timedelta(hours=1))
    assert "planned_end" in refused.value.fields


# --- Assign -----------------------------------------------------------------------------------


def test_a_change_is_assigned_only_to_an_agent(agent, l1, customer):
    change = make_change(by=agent)
    with pytest.raises(InvalidInput) as refused:
        services.change_assign(change=change, actor=agent, assignee=customer)
    assert "assignee" in refused.value.fields
    assert services.change_assign(change=change, actor=agent, assignee=l1).assignee == l1
    with pytest.raises(InvalidInput):
        services.change_update(change=change, actor=agent, data={"assignee": customer})


# --- Gates ------------------------------------------------------------------------------------


def test_completing_a_gate_records_who_when_and_the_note(agent):
    change = make_change(by=agent, governance_template=make_template())
    change = services.change_complete_gate(change=change, actor=agent, gate="Peer review", notes="Read by Sam.")
    status = change.gate_status["Peer review"]
    assert status["completed_by"] == agent.pk and status["notes"] == "Read by Sam." and status["completed_at"]
    assert AuditEntry.objects.filter(object_id=str(change.pk), field="gate_status").exists()


def test_an_optional_gate_may_be_completed_too(agent):
    change = make_change(by=agent, governance_template=make_template())
    assert "Security sign-off" in services.change_complete_gate(change=change, actor=agent, gate="Security sign-off").gate_status


@pytest.mark.parametrize("gate", ["Nope", "", None, 3])
def test_only_the_templates_gates_are_completed(agent, gate):
    change = make_change(by=agent, governance_template=make_template())
    with pytest.raises(InvalidInput) as refused:
        services.change_complete_gate(change=change, actor=agent, gate=gate)
    assert "Peer review" in refused.value.fields["gate"][0]


def test_a_gate_is_completed_once(agent):
    change = make_change(by=agent, governance_template=make_template())
    services.change_complete_gate(change=change, actor=agent, gate="Peer review")
    with pytest.raises(InvalidInput) as refused:
        services.change_complete_gate(change=change, actor=agent, gate="Peer review")
    assert "gate" in refused.value.fields


def test_a_change_without_a_template_has_no_gates(agent):
    with pytest.raises(InvalidInput) as refused:
        services.change_complete_gate(change=make_change(by=agent), actor=agent, gate="Peer review")
    assert "no governance template" in refused.value.fields["gate"][0]


def test_a_self_service_user_cannot_complete_a_gate(agent, customer):
    change = make_change(by=agent, governance_template=make_template())
    with pytest.raises(NotFound):
        services.change_complete_gate(change=change, actor=customer, gate="Peer review")


def test_gates_are_not_completed_on_a_closed_change(agent, lead):
    template = make_template(required_gates=[], optional_gates=["Late"])
    change = workflows.change_complete(
        change=in_progress_change(by=agent, approver=lead, governance_template=template), actor=agent
    )
    with pytest.raises(NotAllowed):
        services.change_complete_gate(change=change, actor=agent, gate="Late")


# --- Governance templates ---------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "error_field"), [
    ({"required_gates": ["A", " "]}, "required_gates"),
    ({"required_gates": ["A", "A"]}, "required_gates"),
    ({"required_gates": ["A"], "optional_gates": ["A"]}, "optional_gates"),
    ({"required_gates": "A"}, "required_gates"),
    ({"auto_approve_risk_levels": ["severe"]}, "auto_approve_risk_levels"),
    ({"auto_approve_max_risk": 26}, "auto_approve_max_risk"),
])  # fmt: skip
def test_a_governance_template_with_bad_gates_or_policy_is_refused(fields, error_field):
    template = GovernanceTemplate(name="T", **{"required_gates": [], "optional_gates": [], **fields})
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert error_field in refused.value.message_dict


def test_a_governance_template_defaults_to_48_hours_notice():
    assert GovernanceTemplate(name="T").min_notice_hours == 48


# --- The emergency change from an incident ----------------------------------------------------


def test_an_emergency_change_from_an_incident_is_approved_linked_and_owes_a_pir(agent, lead, manager):
    host_group = make_group("Shop")
    hosts = make_hosts(2, group=host_group)
    incident = incident_services.incident_create(actor=agent, data={"short_description": "Shop down", "hosts": hosts})
    before = timezone.now()
    change = services.change_from_incident(incident=incident, actor=agent, data={"backout_plan": "Revert."})
    assert (change.change_type, change.state, change.cab_decision) == ("emergency", "approved", "approved")
    assert (change.source_type, change.incident) == ("incident", incident)
    assert list(incident.changes_required.all()) == [change]
    assert list(incident.raised_changes.all()) == [change]
    assert change.pir_required is True
    assert before + timedelta(hours=72) <= change.pir_due_at <= timezone.now() + timedelta(hours=72)
    assert set(change.hosts.all()) == set(hosts) and change.backout_plan == "Revert."
    assert incident.number in change.short_description
    assert AuditEntry.objects.filter(object_id=str(incident.pk), field="changes_required",
                                     new_value=change.number).exists()  # fmt: skip
    assert _transitions(change) == ["auto-approve"]
    assert _told("emergency_change", change) == {"lead", "manager"}


def test_an_emergency_change_needs_incidents_manage(agent, customer):
    incident = incident_services.incident_create(actor=customer, data={"short_description": "Mine"})
    with pytest.raises(NotAllowed):
        services.change_from_incident(incident=incident, actor=customer, data={})
    other = incident_services.incident_create(actor=agent, data={"short_description": "Not mine"})
    with pytest.raises(NotFound):
        services.change_from_incident(incident=other, actor=customer, data={})
    assert not Change.objects.exists()


def test_an_emergency_change_is_only_for_an_open_incident(agent):
    incident = incident_services.incident_create(actor=agent, data={"short_description": "Done"})
    incident_workflows.incident_resolve(incident=incident, actor=agent, resolution_code="resolved",
                                        resolution_notes="Fixed.")  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        services.change_from_incident(incident=incident, actor=agent, data={})
    assert "incident" in refused.value.fields


def test_a_change_raised_from_an_incident_is_an_emergency(agent):
    incident = incident_services.incident_create(actor=agent, data={"short_description": "Down"})
    with pytest.raises(InvalidInput) as refused:
        services.change_from_incident(incident=incident, actor=agent, data={"change_type": "normal"})
    assert "change_type" in refused.value.fields


def test_an_emergency_change_may_be_planned_in_a_freeze_from_an_incident(agent):
    planned = window(days=3)
    make_freeze(start=planned["planned_start"] - timedelta(days=1), end=planned["planned_end"] + timedelta(days=1))
    incident = incident_services.incident_create(actor=agent, data={"short_description": "Down"})
    assert services.change_from_incident(incident=incident, actor=agent, data=planned).state == "approved"


# --- Problems raise their changes through change_create ---------------------------------------


def test_an_approved_rcas_changes_are_scored_like_any_change(agent, lead):
    problem = approved_problem(by=agent, approver=lead)
    change = Change.objects.get(problem=problem)
    assert (change.state, change.source_type, change.change_type) == ("draft", "problem", "normal")
    assert change.risk_score == 2 and change.risk_level == "low"


# --- Notes ------------------------------------------------------------------------------------


def test_work_notes_are_edited_and_deleted_only_by_their_author_or_an_administrator(agent, l1, manager):
    change = make_change(by=agent)
    note = services.change_note_add(change=change, actor=agent, body="  Checked the vendor notes. ")
    assert note.body == "Checked the vendor notes."
    with pytest.raises(NotAllowed):
        services.change_note_edit(note=note, actor=l1, body="Mine now")
    note = services.change_note_edit(note=note, actor=agent, body="Checked twice.")
    assert AuditEntry.objects.filter(object_id=str(change.pk), field="notes", old_value="Checked the vendor notes.").exists()
    services.change_note_delete(note=note, actor=manager)
    assert not ChangeNote.objects.exists()


def test_an_empty_note_is_refused_and_a_customer_cannot_add_one(agent, customer):
    change = make_change(by=agent)
    with pytest.raises(InvalidInput) as refused:
        services.change_note_add(change=change, actor=agent, body="  ")
    assert "body" in refused.value.fields
    with pytest.raises(NotFound):
        services.change_note_add(change=change, actor=customer, body="Hello")


# --- Tasks ------------------------------------------------------------------------------------


def test_a_change_task_belongs_to_its_change(agent):
    change = make_change(by=agent)
    task = services.change_task_create(change=change, actor=agent, data={"short_description": "Back up the DB"})
    assert task.number.startswith("TASK") and task.change == change and task.state == "open"


def test_a_plain_itsm_agent_can_create_and_work_a_change(lead):
    worker = make_user("worker", "itsm_agent")
    change = make_change(by=worker, **window(), **PLANS)
    assert workflows.change_submit(change=change, actor=worker).state == "submitted"
    submitted_change(by=worker)
