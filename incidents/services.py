"""Incident writes other than transitions: create (with enrichment), edit, assign, notes,
time, CSAT, follow, bulk actions. Each is atomic, policy-checked and journaled."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from escalation import services as escalation
from incidents import enrichment, selectors, workflows
from incidents.models import CsatResponse, Incident, IncidentNote, IncidentTask, Source, TimeEntry
from incidents.tasks import auto_close
from itsm import audit, policy, services
from itsm.errors import InvalidInput, ItsmError, NotAllowed, NotFound
from itsm.models import GroupMembership
from itsm.validators import check_dates
from itsm.workflow import locked_for
from notifications import services as notify
from notifications.models import Kind
from oncall.routing import on_call_assignee
from sla import clocks

BULK_MAX = 100


@transaction.atomic
def incident_create(
    *, actor, data: Mapping[str, Any], source: str = Source.MANUAL, **system: Any
) -> Incident:
    """Raise an incident. The requester is the actor unless the caller says otherwise; impact,
    urgency, priority and category get sensible defaults an agent may change. ``hosts`` (from
    alerts) are linked before the SLA is chosen, since a host group's SLA comes first. The SLA
    clocks start and the escalation policy's first stage is entered."""
    data = dict(data)
    hosts = system.pop("hosts", None)
    defaults = {"requester": actor, "organisation": getattr(actor, "organisation", None)}
    for name, value in defaults.items():
        if name not in data:
            system.setdefault(name, value)
    system["source"] = source
    category, subcategory = enrichment.category_for(source, system.pop("category_detail", ""))
    for name, value in (("category", category), ("subcategory", subcategory)):
        if name not in data:
            system.setdefault(name, value)
    impact = data.get("impact", system.get("impact", 3))
    urgency = data.get("urgency", system.get("urgency", 3))
    if "priority" not in data:
        system.setdefault("priority", enrichment.priority_for(impact, urgency))
    incident = services.record_create(model=Incident, actor=actor, data=data, **system)
    if hosts:
        incident.hosts.add(*hosts)
    clocks.start(incident)
    escalation.begin(incident)
    return incident


@transaction.atomic
def incident_update(
    *, incident: Incident, actor, data: Mapping[str, Any], expected_version: int | None = None
):
    """Edit fields the actor may write. A change of impact or urgency re-derives the priority
    from the matrix unless the same edit sets the priority itself."""
    data = dict(data)
    if ("impact" in data or "urgency" in data) and "priority" not in data:
        impact = data.get("impact", incident.impact)
        urgency = data.get("urgency", incident.urgency)
        derived = enrichment.priority_for(impact, urgency)
        if "priority" in policy.writable_fields(actor, incident):
            data["priority"] = derived
    old_priority = incident.priority
    incident = services.record_update(obj=incident, actor=actor, data=data, expected_version=expected_version)
    if incident.priority != old_priority:
        clocks.retarget(incident)
    return incident


@transaction.atomic
def incident_assign(*, incident: Incident, actor, assignee=None, assignment_group=None) -> Incident:
    """Assign to a user, a group, or both; both None unassigns. The user must be an agent and,
    when a group is given, one of its members. A group alone that is linked to an on-call
    schedule goes to whoever is on call now."""
    incident = locked_for(incident, actor, "assign")
    routed = False
    if assignee is None and assignment_group is not None and assignment_group.is_active:
        assignee = on_call_assignee(assignment_group)
        routed = assignee is not None
    errors = {}
    if assignee is not None and not policy.has_permission(assignee, "incidents.manage"):
        errors["assignee"] = ["Only service-desk agents can be assigned incidents."]
    if assignment_group is not None and not assignment_group.is_active:
        errors["assignment_group"] = ["This assignment group is inactive."]
    if (
        assignee is not None
        and assignment_group is not None
        and not routed
        and not GroupMembership.objects.filter(group=assignment_group, user=assignee).exists()
    ):
        errors["assignee"] = [f"{assignee} is not a member of {assignment_group}."]
    if errors:
        raise InvalidInput("The incident cannot be assigned as asked.", fields=errors)
    services.apply_changes(incident, actor, {"assignee": assignee, "assignment_group": assignment_group})
    return incident


# --- Notes ----------------------------------------------------------------------------------

NOTE_ACTION = {IncidentNote.Kind.COMMENT: "comment", IncidentNote.Kind.WORK_NOTE: "work_note"}


@transaction.atomic
def note_add(*, incident: Incident, actor, kind: str, body: str) -> IncidentNote:
    """Add a comment (seen by the customer) or a work note (agents only)."""
    if kind not in NOTE_ACTION:
        raise InvalidInput("Unknown note kind.", fields={"kind": ["Choose comment or work_note."]})
    if not (body or "").strip():
        raise InvalidInput("The note is empty.", fields={"body": ["Write something."]})
    incident = locked_for(incident, actor, NOTE_ACTION[kind])
    note = IncidentNote.objects.create(incident=incident, kind=kind, author=actor, body=body.strip())
    if kind == IncidentNote.Kind.COMMENT and policy.has_permission(actor, "incidents.manage"):
        clocks.stop_response(incident, note="first reply")  # an agent's reply is a response
        # Only an agent's comment is e-mailed (after commit); a customer's is for the desk's queue.
        notify.send(selectors.customer_messages(incident, Kind.COMMENTED, besides=actor, comment=note.body))
    return note


# The journal field a note's change is written under: the work journal is hidden from
# customers, so ``audit.entries_for`` shows a work note's old text only to those who read it.
NOTE_JOURNAL = {IncidentNote.Kind.COMMENT: "conversation", IncidentNote.Kind.WORK_NOTE: "work_journal"}


def _note_for_edit(note: IncidentNote, actor) -> IncidentNote:
    """The note locked, or NotFound if another request deleted it meanwhile."""
    note = IncidentNote.objects.select_for_update().select_related("incident").filter(pk=note.pk).first()
    if note is None:
        raise NotFound()
    if not policy.is_readable(actor, note.incident) or not policy.can(
        actor, NOTE_ACTION[note.kind], note.incident
    ):
        raise NotFound()
    if not policy.can_edit_note(actor, note):
        raise NotAllowed("Only the note's author or an ITSM administrator can change it.")
    return note


def _journal_note(note: IncidentNote, actor, new_text: str, what: str) -> None:
    audit.change_entry(
        note.incident, actor, NOTE_JOURNAL[note.kind], note.body, new_text,
        note=f"{note.get_kind_display()} #{note.pk} {what}.",
    ).save()  # fmt: skip


@transaction.atomic
def note_edit(*, note: IncidentNote, actor, body: str) -> IncidentNote:
    """Change a note's text (its author or an ITSM administrator); the incident's journal keeps
    the old text."""
    if not (body or "").strip():
        raise InvalidInput("The note is empty.", fields={"body": ["Write something."]})
    note = _note_for_edit(note, actor)
    if note.body == body.strip():
        return note
    _journal_note(note, actor, body.strip(), "edited")
    note.body = body.strip()
    note.save(update_fields=["body", "updated_at"])
    return note


@transaction.atomic
def note_delete(*, note: IncidentNote, actor) -> None:
    """Remove a note (its author or an ITSM administrator); the incident's journal keeps its text."""
    note = _note_for_edit(note, actor)
    _journal_note(note, actor, "", "deleted")
    note.delete()


# --- Time and CSAT --------------------------------------------------------------------------


@transaction.atomic
def time_entry_add(
    *, incident: Incident, actor, minutes: int, billable: bool = True, on: date | None = None, note: str = ""
) -> TimeEntry:
    """Log effort on an incident (incidents.manage)."""
    incident = locked_for(incident, actor, "log_time")
    if not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise InvalidInput("Invalid time.", fields={"minutes": ["Enter whole minutes from 1 to 1440."]})
    check_dates({"date": on})
    return TimeEntry.objects.create(
        incident=incident, author=actor, minutes=minutes, billable=billable,
        date=on or timezone.localdate(), note=note.strip(),
    )  # fmt: skip


@transaction.atomic
def csat_submit(*, incident: Incident, actor, rating: int, comment: str = "") -> CsatResponse:
    """Rate a resolved or closed incident; a second submission by the same person updates it."""
    incident = services.lock(incident)
    if not policy.is_readable(actor, incident):
        raise NotFound()
    refusal = csat_refusal(incident, actor)
    if refusal is not None:
        raise NotAllowed(refusal)
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput("Invalid rating.", fields={"rating": ["Rate from 1 (poor) to 5 (excellent)."]})
    response, _ = CsatResponse.objects.update_or_create(
        incident=incident, actor=actor, defaults={"rating": rating, "comment": comment.strip()}
    )
    return response


def csat_refusal(incident, actor) -> str | None:
    """Why the actor may not rate this incident now (None if it may)."""
    if policy.can(actor, "csat", incident):
        return None
    if incident.state not in ("resolved", "closed"):
        return "You can rate an incident once it is resolved."
    return "Only the person who raised the incident, or whom it is for, can rate it."


# --- Bulk -----------------------------------------------------------------------------------

BULK_ACTIONS = ("acknowledge", "resolve")


def incident_bulk(
    *, actor, action: str, ids: Iterable, comment: str, resolution_code: str = "resolved"
) -> dict:
    """Acknowledge or resolve many incidents with one comment (a work note on each). Incidents
    the actor may not act on, or whose state does not allow it, are counted and left unchanged."""
    errors = {}
    if action not in BULK_ACTIONS:
        errors["action"] = [f"Choose one of: {', '.join(BULK_ACTIONS)}."]
    ids = list(dict.fromkeys(ids or []))
    if not ids:
        errors["ids"] = ["Give at least one incident id."]
    elif len(ids) > BULK_MAX:
        errors["ids"] = [f"At most {BULK_MAX} incidents per request (got {len(ids)})."]
    elif not all(isinstance(i, int) and 0 < i < 2**63 for i in ids):
        errors["ids"] = ["Ids are positive whole numbers."]
    if not (comment or "").strip():
        errors["comment"] = ["Say why: the comment is added to every incident."]
    if errors:
        raise InvalidInput("The bulk action cannot run as asked.", fields=errors)
    incidents = {i.pk: i for i in policy.readable(actor, Incident).filter(pk__in=ids)}
    affected = 0
    for pk in ids:
        incident = incidents.get(pk)
        if incident is None:
            continue
        try:
            with transaction.atomic():
                if action == "acknowledge":
                    workflows.incident_acknowledge(incident=incident, actor=actor, comment=comment)
                else:
                    workflows.incident_resolve(
                        incident=incident,
                        actor=actor,
                        resolution_code=resolution_code,
                        resolution_notes=comment,
                    )
                    note_add(incident=incident, actor=actor, kind=IncidentNote.Kind.WORK_NOTE, body=comment)
        except ItsmError:
            continue
        affected += 1
    return {"requested": len(ids), "affected": affected, "unchanged": len(ids) - affected}


# --- Followers (single-user shares) ----------------------------------------------------------


@transaction.atomic
def follower_add(*, incident: Incident, actor, user) -> None:
    """Share one incident with a user (django-guardian grant): it may then read it."""
    locked_for(incident, actor, "assign")
    assign_perm("follow_incident", user, incident)
    audit.log_changes(incident, actor, [("major_incident_followers", "", str(user))])


def auto_close_run(*, actor, stale_hours: int, dry_run: bool) -> dict:
    """Run the auto-close sweep on demand (incidents.manage)."""
    if not policy.has_permission(actor, "incidents.manage"):
        raise NotAllowed("Running the auto-close sweep needs the incidents.manage permission.")
    return auto_close(stale_hours=stale_hours, dry_run=dry_run)


def task_create(*, incident: Incident, actor, data: Mapping[str, Any]):
    """Add a task under an incident (agents)."""
    return services.task_create(parent=incident, model=IncidentTask, actor=actor, data=data)
