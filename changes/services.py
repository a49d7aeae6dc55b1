"""Change writes other than transitions: create (also an incident's emergency change), edit,
assign, complete a gate, compute the impact, work notes, tasks. Each is atomic,
policy-checked and journaled; the transitions they lead to are ``changes.workflows``'.

- Creation: normal and emergency changes start in draft. A standard change is approved as it is
  created, unless its governance template's auto-approval policy refuses (risk score above
  ``auto_approve_max_risk``, or a risk level not in ``auto_approve_risk_levels``): then it is
  created submitted, the CAB is told and the reason is kept in ``routing_reason``.
- Every create and update scores the risk afresh (``changes.risk``) and refuses a standard or
  normal change planned in a change freeze (400 naming ``planned_start``).
- An approval does not outlive what was approved: editing the planned window, hosts, host
  groups, type or plans of an approved change (not started yet) sends it back to the CAB.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from changes import impact, notices, risk, schedule, workflows
from changes.models import Change, ChangeNote, ChangeState, ChangeTask, ChangeType, SourceType
from incidents.models import Incident, IncidentState
from itsm import audit, notes, policy, services
from itsm.bulk_actions import ASSIGNEES, SOMEONE, BulkAction, BulkActions
from itsm.errors import InvalidInput, NotAllowed, NotFound
from itsm.workflow import locked_for
from oncall.routing import on_call_assignee

PEOPLE_FIELDS = ("assignee", "assignment_group")
# What an approval covers: editing any of these on an approved change sends it back to the CAB.
APPROVED_SCOPE = (
    "planned_start", "planned_end", "hosts", "host_groups", "change_type",
    "implementation_plan", "backout_plan", "test_plan",
)  # fmt: skip
GATE_NOTES_MAX = 2000


# --- The rules on a change's values -----------------------------------------------------------


def _after(change: Change | None, data: Mapping[str, Any], names) -> dict[str, Any]:
    return {name: data[name] if name in data else getattr(change, name, None) for name in names}


def check_values(*, data: Mapping[str, Any], current: Change | None = None, routed: bool = False) -> None:
    """Refuse (400, naming each field) what ``data`` would make of the change (``current``,
    None when creating): the assignee and group (``itsm.services.assignment_errors``), a newly
    named inactive governance template, and a standard or normal change planned in a freeze."""

    def named(name: str) -> bool:
        return name in data and (current is None or getattr(current, name) != data[name])

    after = _after(current, data, (*PEOPLE_FIELDS, "change_type", "planned_start", "planned_end"))
    if after["change_type"] is None:
        after["change_type"] = ChangeType.NORMAL
    errors = services.assignment_errors(
        after=after, named=named, permission=Change.ASSIGNEE_PERMISSION, routed=routed,
        refusal="Only service-desk agents can be assigned changes.",
    )  # fmt: skip
    template = data.get("governance_template")
    if named("governance_template") and template is not None and not template.active:
        errors["governance_template"] = [f"The governance template '{template}' is no longer in use."]
    if errors:
        raise InvalidInput("The change cannot be saved as it is.", fields=errors)
    if {"change_type", "planned_start", "planned_end"} & set(data) or current is None:
        schedule.check_freeze(
            change_type=after["change_type"], start=after["planned_start"], end=after["planned_end"]
        )


def _derived(change: Change) -> dict[str, Any]:
    """What a change's values imply: its risk (score, level, factors) and whether a PIR is
    required. A change whose risk was cleared by a rework (a draft without a score) is scored
    again like any other: every update scores it."""
    fields = risk.score(change).as_fields()
    if not change.pir_required and workflows.pir_required(change):
        fields["pir_required"] = True
    return fields


def _refresh_derived(change: Change, actor) -> Change:
    """Score the locked change again and store what moved (journaled, no new version)."""
    services.apply_changes(change, actor, _derived(change), bump=False)
    return change


def auto_approval_refusal(change: Change) -> str:
    """Why the template's policy keeps a standard change from being approved as created ("":
    it does not)."""
    template = change.governance_template
    if template is None:
        return ""
    reasons = []
    if template.auto_approve_max_risk is not None and (change.risk_score or 0) > template.auto_approve_max_risk:
        reasons.append(
            f"its risk score {change.risk_score} is above {template.name}'s auto-approval limit of "
            f"{template.auto_approve_max_risk}"
        )
    if template.auto_approve_risk_levels and change.risk_level not in template.auto_approve_risk_levels:
        reasons.append(
            f"its risk level {change.risk_level} is not one {template.name} approves automatically "
            f"({', '.join(template.auto_approve_risk_levels)})"
        )
    if not reasons:
        return ""
    return "A standard change goes to the CAB when " + " and ".join(reasons) + "."


# --- Create, edit, assign ---------------------------------------------------------------------


@transaction.atomic
def change_create(*, actor, data: Mapping[str, Any], **system: Any) -> Change:
    """Raise a change (agents). Normal and emergency changes start in draft; a standard change
    is approved at once unless its template's auto-approval policy sends it to the CAB (created
    submitted, the reason in ``routing_reason``). ``system`` carries what the calling service
    sets, not the user (``source_type``, ``problem``, ``incident``…)."""
    data = dict(data)
    system = {"requester": actor, **system}
    for name in list(system):
        if name in data:
            del system[name]
    change = services.record_create(
        model=Change, actor=actor, data=data, check=lambda: check_values(data={**system, **data}), **system,
    )  # fmt: skip
    change = services.lock(change)
    _refresh_derived(change, actor)
    if change.change_type == ChangeType.STANDARD:
        reason = auto_approval_refusal(change)
        if reason:
            change = workflows.change_route_to_cab(change=change, actor=actor, reason=reason)
        else:
            change = workflows.change_auto_approve(
                change=change, actor=actor,
                note="Approved as created: a standard change within its governance policy.",
            )  # fmt: skip
    return change


def _scope(change: Change) -> dict[str, Any]:
    return {name: services._current(change, name) for name in APPROVED_SCOPE}


@transaction.atomic
def change_update(*, change: Change, actor, data: Mapping[str, Any], expected_version: int | None = None) -> Change:
    """Edit the fields the actor may write (agents until the change is closed or cancelled;
    ``change_type`` only in draft or submitted before a CAB decision — the policy's gate;
    administrators always). The risk is scored afresh; an approved change whose window, hosts,
    groups, type or plans changed goes back to the CAB."""
    data = dict(data)
    before = _scope(services.lock(change))
    change = services.record_update(
        obj=change, actor=actor, data=data, expected_version=expected_version,
        check=lambda current: check_values(data=data, current=current),
    )  # fmt: skip
    change = services.lock(change)
    _refresh_derived(change, actor)
    after = _scope(change)
    moved = [name for name in APPROVED_SCOPE if before[name] != after[name]]
    if moved and change.state == ChangeState.APPROVED:
        change = workflows.change_send_back(change=change, actor=actor, what=moved)
    return change


@transaction.atomic
def change_assign(*, change: Change, actor, assignee=None, assignment_group=None) -> Change:
    """Assign to a user, a group, or both; both None unassigns (agents, while the change is
    open). A group alone that is linked to an on-call schedule goes to whoever is on call."""
    change = locked_for(change, actor, "assign")
    routed = False
    if assignee is None and assignment_group is not None and assignment_group.is_active:
        assignee = on_call_assignee(assignment_group)
        routed = assignee is not None and policy.has_permission(assignee, Change.ASSIGNEE_PERMISSION)
        assignee = assignee if routed else None
    chosen = {"assignee": assignee, "assignment_group": assignment_group}
    check_values(data=chosen, current=change, routed=routed)
    services.apply_changes(change, actor, chosen)
    return change


# --- Gates, impact ----------------------------------------------------------------------------


@transaction.atomic
def change_complete_gate(*, change: Change, actor, gate: str, notes: str = "") -> Change:
    """Mark one of the change's template's gates complete, with a note (agents, while the change
    is open); journaled. A gate is completed once."""
    change = locked_for(change, actor, "complete-gate")
    template = change.governance_template
    if template is None:
        raise InvalidInput(
            "This change has no governance template, so it has no gates.",
            fields={"gate": ["The change has no governance template."]},
        )
    if not isinstance(gate, str) or gate not in template.gates:
        raise InvalidInput(
            "Unknown gate.",
            fields={"gate": [f"Choose one of {template.name}'s gates: {', '.join(template.gates) or 'none'}."]},
        )
    if gate in (change.gate_status or {}):
        raise InvalidInput(
            "This gate is complete already.",
            fields={"gate": [f"'{gate}' was completed at {change.gate_status[gate].get('completed_at')}."]},
        )
    text = workflows._text(notes, "notes")
    if len(text) > GATE_NOTES_MAX:
        raise InvalidInput("The note is too long.", fields={"notes": [f"At most {GATE_NOTES_MAX} characters."]})
    status = {
        **(change.gate_status or {}),
        gate: {"completed_at": timezone.now().isoformat(), "completed_by": actor.pk, "notes": text},
    }
    services.apply_changes(change, actor, {"gate_status": status})
    return change


@transaction.atomic
def change_compute_impact(*, change: Change, actor) -> Change:
    """Analyse the change's impact (``changes.impact``) and store it with the time (agents;
    journaled, no new version: nothing the agent typed changed)."""
    change = locked_for(change, actor, "impact")
    now = timezone.now()
    summary = impact.analyse(change, now=now)
    services.apply_changes(
        change, actor, {"impact_summary": summary, "impact_computed_at": now}, bump=False, quiet=("impact_summary",)
    )
    return change


# --- An incident's emergency change -----------------------------------------------------------


@transaction.atomic
def change_from_incident(*, incident: Incident, actor, data: Mapping[str, Any]) -> Change:
    """Raise an emergency change for an open incident (incidents.manage on it): approved as it
    is raised, linked both ways (``change.incident`` and ``incident.changes_required``), PIR
    required and due 72 hours later; journaled on both records and the CAB told. ``data`` may
    set the change's fields; its text defaults to the incident's, its hosts to the incident's."""
    if not policy.is_readable(actor, incident):
        raise NotFound()
    if not policy.has_permission(actor, "incidents.manage"):
        raise NotAllowed("You may not raise a change for this incident.")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.state not in (IncidentState.NEW, IncidentState.IN_PROGRESS, IncidentState.ON_HOLD):
        raise InvalidInput(
            f"Incident {incident.number} is {IncidentState(incident.state).label.lower()}: an emergency change is for "
            "an open incident.",
            fields={"incident": ["The incident is not open."]},
        )  # fmt: skip
    data = dict(data)
    if data.get("change_type", ChangeType.EMERGENCY) != ChangeType.EMERGENCY:
        raise InvalidInput(
            "A change raised from an incident is an emergency change.",
            fields={"change_type": ["Only emergency changes are raised from an incident."]},
        )
    data.pop("change_type", None)
    defaults = {
        "short_description": f"Emergency change for {incident.number}: {incident.short_description}"[:200],
        "description": incident.description,
        "justification": f"Restores service for incident {incident.number}.",
    }
    now = timezone.now()
    system = {
        **{name: value for name, value in defaults.items() if name not in data},
        "change_type": ChangeType.EMERGENCY, "source_type": SourceType.INCIDENT, "incident": incident,
        "organisation": incident.organisation, "requester": actor, "pir_required": True,
        "pir_due_at": now + workflows.PIR_DUE,
    }  # fmt: skip
    for name in [n for n in system if n in data]:
        del system[name]
    if "hosts" not in data:
        data["hosts"] = list(incident.hosts.all())
    change = services.record_create(
        model=Change, actor=actor, data=data, check=lambda: check_values(data={**system, **data}), **system
    )
    change = services.lock(change)
    _refresh_derived(change, actor)
    change = workflows.change_auto_approve(
        change=change, actor=actor, note=f"Approved as raised: the emergency change for incident {incident.number}."
    )
    incident.changes_required.add(change)
    audit.change_entry(
        incident, actor, "changes_required", "", change.number, note=f"Emergency change {change.number} raised."
    ).save()
    notices.emergency_raised(change, actor=actor, incident=incident)
    return change


# --- Notes ------------------------------------------------------------------------------------


@transaction.atomic
def change_note_add(*, change: Change, actor, body: str) -> ChangeNote:
    """Add a work note (agents), of at most ``NOTE_MAX`` characters."""
    text = notes.note_body(body)
    change = locked_for(change, actor, "note")
    return ChangeNote.objects.create(change=change, author=actor, body=text)


@transaction.atomic
def change_note_edit(*, note: ChangeNote, actor, body: str) -> ChangeNote:
    """Change a note's text (its author or an ITSM administrator); the journal keeps the old text."""
    return notes.note_edit(note, actor, body, parent="change")


@transaction.atomic
def change_note_delete(*, note: ChangeNote, actor) -> None:
    """Remove a note (its author or an ITSM administrator); the journal keeps its text."""
    notes.note_delete(note, actor, parent="change")


# --- Tasks ------------------------------------------------------------------------------------


def change_task_create(*, change: Change, actor, data: Mapping[str, Any]) -> ChangeTask:
    """Add a task under a change (agents; SPEC §4: as incident tasks)."""
    return services.task_create(parent=change, model=ChangeTask, actor=actor, data=data)


# --- Bulk -------------------------------------------------------------------------------------

# The change queue's bulk actions (``itsm.bulk_actions``): assign, and starting approved changes
# (as the admin does); a comment is a work note on each.
BULK = BulkActions(
    model=Change,
    record="change",
    noun="change",
    note=change_note_add,
    actions=[
        BulkAction("assign", "Assign", change_assign, needs=frozenset({SOMEONE}), passes=ASSIGNEES),
        BulkAction("start", "Start", workflows.change_start),
    ],
)
