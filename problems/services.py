"""Problem writes other than transitions: create (also from an incident), edit, assign, link
and unlink incidents (with exact counters), notes, tasks. Each is atomic, policy-checked and
journaled."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from incidents.enrichment import priority_for
from incidents.models import Incident
from itsm import audit, notes, policy, services
from itsm.bulk_actions import ASSIGNEES, SOMEONE, BulkAction, BulkActions
from itsm.errors import InvalidInput, NotFound
from itsm.workflow import locked_for
from oncall.routing import on_call_assignee
from problems import notices, workflows
from problems.models import Problem, ProblemNote, ProblemTask

LINK_MAX = 100
MANAGE = "problems.manage"
PEOPLE_FIELDS = ("assignee", "assignment_group")
# The links between incidents and problems (Incident.related_problems).
Link = Incident.related_problems.through
IncidentHost = Incident.hosts.through


# --- Who a problem may name -------------------------------------------------------------------


def check_people(
    *,
    after: Mapping[str, Any],
    data: Mapping[str, Any],
    current: Problem | None = None,
    routed: bool = False,
    message: str = "The problem cannot name these people.",
) -> None:
    """Refuse (400, naming each field) the assignee and group ``data`` names when the problem
    would be ``after``: the assignee holds problems.manage, a newly named group is active, and
    an assignee with a group is one of its members (unless on-call routing picked them). A value
    ``current`` already has is not named anew, so a form re-sending it passes."""

    def named(name: str) -> bool:
        return name in data and (current is None or getattr(current, name) != data[name])

    errors = services.assignment_errors(
        after=after,
        named=named,
        permission=MANAGE,
        routed=routed,
        refusal="Only problem managers (agents) can be assigned problems.",
    )
    if errors:
        raise InvalidInput(message, fields=errors)


def _after(problem: Problem, data: Mapping[str, Any]) -> dict[str, Any]:
    return {**{name: getattr(problem, name) for name in PEOPLE_FIELDS}, **data}


# --- Create, edit, assign ---------------------------------------------------------------------


@transaction.atomic
def problem_create(*, actor, data: Mapping[str, Any], incident: Incident | None = None) -> Problem:
    """Raise a problem (agents). The priority comes from impact × urgency (as on incidents)
    unless given. From an ``incident`` (which the actor must read): its text, category, impact,
    urgency and hosts fill what ``data`` leaves out, and the incident is linked."""
    data = dict(data)
    system: dict[str, Any] = {"requester": actor}
    if incident is not None:
        if not policy.is_readable(actor, incident):
            raise NotFound()
        prefill = {
            "short_description": incident.short_description,
            "description": incident.description,
            "symptoms": incident.description,
            "category": incident.category,
            "impact": incident.impact,
            "urgency": incident.urgency,
        }
        for name, value in prefill.items():
            if name not in data:
                system[name] = value
        system["organisation"] = incident.organisation
    impact = data.get("impact", system.get("impact", 3))
    urgency = data.get("urgency", system.get("urgency", 3))
    if "priority" not in data:
        system["priority"] = priority_for(impact, urgency)
    for name in list(system):
        if name in data:
            del system[name]
    problem = services.record_create(
        model=Problem, actor=actor, data=data, check=lambda: check_people(after={**system, **data}, data=data),
        **system,
    )  # fmt: skip
    if incident is not None:
        if "hosts" not in data:
            problem.hosts.set(incident.hosts.all())
        problem_link_incidents(problem=problem, actor=actor, incidents=[incident.pk])
        problem.refresh_from_db()
    if problem.assignee_id or problem.assignment_group_id:
        notices.assigned(problem, actor=actor)
    return problem


@transaction.atomic
def problem_update(
    *, problem: Problem, actor, data: Mapping[str, Any], expected_version: int | None = None
) -> Problem:
    """Edit fields the actor may write. A change of impact or urgency re-derives the priority
    from the matrix unless the same edit sets it; the assignee and group obey ``check_people``."""
    data = dict(data)
    if ("impact" in data or "urgency" in data) and "priority" not in data:
        derived = priority_for(data.get("impact", problem.impact), data.get("urgency", problem.urgency))
        if "priority" in policy.writable_fields(actor, problem):
            data["priority"] = derived
    before = (problem.assignee_id, problem.assignment_group_id)
    problem = services.record_update(
        obj=problem, actor=actor, data=data, expected_version=expected_version,
        check=lambda current: check_people(after=_after(current, data), data=data, current=current),
    )  # fmt: skip
    if (problem.assignee_id, problem.assignment_group_id) != before and (
        problem.assignee_id or problem.assignment_group_id
    ):
        notices.assigned(problem, actor=actor)
    return problem


@transaction.atomic
def problem_assign(*, problem: Problem, actor, assignee=None, assignment_group=None) -> Problem:
    """Assign to a user, a group, or both; both None unassigns (problems.manage, while the
    problem is open). The user holds problems.manage and, with a group, is one of its members.
    A group alone that is linked to an on-call schedule goes to whoever is on call now."""
    problem = locked_for(problem, actor, "assign")
    routed = False
    if assignee is None and assignment_group is not None and assignment_group.is_active:
        assignee = on_call_assignee(assignment_group)
        routed = assignee is not None and policy.has_permission(assignee, MANAGE)
        assignee = assignee if routed else None
    chosen = {"assignee": assignee, "assignment_group": assignment_group}
    check_people(
        after=_after(problem, chosen),
        data=chosen,
        routed=routed,
        message="The problem cannot be assigned as asked.",
    )
    if services.apply_changes(problem, actor, chosen) and (
        assignee is not None or assignment_group is not None
    ):
        notices.assigned(problem, actor=actor)
    return problem


# --- Linked incidents -------------------------------------------------------------------------


def _ids(incidents: Any) -> list[int]:
    """The incident ids asked for, in order, once each; a 400 naming ``incidents`` otherwise."""
    if isinstance(incidents, str | bytes | Mapping) or not isinstance(incidents, Iterable):
        raise InvalidInput(
            "Give a list of incident ids.", fields={"incidents": ["Give a list of incident ids."]}
        )
    ids = list(dict.fromkeys(incidents))
    if not ids:
        raise InvalidInput(
            "Give at least one incident id.", fields={"incidents": ["Give at least one incident id."]}
        )
    if len(ids) > LINK_MAX:
        raise InvalidInput(
            f"At most {LINK_MAX} incidents per request.",
            fields={"incidents": [f"At most {LINK_MAX} incidents per request (got {len(ids)})."]},
        )
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids):
        raise InvalidInput(
            "Incident ids are positive whole numbers.",
            fields={"incidents": ["Ids are positive whole numbers."]},
        )
    return ids


def problem_recount(problem: Problem, actor=None) -> Problem:
    """Set ``incident_count`` and ``affected_host_count`` from the links, counted in the
    database (one aggregate query each) on the caller's locked row; journaled when they move."""
    counts = {
        "incident_count": Link.objects.filter(problem_id=problem.pk).count(),
        "affected_host_count": IncidentHost.objects.filter(
            incident__in=Link.objects.filter(problem_id=problem.pk).values("incident_id")
        )
        .values("host_id")
        .distinct()
        .count(),
    }
    services.apply_changes(problem, actor, counts)
    return problem


def _numbers(ids: Iterable[int]) -> str:
    return ", ".join(
        Incident.objects.filter(pk__in=list(ids)).order_by("number").values_list("number", flat=True)
    )


@transaction.atomic
def problem_link_incidents(*, problem: Problem, actor, incidents: Iterable[int]) -> dict:
    """Link up to 100 incidents (problems.manage). Answers which were linked, which already
    were, and which ids are unknown or unreadable to the actor (nothing is silently dropped).
    The counters are recounted in the database in the same locked transaction."""
    ids = _ids(incidents)
    problem = locked_for(problem, actor, "link_incidents")
    readable = set(policy.readable(actor, Incident).filter(pk__in=ids).values_list("pk", flat=True))
    existing = set(
        Link.objects.filter(problem_id=problem.pk, incident_id__in=readable).values_list(
            "incident_id", flat=True
        )
    )
    linked = [i for i in ids if i in readable and i not in existing]
    Link.objects.bulk_create(
        [Link(incident_id=i, problem_id=problem.pk) for i in linked], ignore_conflicts=True
    )
    if linked:
        audit.change_entry(problem, actor, "incidents", "", _numbers(linked), note="Incidents linked.").save()
    problem_recount(problem, actor)
    return {
        "linked": linked,
        "already_linked": [i for i in ids if i in existing],
        "unknown": [i for i in ids if i not in readable],
        "incident_count": problem.incident_count,
        "affected_host_count": problem.affected_host_count,
    }


@transaction.atomic
def problem_unlink_incidents(*, problem: Problem, actor, incidents: Iterable[int]) -> dict:
    """Unlink up to 100 incidents (problems.manage); answers as ``problem_link_incidents``
    (``not_linked`` for readable incidents that were not linked)."""
    ids = _ids(incidents)
    problem = locked_for(problem, actor, "link_incidents")
    readable = set(policy.readable(actor, Incident).filter(pk__in=ids).values_list("pk", flat=True))
    existing = set(
        Link.objects.filter(problem_id=problem.pk, incident_id__in=readable).values_list(
            "incident_id", flat=True
        )
    )
    unlinked = [i for i in ids if i in existing]
    if unlinked:
        old = _numbers(unlinked)
        Link.objects.filter(problem_id=problem.pk, incident_id__in=unlinked).delete()
        audit.change_entry(problem, actor, "incidents", old, "", note="Incidents unlinked.").save()
    problem_recount(problem, actor)
    return {
        "unlinked": unlinked,
        "not_linked": [i for i in ids if i in readable and i not in existing],
        "unknown": [i for i in ids if i not in readable],
        "incident_count": problem.incident_count,
        "affected_host_count": problem.affected_host_count,
    }


# --- Notes ------------------------------------------------------------------------------------


@transaction.atomic
def problem_note_add(*, problem: Problem, actor, body: str) -> ProblemNote:
    """Add a work note (problems.manage), of at most ``NOTE_MAX`` characters."""
    text = notes.note_body(body)
    problem = locked_for(problem, actor, "note")
    return ProblemNote.objects.create(problem=problem, author=actor, body=text)


@transaction.atomic
def problem_note_edit(*, note: ProblemNote, actor, body: str) -> ProblemNote:
    """Change a note's text (its author or an ITSM administrator); the journal keeps the old text."""
    return notes.note_edit(note, actor, body, parent="problem")


@transaction.atomic
def problem_note_delete(*, note: ProblemNote, actor) -> None:
    """Remove a note (its author or an ITSM administrator); the journal keeps its text."""
    notes.note_delete(note, actor, parent="problem")


# --- Tasks ------------------------------------------------------------------------------------


def problem_task_create(*, problem: Problem, actor, data: Mapping[str, Any]) -> ProblemTask:
    """Add a task under a problem (agents)."""
    return services.task_create(parent=problem, model=ProblemTask, actor=actor, data=data)


# --- Bulk -------------------------------------------------------------------------------------

# The problem queue's bulk actions (``itsm.bulk_actions``): assign, and the two transitions the
# desk takes on many problems at once (as the admin does); a comment is a work note on each.
BULK = BulkActions(
    model=Problem,
    record="problem",
    noun="problem",
    note=problem_note_add,
    actions=[
        BulkAction("assign", "Assign", problem_assign, needs=frozenset({SOMEONE}), passes=ASSIGNEES),
        BulkAction("start", "Start investigating", workflows.problem_start),
        BulkAction("close", "Close", workflows.problem_close),
    ],
)
