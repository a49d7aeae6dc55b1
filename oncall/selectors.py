"""On-call reads: who is on call at an instant, the blocks over a range, several schedules at
once for the desk, and one person's own shifts. Each loads what it needs in a fixed number of
queries and computes in memory with ``oncall.rotation``."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from itsm import policy
from itsm.errors import InvalidInput
from oncall import rotation
from oncall.models import GroupSchedule, Override, Schedule, ScheduleParticipant, instant_error
from oncall.rotation import Block

MAX_RANGE = timedelta(days=90)


def with_rotation(queryset: QuerySet) -> QuerySet:
    """Schedules with what the rotation and the pages need, in a fixed number of queries."""
    return queryset.select_related("feed").prefetch_related(
        Prefetch("participant_rows", queryset=ScheduleParticipant.objects.select_related("user")),
        Prefetch("group_links", queryset=GroupSchedule.objects.select_related("group")),
    )


def schedules_for(user) -> QuerySet:
    """The schedules the user may read, ready for the rotation."""
    return with_rotation(policy.readable(user, Schedule))


def participants(schedule: Schedule) -> list:
    """The participants in rotation order (from the prefetch when there is one)."""
    if "participant_rows" in getattr(schedule, "_prefetched_objects_cache", {}):
        return [row.user for row in schedule.participant_rows.all()]
    return [row.user for row in schedule.participant_rows.select_related("user")]


def spec(schedule: Schedule) -> rotation.RotationSpec:
    return schedule.rotation_spec(participants(schedule))


def check_instant(value: datetime, field: str) -> None:
    problem = instant_error(value)
    if problem:
        raise InvalidInput(f"{field}: {problem}", fields={field: [problem]})


def check_range(start: datetime, end: datetime, *, limit: timedelta | None = MAX_RANGE) -> None:
    """A range ends after it starts and spans at most ``limit`` (90 days)."""
    check_instant(start, "start")
    check_instant(end, "end")
    if end <= start:
        raise InvalidInput(
            "The range must end after it starts.", fields={"end": ["Give an end after the start."]}
        )
    if limit is not None and end - start > limit:
        message = f"The range may cover at most {limit.days} days."
        raise InvalidInput(message, fields={"end": [message]})


def overlapping(queryset: QuerySet, start: datetime, end: datetime) -> QuerySet:
    return queryset.filter(end__gt=start, start__lt=end)


def override_spans(schedule: Schedule, start: datetime, end: datetime) -> list[rotation.OverrideSpan]:
    return [o.span() for o in overlapping(schedule.overrides.select_related("user"), start, end)]


def schedule_blocks(*, schedule: Schedule, start: datetime, end: datetime) -> list[Block]:
    """The blocks that cover ``[start, end)`` (at most 90 days) without gaps or overlaps."""
    check_range(start, end)
    return rotation.blocks(spec(schedule), override_spans(schedule, start, end), start, end)


def who_is_on_call(*, schedule: Schedule, at: datetime | None = None) -> Block:
    """The block that holds ``at`` (default now): who, from the rotation or an override, from
    when until when. Three queries besides the participants, however many overrides there are."""
    at = at or timezone.now()
    check_instant(at, "at")
    loaded = schedule.overrides.select_related("user")
    covering = [o.span() for o in loaded.filter(start__lte=at, end__gt=at)]
    rivals = loaded
    if covering:
        winner = max(covering, key=lambda o: o.rank)
        created, pk = winner.rank
        rivals = loaded.filter(Q(created_at__gt=created) | Q(created_at=created, pk__gt=pk))
    neighbours = [
        rivals.filter(end__lte=at).order_by("-end", "-pk").first(),
        rivals.filter(start__gt=at).order_by("start", "pk").first(),
    ]
    spans = covering + [o.span() for o in neighbours if o is not None]
    return rotation.block_at(spec(schedule), spans, at)


def blocks_by_schedule(
    schedules: list[Schedule], *, start: datetime, end: datetime
) -> dict[int, list[Block]]:
    """The blocks of several schedules over one range (not limited: the desk's own windows),
    with one query for all their overrides. The schedules come from ``with_rotation``."""
    check_range(start, end, limit=None)
    spans = defaultdict(list)
    overrides = overlapping(Override.objects.filter(schedule__in=schedules), start, end).select_related(
        "user"
    )
    for override in overrides:
        spans[override.schedule_id].append(override.span())
    return {s.pk: rotation.blocks(spec(s), spans[s.pk], start, end) for s in schedules}


def block_holding(blocks: list[Block], at: datetime) -> Block | None:
    return next((b for b in blocks if b.start <= at < b.end), None)


def upcoming_overrides(schedule: Schedule, *, since: datetime) -> QuerySet:
    """Overrides not yet over, soonest first."""
    return (
        schedule.overrides.filter(end__gt=since).select_related("user", "created_by").order_by("start", "pk")
    )


def person_shifts(*, user, start: datetime, end: datetime) -> list[tuple[Schedule, Block]]:
    """The person's own blocks over ``[start, end)`` in every schedule, in time order."""
    check_range(start, end, limit=None)
    mine = Schedule.objects.filter(
        Q(participant_rows__user=user)
        | Q(overrides__user=user, overrides__end__gt=start, overrides__start__lt=end)
    ).distinct()
    schedules = list(with_rotation(Schedule.objects.filter(pk__in=mine)))
    by_schedule = blocks_by_schedule(schedules, start=start, end=end)
    shifts = [
        (schedule, block)
        for schedule in schedules
        for block in by_schedule[schedule.pk]
        if block.user is not None and block.user.pk == user.pk
    ]
    shifts.sort(key=lambda pair: (pair[1].start, pair[0].name))
    return shifts
