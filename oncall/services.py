"""On-call writes: schedules (with their ordered participants and routed groups), overrides
and feed links. Each is atomic, policy-checked and journaled.

Managing schedules takes ``incidents.manage`` (declared in ``itsm.policy.rules``); the checks
happen here, inside the transaction, whichever door called.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from itsm import audit, policy, services
from itsm.errors import Conflict, InvalidInput, NotAllowed, NotFound
from itsm.models import AssignmentGroup
from oncall.models import (
    MAX_PARTICIPANTS,
    FeedToken,
    GroupSchedule,
    Override,
    Rotation,
    Schedule,
    ScheduleParticipant,
    new_token,
)

RELATIONS = ("participants", "assignment_groups")


# --- Validation shared by every door --------------------------------------------------------


def participant_errors(users: Sequence) -> list[str]:
    """What is wrong with an ordered list of participants (empty when nothing is)."""
    errors = []
    if len(users) > MAX_PARTICIPANTS:
        errors.append(f"A schedule has at most {MAX_PARTICIPANTS} participants.")
    seen: set[int] = set()
    for user in users:
        if user.pk in seen:
            errors.append(f"{user} is listed twice; each person has one place in the rotation.")
        seen.add(user.pk)
        if not (user.is_active and policy.has_permission(user, "incidents.manage")):
            errors.append(f"{user} is not an active service-desk agent and cannot be on call.")
    return errors


def group_errors(groups: Iterable[AssignmentGroup], schedule: Schedule | None) -> list[str]:
    """A group routes to one schedule at most."""
    groups = list(groups)
    taken = GroupSchedule.objects.filter(group__in=groups).select_related("group", "schedule")
    if schedule is not None:
        taken = taken.exclude(schedule=schedule)
    return [f"{link.group} is already routed to the schedule {link.schedule}." for link in taken]


def _model_errors(schedule: Schedule) -> dict[str, list[str]]:
    try:
        schedule.full_clean(exclude=["participants", "assignment_groups"])
    except ValidationError as exc:
        return exc.message_dict
    return {}


def _relation_errors(participants, groups, schedule) -> dict[str, list[str]]:
    errors = {}
    if participants is not None and (problems := participant_errors(participants)):
        errors["participants"] = problems
    if groups is not None and (problems := group_errors(groups, schedule)):
        errors["assignment_groups"] = problems
    return errors


def _names(users: Iterable) -> str:
    return ", ".join(str(user) for user in users)


def _write_participants(schedule: Schedule, users: Sequence) -> None:
    schedule.participant_rows.all().delete()
    ScheduleParticipant.objects.bulk_create(
        [ScheduleParticipant(schedule=schedule, user=user, position=i) for i, user in enumerate(users)]
    )


def _write_groups(schedule: Schedule, groups: Iterable[AssignmentGroup]) -> None:
    wanted = {group.pk for group in groups}
    schedule.group_links.exclude(group_id__in=wanted).delete()
    present = set(schedule.group_links.values_list("group_id", flat=True))
    try:
        with transaction.atomic():
            GroupSchedule.objects.bulk_create(
                [GroupSchedule(schedule=schedule, group_id=pk) for pk in sorted(wanted - present)]
            )
    except IntegrityError:
        raise Conflict(
            "Another schedule took one of these groups meanwhile. Reload and try again.",
            fields={"assignment_groups": ["A group routes to one schedule at most."]},
        ) from None


# --- Schedules ------------------------------------------------------------------------------


@transaction.atomic
def schedule_create(*, actor, data: Mapping[str, Any]) -> Schedule:
    """Create a schedule with its participants in order (index 0 is on call first) and the
    assignment groups routed to it, and give it a feed link."""
    if not policy.can(actor, "create", Schedule):
        raise NotAllowed("Managing on-call schedules takes the incidents.manage permission.")
    services.check_fields(actor, Schedule, data)
    data = dict(data)
    participants = list(data.pop("participants", []))
    groups = list(data.pop("assignment_groups", []))
    errors = {**_model_errors(Schedule(**data)), **_relation_errors(participants, groups, None)}
    if errors:
        raise InvalidInput("The schedule is not valid.", fields=errors)
    schedule = services.record_create(model=Schedule, actor=actor, data=data)
    _write_participants(schedule, participants)
    _write_groups(schedule, groups)
    FeedToken.objects.create(schedule=schedule)
    changes = [("participants", "", _names(participants))] if participants else []
    if groups:
        changes.append(("assignment_groups", "", _names(groups)))
    audit.log_changes(schedule, actor, changes)
    return schedule


def _drop_fields_the_rotation_does_not_use(schedule: Schedule, data: dict) -> None:
    """Switching the rotation clears the fields the new one does not use, unless given."""
    if "rotation" not in data:
        return
    if data["rotation"] != Rotation.WEEKLY and "handoff_day" not in data:
        data["handoff_day"] = None
    if data["rotation"] != Rotation.CUSTOM and "custom_rotation_hours" not in data:
        data["custom_rotation_hours"] = None


@transaction.atomic
def schedule_update(
    *, schedule: Schedule, actor, data: Mapping[str, Any], expected_version: int | None = None
) -> Schedule:
    """Change a schedule; ``participants`` replaces the rotation order, ``assignment_groups``
    the routed groups. With ``expected_version`` a concurrent edit is refused (409)."""
    schedule = services.lock(schedule)
    if not policy.is_readable(actor, schedule):
        raise NotFound()
    if not policy.can(actor, "update", schedule):
        raise NotAllowed("Managing on-call schedules takes the incidents.manage permission.")
    services.check_fields(actor, schedule, data)
    if expected_version is not None and schedule.version != expected_version:
        raise Conflict(
            "Someone else changed this schedule after you opened it. Reload it and apply your change again.",
            fields={"version": [f"The current version is {schedule.version}."]},
        )
    data = dict(data)
    participants = data.pop("participants", None)
    groups = data.pop("assignment_groups", None)
    _drop_fields_the_rotation_does_not_use(schedule, data)
    changes = []
    for name, value in data.items():
        old = getattr(schedule, name)
        if old != value:
            setattr(schedule, name, value)
            changes.append((name, old, value))
    participants = list(participants) if participants is not None else None
    groups = list(groups) if groups is not None else None
    errors = {**_model_errors(schedule), **_relation_errors(participants, groups, schedule)}
    if errors:
        raise InvalidInput("The schedule is not valid.", fields=errors)
    if participants is not None:
        old = [row.user for row in schedule.participant_rows.select_related("user")]
        if [u.pk for u in old] != [u.pk for u in participants]:
            _write_participants(schedule, participants)
            changes.append(("participants", _names(old), _names(participants)))
    if groups is not None:
        old = list(AssignmentGroup.objects.filter(oncall_link__schedule=schedule).order_by("name"))
        if {g.pk for g in old} != {g.pk for g in groups}:
            _write_groups(schedule, groups)
            changes.append(("assignment_groups", _names(old), _names(sorted(groups, key=str))))
    if not changes:
        return schedule
    schedule.version = F("version") + 1
    plain = [name for name, _, _ in changes if name not in RELATIONS]
    schedule.save(update_fields=[*plain, "version", "updated_at"])
    audit.log_changes(schedule, actor, changes)
    schedule.refresh_from_db()
    return schedule


def schedule_delete(*, schedule: Schedule, actor) -> None:
    """Delete a schedule with its overrides; refused (409) while groups are routed to it."""
    services.record_delete(obj=schedule, actor=actor)


# --- Overrides ------------------------------------------------------------------------------


def _schedule_for_override(schedule: Schedule, actor) -> Schedule:
    schedule = services.lock(schedule)  # one writer at a time: "most recent" is well defined
    if not policy.is_readable(actor, schedule):
        raise NotFound()
    if not policy.can(actor, "override", schedule):
        raise NotAllowed("Overriding on-call shifts takes the incidents.manage permission.")
    return schedule


@transaction.atomic
def override_create(*, schedule: Schedule, actor, data: Mapping[str, Any]) -> Override:
    """Put ``user`` on call from ``start`` to ``end``; it wins over the rotation and over any
    override created before it."""
    schedule = _schedule_for_override(schedule, actor)
    data = {name: value for name, value in data.items() if name != "schedule"}
    return services.record_create(model=Override, actor=actor, data=data, schedule=schedule, created_by=actor)


@transaction.atomic
def override_delete(*, override: Override, actor) -> None:
    """Remove an override: the rotation (or an older override) applies again."""
    _schedule_for_override(override.schedule, actor)
    services.record_delete(obj=override, actor=actor)


# --- Feed links -----------------------------------------------------------------------------


def person_feed(*, user) -> FeedToken:
    """The person's own feed link, made on first use."""
    token, _ = FeedToken.objects.get_or_create(user=user)
    return token


@transaction.atomic
def feed_reset(*, actor, schedule: Schedule | None = None, person=None) -> FeedToken:
    """A new secret for the feed of a schedule (its managers) or of a person (that person, or
    a manager): the old link stops working at once."""
    if schedule is not None:
        schedule = services.lock(schedule)
        if not policy.is_readable(actor, schedule):
            raise NotFound()
        if not policy.can(actor, "reset_feed", schedule):
            raise NotAllowed("Resetting a schedule's feed link takes the incidents.manage permission.")
        token, _ = FeedToken.objects.select_for_update().get_or_create(schedule=schedule)
        record = schedule
    else:
        if person is None:
            raise InvalidInput("Say whose feed link to reset.", fields={"user": ["This field is required."]})
        if person.pk != actor.pk and not policy.can(actor, "reset_any", FeedToken):
            raise NotAllowed("Only its owner or a manager can reset a person's feed link.")
        token, _ = FeedToken.objects.select_for_update().get_or_create(user=person)
        record = token
    token.token = new_token()
    token.save(update_fields=["token", "reset_at"])
    # The journal says that the link changed, never what it is.
    audit.log_changes(record, actor, [("feed_link", "", "reset")])
    return token
