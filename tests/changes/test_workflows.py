"""The change state machine and its CAB rules (SPEC §5, issue 14 items 1, 3 and 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from changes import services, workflows
from changes.models import Change
from conftest import make_user
from incidents import services as incident_services
from incidents import workflows as incident_workflows
from incidents.models import Incident
from itsm.errors import InvalidInput, NotAllowed, NotFound, TransitionNotAllowed
from itsm.models import AuditEntry
from notifications.models import Notification
from tests.changes.factories import (
    PLANS,
    approved_change,
    in_progress_change,
    make_change,
    make_template,
    rejected_change,
    submitted_change,
    window,
)

pytestmark = pytest.mark.django_db


def _told(kind: str, change) -> set[str]:
    return set(Notification.objects.filter(kind=kind, work_id=change.pk).values_list("recipient__username", flat=True))


# --- The whole way ----------------------------------------------------------------------------


def test_a_normal_change_goes_draft_submitted_approved_in_progress_closed(agent, lead):
    change = make_change(by=agent, **window(), **PLANS)
    assert change.state == "draft"
    change = workflows.change_submit(change=change, actor=agent)
    assert change.state == "submitted"
    change = workflows.change_approve(change=change, actor=lead, cab_notes="Go ahead.")
    assert (change.state, change.cab_decision, change.decided_by, change.cab_notes) == (
        "approved", "approved", lead, "Go ahead."
    )
    assert change.decided_at is not None
    change = workflows.change_start(change=change, actor=agent)
    assert change.state == "in_progress" and change.actual_start is not None
    change = workflows.change_complete(change=change, actor=agent)
    assert change.state == "closed" and change.actual_end is not None and change.closed_at is not None
    transitions = list(
        AuditEntry.objects.filter(object_id=str(change.pk), action="transition")
        .order_by("pk")
        .values_list("transition", flat=True)
    )
    assert transitions == ["submit", "approve", "start", "close-without-review"]


# --- Submit -----------------------------------------------------------------------------------


def test_submit_tells_every_holder_of_changes_approve_but_not_the_submitter(agent, lead, manager, l1):
    change = submitted_change(by=agent)
    assert _told("change_submitted", change) == {"lead", "manager"}
    note = Notification.objects.get(kind="change_submitted", recipient=lead)
    assert note.subject == f"Change {change.number} awaits a CAB decision"
    assert "agent submitted change" in note.body


def test_submit_scores_the_risk_of_a_reworked_change_again(agent, lead):
    change = workflows.change_rework(change=rejected_change(by=agent, approver=lead), actor=agent)
    assert change.risk_score is None
    change = workflows.change_submit(change=change, actor=agent)
    assert change.risk_score == 2 and change.risk_level == "low"


# --- Approve ----------------------------------------------------------------------------------


def test_an_agent_without_changes_approve_cannot_approve(agent, l1):
    change = submitted_change(by=agent)
    with pytest.raises(NotAllowed):
        workflows.change_approve(change=change, actor=l1)
    assert Change.objects.get(pk=change.pk).state == "submitted"


def test_a_self_service_user_cannot_see_a_change_to_decide_on_it(agent, customer):
    change = submitted_change(by=agent)
    with pytest.raises(NotFound):
        workflows.change_approve(change=change, actor=customer)


def test_nobody_approves_a_change_they_requested(lead):
    change = submitted_change(by=lead)
    with pytest.raises(InvalidInput) as refused:
        workflows.change_approve(change=change, actor=lead)
    assert "requester" in refused.value.fields
    assert "requested" in refused.value.message


def test_nobody_decides_on_a_change_they_are_assigned(agent, lead, manager):
    change = submitted_change(by=agent)
    change = services.change_assign(change=change, actor=agent, assignee=lead)
    for decide in (
        lambda: workflows.change_approve(change=change, actor=lead),
        lambda: workflows.change_reject(change=change, actor=lead, cab_notes="No."),
    ):
        with pytest.raises(InvalidInput) as refused:
            decide()
        assert "assignee" in refused.value.fields
    assert workflows.change_approve(change=change, actor=manager).state == "approved"


def test_approval_needs_the_planned_window(agent, lead):
    change = workflows.change_submit(change=make_change(by=agent), actor=agent)
    with pytest.raises(InvalidInput) as refused:
        workflows.change_approve(change=change, actor=lead)
    assert {"planned_start", "planned_end"} <= set(refused.value.fields)


def test_approval_needs_the_templates_required_gates(agent, lead):
    template = make_template(required_gates=["Peer review", "Test evidence"], optional_gates=["Security"])
    change = submitted_change(by=agent, governance_template=template)
    with pytest.raises(InvalidInput) as refused:
        workflows.change_approve(change=change, actor=lead)
    assert refused.value.fields["gate_status"] == ["Complete the required gates first: Peer review, Test evidence."]
    services.change_complete_gate(change=change, actor=agent, gate="Peer review", notes="Read by Sam.")
    with pytest.raises(InvalidInput) as refused:
        workflows.change_approve(change=change, actor=lead)
    assert refused.value.fields["gate_status"] == ["Complete the required gates first: Test evidence."]
    services.change_complete_gate(change=change, actor=agent, gate="Test evidence")
    # The optional gate is not needed.
    assert workflows.change_approve(change=change, actor=lead).state == "approved"


def test_approval_needs_48_hours_notice_without_a_template(agent, lead):
    change = submitted_change(by=agent, **window(days=1))
    with pytest.raises(InvalidInput) as refused:
        workflows.change_approve(change=change, actor=lead)
    assert "48 hours' notice" in refused.value.fields["planned_start"][0]
    assert Change.objects.get(pk=change.pk).state == "submitted"


def test_approval_with_more_than_48_hours_notice_passes(agent, lead):
    start = timezone.now() + timedelta(hours=49)
    change = submitted_change(by=agent, planned_start=start, planned_end=start + timedelta(hours=1))
    assert workflows.change_approve(change=change, actor=lead).state == "approved"


def test_the_templates_notice_hours_replace_the_default(agent, lead):
    short = make_template("Quick", required_gates=[], optional_gates=[], min_notice_hours=4)
    long = make_template("Slow", required_gates=[], optional_gates=[], min_notice_hours=96)
    assert workflows.change_approve(change=submitted_change(by=agent, governance_template=short, **window(days=1)),
                                    actor=lead).state == "approved"  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        workflows.change_approve(change=submitted_change(by=agent, governance_template=long, **window(days=3)), actor=lead)
    assert "96 hours' notice" in refused.value.fields["planned_start"][0]


def test_a_notice_override_reason_lets_a_short_notice_change_through(agent, lead):
    change = submitted_change(by=agent, notice_override_reason="Vendor fix for an active exploit.", **window(days=0.5))
    assert workflows.change_approve(change=change, actor=lead).state == "approved"


def test_approval_tells_the_requester_and_the_assignee(agent, lead, manager):
    change = submitted_change(by=agent)
    services.change_assign(change=change, actor=agent, assignee=manager)
    workflows.change_approve(change=change, actor=lead)
    assert _told("change_approved", change) == {"agent", "manager"}


def test_only_a_submitted_change_is_approved(agent, lead):
    change = make_change(by=agent, **window())
    with pytest.raises(TransitionNotAllowed) as refused:
        workflows.change_approve(change=change, actor=lead)
    assert refused.value.fields["state"] == ["draft"]


# --- Reject and rework ------------------------------------------------------------------------


def test_reject_requires_cab_notes(agent, lead):
    change = submitted_change(by=agent)
    for notes in ("", "   ", None):
        with pytest.raises(InvalidInput) as refused:
            workflows.change_reject(change=change, actor=lead, cab_notes=notes)
        assert "cab_notes" in refused.value.fields
    assert Change.objects.get(pk=change.pk).state == "submitted"


def test_reject_records_the_decision_and_tells_the_requester(agent, lead):
    change = rejected_change(by=agent, approver=lead, cab_notes="Not during the sale.")
    assert (change.state, change.cab_decision, change.cab_notes, change.decided_by) == (
        "rejected", "rejected", "Not during the sale.", lead
    )
    assert _told("change_rejected", change) == {"agent"}


def test_rework_returns_a_rejected_change_to_draft_and_clears_decision_risk_and_gates(agent, lead):
    template = make_template(required_gates=["Peer review"], optional_gates=[])
    change = submitted_change(by=agent, governance_template=template)
    services.change_complete_gate(change=change, actor=agent, gate="Peer review")
    change = workflows.change_reject(change=change, actor=lead, cab_notes="Add a test plan for the DB.")
    assert change.risk_score is not None and change.gate_status
    change = workflows.change_rework(change=change, actor=agent)
    assert change.state == "draft"
    assert (change.cab_decision, change.decided_by, change.decided_at) == ("", None, None)
    assert (change.risk_score, change.risk_level, change.risk_factors) == (None, "", [])
    assert change.gate_status == {}
    assert change.cab_notes == "Add a test plan for the DB."  # kept, to rework from


def _incident_change(agent, lead):
    """An open incident and its emergency change, sent back to the CAB by a new window (an
    approval does not outlive what was approved): a submitted change with a linked ticket."""
    incident = incident_services.incident_create(actor=agent, data={"short_description": "Checkout fails"})
    change = services.change_from_incident(incident=incident, actor=agent, data={})
    change = services.change_update(change=change, actor=agent, data=window(days=5))
    assert change.state == "submitted"
    return incident, change, None


def test_reject_may_resolve_the_linked_incident_and_rework_reopens_it(agent, lead):
    incident, change, _ = _incident_change(agent, lead)
    change = workflows.change_reject(change=change, actor=lead, cab_notes="Fix it in config instead.",
                                     resolve_linked_ticket=True)  # fmt: skip
    assert change.linked_ticket_resolved_on_rejection is True
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.state == "resolved"
    assert change.number in incident.resolution_notes
    change = workflows.change_rework(change=change, actor=agent)
    assert Incident.objects.get(pk=incident.pk).state == "in_progress"
    assert change.linked_ticket_resolved_on_rejection is False


def test_rework_leaves_the_linked_incident_alone_when_the_rejection_did_not_resolve_it(agent, lead):
    incident, change, _ = _incident_change(agent, lead)
    incident_workflows.incident_resolve(incident=incident, actor=agent, resolution_code="workaround",
                                        resolution_notes="Restarted.")  # fmt: skip
    change = workflows.change_reject(change=change, actor=lead, cab_notes="Not needed.")
    workflows.change_rework(change=change, actor=agent)
    assert Incident.objects.get(pk=incident.pk).state == "resolved"


def test_resolving_the_linked_ticket_needs_an_open_linked_incident(agent, lead):
    change = submitted_change(by=agent)
    with pytest.raises(InvalidInput) as refused:
        workflows.change_reject(change=change, actor=lead, cab_notes="No.", resolve_linked_ticket=True)
    assert "resolve_linked_ticket" in refused.value.fields
    assert Change.objects.get(pk=change.pk).state == "submitted"


# --- Start, complete, PIR ---------------------------------------------------------------------


def test_start_sets_actual_start_and_only_from_approved(agent, lead):
    with pytest.raises(TransitionNotAllowed):
        workflows.change_start(change=submitted_change(by=agent), actor=agent)
    change = in_progress_change(by=agent, approver=lead)
    assert change.state == "in_progress" and change.actual_start is not None


def test_complete_goes_to_review_when_the_template_requires_a_pir(agent, lead):
    template = make_template(required_gates=[], optional_gates=[], pir_required=True)
    change = in_progress_change(by=agent, approver=lead, governance_template=template)
    change = workflows.change_complete(change=change, actor=agent)
    assert change.state == "review" and change.actual_end is not None
    assert change.pir_required is True
    assert change.pir_due_at == change.actual_end + timedelta(hours=72)


def test_an_emergency_change_always_needs_a_pir(agent):
    incident = incident_services.incident_create(actor=agent, data={"short_description": "Outage"})
    change = services.change_from_incident(incident=incident, actor=agent, data={})
    due = change.pir_due_at
    change = workflows.change_complete(change=workflows.change_start(change=change, actor=agent), actor=agent)
    assert change.state == "review" and change.pir_due_at == due


def test_the_pir_records_outcome_lessons_and_follow_ups_then_closes(agent, lead):
    template = make_template(required_gates=[], optional_gates=[], pir_required=True)
    change = workflows.change_complete(
        change=in_progress_change(by=agent, approver=lead, governance_template=template), actor=agent
    )
    change = workflows.change_record_pir(
        change=change, actor=agent, pir_outcome="partially_successful", pir_lessons="Stage the rollout.",
        pir_follow_ups="Add a canary host.",
    )  # fmt: skip
    assert change.state == "closed"
    assert (change.pir_outcome, change.pir_lessons, change.pir_follow_ups) == (
        "partially_successful", "Stage the rollout.", "Add a canary host."
    )
    assert change.pir_recorded_at is not None


@pytest.mark.parametrize(("inputs", "field"), [
    ({"pir_outcome": "great", "pir_lessons": "x"}, "pir_outcome"),
    ({"pir_outcome": "failed", "pir_lessons": "  "}, "pir_lessons"),
    ({"pir_outcome": "failed", "pir_lessons": "x", "pir_follow_ups": 3}, "pir_follow_ups"),
])  # fmt: skip
def test_a_pir_needs_a_known_outcome_and_lessons(agent, lead, inputs, field):
    template = make_template(required_gates=[], optional_gates=[], pir_required=True)
    change = workflows.change_complete(
        change=in_progress_change(by=agent, approver=lead, governance_template=template), actor=agent
    )
    with pytest.raises(InvalidInput) as refused:
        workflows.change_record_pir(change=change, actor=agent, **inputs)
    assert field in refused.value.fields
    assert Change.objects.get(pk=change.pk).state == "review"


# --- Cancel -----------------------------------------------------------------------------------


@pytest.mark.parametrize("make", ["draft", "submitted", "approved", "rejected"])
def test_a_change_is_cancelled_before_its_work_starts(agent, lead, make):
    change = {
        "draft": lambda: make_change(by=agent),
        "submitted": lambda: submitted_change(by=agent),
        "approved": lambda: approved_change(by=agent, approver=lead),
        "rejected": lambda: rejected_change(by=agent, approver=lead),
    }[make]()
    change = workflows.change_cancel(change=change, actor=agent, reason="Superseded by CHG9.")
    assert change.state == "cancelled" and change.closed_at is not None
    entry = AuditEntry.objects.get(object_id=str(change.pk), action="transition", transition="cancel")
    assert entry.note == "Superseded by CHG9."


def test_a_change_in_progress_cannot_be_cancelled(agent, lead):
    with pytest.raises(TransitionNotAllowed) as refused:
        workflows.change_cancel(change=in_progress_change(by=agent, approver=lead), actor=agent)
    assert refused.value.fields["allowed"] == ["complete"]


def test_the_services_own_transitions_are_never_offered(agent, lead):
    """auto-approve, send-back and close-without-review have no policy action: a refusal never
    lists them and no door can take them."""
    from changes.actions import ACTIONS

    change = make_change(by=agent)
    with pytest.raises(TransitionNotAllowed) as refused:
        workflows.change_start(change=change, actor=agent)
    assert refused.value.fields["allowed"] == ["cancel", "submit"]
    assert {"auto-approve", "send-back", "close-without-review"}.isdisjoint(ACTIONS)


def test_a_plain_agent_may_take_the_agents_transitions(agent, lead):
    l1 = make_user("l1b", "itsm_agent")
    change = make_change(by=l1, **window(), **PLANS)
    change = workflows.change_submit(change=change, actor=l1)
    change = workflows.change_approve(change=change, actor=lead)
    change = workflows.change_start(change=change, actor=l1)
    assert workflows.change_complete(change=change, actor=l1).state == "closed"
