"""Who is told what about a request (issue 15), through ``notifications.services.send``:

- an approval level starts: its approvers ("awaits your approval");
- approved (by the approvers, or at once for an item without approval): the requester, and the
  fulfilment group's members (ready to fulfil);
- rejected: the requester, with the reason;
- fulfilment started: the members of each task's group (else the fulfilment group's) learn of
  the tasks created;
- completed: the requester.

Never the person who acted. Who acted is named to each recipient as ``policy.person_name`` names
it (customers read agents as the service desk). In-app rows are written in the caller's
transaction, e-mails after it commits. The rejection reason travels as ``rejection`` (``reason``
is read by the notifications service as an escalation detail), the task list as ``task_list``
(an extra named after a field of the request — ``tasks`` — would be dropped).
"""

from __future__ import annotations

from collections.abc import Iterable

from itsm import policy
from notifications import services as notify
from notifications.models import Kind

Message = notify.Message


def _others(people: Iterable, actor) -> list:
    seen, result = set(), []
    for person in people:
        if person is None or person.pk in seen or (actor is not None and person.pk == actor.pk):
            continue
        seen.add(person.pk)
        result.append(person)
    return result


def _message(person, kind, request, actor, **extra) -> Message:
    name = policy.person_name(person, actor, request, nobody="the system")
    return Message(person, kind, request, {"actor": name, "recipient_name": person.get_full_name() or person.get_username(), **extra})


def _requester(request, kind, actor, **extra) -> None:
    if request.requester_id is None or (actor is not None and request.requester_id == actor.pk):
        return  # never the person who acted (and no need to load them)
    notify.send(_message(p, kind, request, actor, **extra) for p in _others([request.requester], actor))


def level_started(request, *, approvers, level, actor) -> None:
    """The level's approvers learn the request awaits their decision."""
    extra = {"level": level.position, "mode": level.get_mode_display().lower(), "item": str(level.item)}
    notify.send(_message(p, Kind.REQUEST_APPROVAL, request, actor, **extra) for p in _others(approvers, actor))


def approved(request, *, actor) -> None:
    """The requester learns it is approved; the fulfilment group that it is ready to fulfil."""
    _requester(request, Kind.REQUEST_APPROVED, actor)
    if request.assignment_group_id is not None:
        members = notify.group_members(request.assignment_group_id)
        notify.send(_message(p, Kind.REQUEST_READY, request, actor) for p in _others(members, actor))


def rejected(request, *, actor, reason: str) -> None:
    _requester(request, Kind.REQUEST_REJECTED, actor, rejection=reason)


def tasks_created(request, *, tasks, actor) -> None:
    """The members of each task's group learn of the request's tasks to do (one message per
    person and request, listing the tasks)."""
    by_person: dict[int, tuple] = {}
    groups: dict[int, list] = {}
    for task in tasks:
        if task.assignment_group_id is None:
            continue
        if task.assignment_group_id not in groups:
            groups[task.assignment_group_id] = notify.group_members(task.assignment_group_id)
        for person in _others(groups[task.assignment_group_id], actor):
            by_person.setdefault(person.pk, (person, []))[1].append(f"{task.number} {task.short_description}")
    notify.send(
        _message(person, Kind.REQUEST_TASKS, request, actor, task_list="\n".join(f"- {t}" for t in listed))
        for person, listed in by_person.values()
    )


def completed(request, *, actor) -> None:
    _requester(request, Kind.REQUEST_COMPLETED, actor)
