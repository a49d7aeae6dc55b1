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
from incidents.models import (
    NOTE_MAX,
    CsatResponse,
    Incident,
    IncidentNote,
    IncidentState,
    IncidentTask,
    Source,
    TimeEntry,
)
from incidents.tasks import auto_close
from itsm import attachments, audit, policy, services
from itsm.bulk_actions import ASSIGNEES, COMMENT, SOMEONE, BulkAction, BulkActions
from itsm.errors import InvalidInput, NotAllowed, NotFound
from itsm.validators import check_dates
from itsm.workflow import locked_for
from notifications import services as notify
from notifications.models import Kind
from oncall.routing import on_call_assignee
from sla import clocks

# --- Who an incident may name ---------------------------------------------------------------

# The people and the group an incident names: every door that writes them (the /assign/ action,
# a plain edit through the API, the desk's and the admin's forms, creation) obeys check_people.
PEOPLE_FIELDS = frozenset(
    {"assignee", "assignment_group", "collaborators", "major_incident_manager", "requester",
     "requested_for", "organisation"}
)  # fmt: skip
AGENTS_ONLY = {
    "assignee": "Only service-desk agents can be assigned incidents.",
    "collaborators": "Only service-desk agents can collaborate on incidents.",
    "major_incident_manager": "Only service-desk agents can manage a major incident.",
}


def _is_agent(user) -> bool:
    return policy.has_permission(user, "incidents.manage")


def check_people(
    *,
    after: Mapping[str, Any],
    data: Mapping[str, Any],
    current: Incident | None = None,
    routed: bool = False,
    message: str = "The incident cannot name these people.",
) -> None:
    """Refuse (400, naming each field) the people and group ``data`` names when the incident
    would be ``after`` (its fields' values after the change); a value ``current`` already has is
    not named anew, so a form re-sending it passes.

    * The assignee, new collaborators and the major-incident manager are agents (holders of
      incidents.manage).
    * A newly named assignment group is active; an assignee with a group is one of its members,
      unless on-call routing (``routed``) picked them.
    * The requester and the requested-for person belong to the incident's organisation (no
      organisation counts as one of its own: an organisation-less incident names organisation-
      less people), unless they are agents, who read every incident anyway. Naming someone there
      lets them read the incident, so an agent cannot open one organisation's incident to
      another's people. Moving the incident to another organisation checks both again.
    """

    def named(name: str) -> bool:
        if name not in data:
            return False
        if current is None or name == "collaborators":
            return True
        return getattr(current, name) != data[name]

    errors = services.assignment_errors(
        after=after,
        named=named,
        permission="incidents.manage",
        refusal=AGENTS_ONLY["assignee"],
        routed=routed,
    )
    for name in ("collaborators", "major_incident_manager"):
        if not named(name):
            continue
        if name == "collaborators":
            people = set(data[name] or ()) - (
                set(current.collaborators.all()) if current is not None else set()
            )
        else:
            people = {data[name]} - {None}
        if any(not person.is_active or not _is_agent(person) for person in people):
            errors[name] = [AGENTS_ONLY[name]]
    for name in ("requester", "requested_for"):
        if not (named(name) or named("organisation")):
            continue  # read only what is named: the fields of a locked row are each a query
        person, organisation = after.get(name), after.get("organisation")
        if person is None:
            continue
        if person.organisation_id != getattr(organisation, "pk", None) and not _is_agent(person):
            where = f"of {organisation}" if organisation is not None else "without an organisation"
            errors[name] = [f"{person} belongs to another organisation than this incident ({where})."]
    if errors:
        raise InvalidInput(message, fields=errors)


class _After(Mapping):
    """The incident's people fields as they would be after ``data`` is written, each read from
    the incident only when a rule asks for it (an assignment names neither the requester nor the
    organisation: reading them would cost a query each on the freshly locked row)."""

    FIELDS = PEOPLE_FIELDS - {"collaborators"}

    def __init__(self, incident: Incident, data: Mapping[str, Any]):
        self.incident, self.data = incident, data

    def __getitem__(self, name: str) -> Any:
        if name in self.data:
            return self.data[name]
        if name in self.FIELDS:
            return getattr(self.incident, name)
        raise KeyError(name)

    def __iter__(self):
        return iter(self.FIELDS | set(self.data))

    def __len__(self) -> int:
        return len(self.FIELDS | set(self.data))


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
    # Raised for someone else, the incident is of that person's organisation (check_people).
    person = data.get("requested_for") or data.get("requester") or actor
    defaults = {"requester": actor, "organisation": getattr(person, "organisation", None)}
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
    incident = services.record_create(
        model=Incident, actor=actor, data=data, check=lambda: check_people(after={**system, **data}, data=data),
        **system,
    )  # fmt: skip
    if hosts:
        incident.hosts.add(*hosts)
    clocks.start(incident)
    escalation.begin(incident)
    if not _is_agent(actor):
        # A customer raised it: tell it (and whom it is for) that it arrived (e-mailed after commit).
        notify.send(selectors.customer_messages(incident, Kind.RECEIVED))
    return incident


@transaction.atomic
def incident_update(
    *, incident: Incident, actor, data: Mapping[str, Any], expected_version: int | None = None
):
    """Edit fields the actor may write. A change of impact or urgency re-derives the priority
    from the matrix unless the same edit sets the priority itself. The people and group it names
    obey the rules of ``incident_assign`` (``check_people``): agents only as assignee,
    collaborators and major-incident manager, a member of the group, an active group; requester
    and requested-for person of the incident's organisation, or agents."""
    data = dict(data)
    if ("impact" in data or "urgency" in data) and "priority" not in data:
        impact = data.get("impact", incident.impact)
        urgency = data.get("urgency", incident.urgency)
        derived = enrichment.priority_for(impact, urgency)
        if "priority" in policy.writable_fields(actor, incident):
            data["priority"] = derived
    old_priority = incident.priority
    incident = services.record_update(
        obj=incident, actor=actor, data=data, expected_version=expected_version,
        check=lambda current: check_people(after=_After(current, data), data=data, current=current),
    )  # fmt: skip
    if incident.priority != old_priority:
        clocks.retarget(incident)
    return incident


@transaction.atomic
def incident_assign(*, incident: Incident, actor, assignee=None, assignment_group=None) -> Incident:
    """Assign to a user, a group, or both; both None unassigns. The user must be an agent and,
    when a group is given, one of its members (``check_people``). A group alone that is linked to an on-call
    schedule goes to whoever is on call now."""
    incident = locked_for(incident, actor, "assign")
    routed = False
    if assignee is None and assignment_group is not None and assignment_group.is_active:
        assignee = on_call_assignee(assignment_group)
        routed = assignee is not None
    chosen = {"assignee": assignee, "assignment_group": assignment_group}
    check_people(
        after=_After(incident, chosen), data=chosen, routed=routed,
        message="The incident cannot be assigned as asked.",
    )  # fmt: skip
    services.apply_changes(incident, actor, {"assignee": assignee, "assignment_group": assignment_group})
    return incident


# --- Notes ----------------------------------------------------------------------------------

NOTE_ACTION = {IncidentNote.Kind.COMMENT: "comment", IncidentNote.Kind.WORK_NOTE: "work_note"}


@transaction.atomic
def note_add(*, incident: Incident, actor, kind: str, body: str) -> IncidentNote:
    """Add a comment (seen by the customer) or a work note (agents only), of at most
    ``NOTE_MAX`` characters. An agent's comment is e-mailed to the customer; a customer's comment
    tells the assignee (else the group's members), and on a resolved incident it also marks the
    incident "customer replied" (``customer_replied_at``) for an agent to reopen or close it —
    the customer itself cannot reopen (SPEC §5)."""
    if kind not in NOTE_ACTION:
        raise InvalidInput("Unknown note kind.", fields={"kind": ["Choose comment or work_note."]})
    _check_body(body)
    incident = locked_for(incident, actor, NOTE_ACTION[kind])
    note = IncidentNote.objects.create(incident=incident, kind=kind, author=actor, body=body.strip())
    if kind != IncidentNote.Kind.COMMENT:
        return note
    if _is_agent(actor):
        clocks.stop_response(incident, note="first reply")  # an agent's reply is a response
        notify.send(selectors.customer_messages(incident, Kind.COMMENTED, besides=actor, comment=note.body))
        return note
    told = Kind.CUSTOMER_COMMENTED
    if incident.state == IncidentState.RESOLVED:
        told = Kind.CUSTOMER_REPLIED
        if incident.customer_replied_at is None:
            services.apply_changes(incident, actor, {"customer_replied_at": note.created_at})
    author = actor.get_full_name() or actor.get_username()
    notify.send(selectors.desk_messages(incident, told, besides=actor, comment=note.body, author=author))
    return note


def _check_body(body: str) -> None:
    """The one rule on a note's text, whichever door it comes through."""
    text = (body or "").strip()
    if not text:
        raise InvalidInput("The note is empty.", fields={"body": ["Write something."]})
    if len(text) > NOTE_MAX:
        raise InvalidInput(
            "The note is too long.",
            fields={
                "body": [f"Ensure this field has no more than {NOTE_MAX} characters (it has {len(text)})."]
            },
        )


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
    _check_body(body)
    note = _note_for_edit(note, actor)
    if note.body == body.strip():
        return note
    _journal_note(note, actor, body.strip(), "edited")
    note.body = body.strip()
    note.save(update_fields=["body", "updated_at"])
    return note


@transaction.atomic
def note_delete(*, note: IncidentNote, actor) -> None:
    """Remove a note and its files (its author or an ITSM administrator); the incident's journal
    keeps its text and says which files went."""
    note = _note_for_edit(note, actor)
    _journal_note(note, actor, "", "deleted")
    attachments.note_files_remove(record=note.incident, note=note, actor=actor)
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


def _resolve(*, incident: Incident, actor, comment: str, resolution_code: str = "resolved") -> Incident:
    return workflows.incident_resolve(
        incident=incident, actor=actor, resolution_code=resolution_code, resolution_notes=comment
    )


def _work_note(*, incident: Incident, actor, body: str) -> IncidentNote:
    return note_add(incident=incident, actor=actor, kind=IncidentNote.Kind.WORK_NOTE, body=body)


# The incident queue's bulk actions (``itsm.bulk_actions``); a comment is a work note on each.
BULK = BulkActions(
    model=Incident,
    record="incident",
    noun="incident",
    note=_work_note,
    actions=[
        # Acknowledging writes the comment as the work note itself.
        BulkAction("acknowledge", "Acknowledge (take them)", workflows.incident_acknowledge,
                   needs=frozenset({COMMENT}), passes=(COMMENT,), note=False),
        BulkAction("resolve", "Resolve", _resolve, needs=frozenset({COMMENT}), passes=(COMMENT, "resolution_code")),
        BulkAction("assign", "Assign", incident_assign, needs=frozenset({SOMEONE}), passes=ASSIGNEES),
    ],
)  # fmt: skip
BULK_ACTIONS = BULK.names


def incident_bulk(
    *, actor, action: str, ids: Iterable, comment: str = "", resolution_code: str = "resolved",
    assignee=None, assignment_group=None,
) -> dict:  # fmt: skip
    """Acknowledge, resolve or assign many incidents, each through its own workflow or service
    (a comment is a work note on each; acknowledge and resolve need one). Incidents the actor may
    not act on, or whose state does not allow it, are left unchanged and listed in ``refused``
    with the reason; one the actor may not read is only "not found". Someone who may take the
    action on no incident at all (a customer) is refused (403)."""
    return BULK.run(
        actor=actor, action=action, ids=ids, comment=comment, resolution_code=resolution_code,
        assignee=assignee, assignment_group=assignment_group,
    )  # fmt: skip


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
