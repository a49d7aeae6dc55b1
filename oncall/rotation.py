"""Who is on call, as pure functions over plain values (no database): the rotation, the
overrides laid over it, and the blocks that result.

Rotation semantics
==================

A schedule has a time zone, a ``start`` instant, ordered participants (index 0 is on call
first) and one of three rotations. Shift 0 runs from ``start`` to the first handoff after
``start`` (a short first shift when ``start`` is not on a handoff); shift ``j`` belongs to
participant ``j mod n``.

* ``daily`` — a handoff every day at ``handoff_time`` on the wall clock of the schedule's time
  zone.
* ``weekly`` — a handoff every week on ``handoff_day`` (0 = Monday … 6 = Sunday) at
  ``handoff_time``, wall clock of the time zone.
* ``custom`` — a handoff every ``custom_rotation_hours`` of real elapsed time from ``start``
  (so a 12-hour shift that starts at 08:00 local starts at 09:00 local after the clocks go
  forward: elapsed time, not wall-clock time).

Wall-clock handoffs follow daylight saving time: the shift over the night the clocks go forward
is an hour shorter (a "day" of 23 hours in Europe/London on the last Sunday of March), the one
over the night they go back an hour longer (25 hours). Nothing is lost or counted twice: the
blocks still tile any range exactly in UTC. A handoff time the clocks skip (01:30 in London on
the last Sunday of March) happens at that wall time read with the offset in force before the
change (PEP 495 ``fold=0``: 01:30 GMT, i.e. 02:30 BST); a handoff time that happens twice
(01:30 on the last Sunday of October) happens the first time. Should a day vanish altogether
(Pacific/Apia skipped 30 December 2011), its handoff coincides with the next one and that
empty shift is skipped: its participant misses a turn.

Before ``start``, and at any time for a schedule without participants, nobody is on call from
the rotation: the source of such a block is ``none`` and its user is ``None``. The rotation is
computed from the participants as they are now; changing them changes past blocks too.

Overrides
=========

An override puts a user on call from its start to its end. Overrides always win over the
rotation; where overrides overlap, the most recently created wins (``rank``: creation time,
then id).

Blocks
======

``blocks(spec, overrides, start, end)`` answers a list of blocks that covers ``[start, end)``
without gaps or overlaps, in order. A block is a maximal stretch of one rotation shift, or of
one override, uninterrupted by anything that outranks it: two consecutive shifts of the same
person are two blocks; an override spanning three shifts is one block. The range's ends clip
the first and last blocks. It is a sweep over the sorted boundaries of the shifts and the
overrides with a heap of the overrides in force: O((shifts + overrides) log(shifts + overrides)).

``block_at(spec, overrides, at)`` answers the (unclipped) block that holds ``at``; it is the
block ``blocks`` gives for any range holding ``at``, except that ``blocks`` clips it to the
range. A ``none`` block may be unbounded: its ``start`` or ``end`` is then ``None``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DAILY = "daily"
WEEKLY = "weekly"
CUSTOM = "custom"

ROTATION = "rotation"
OVERRIDE = "override"
NONE = "none"

ONE_DAY = timedelta(days=1)
ONE_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class RotationSpec:
    """What the rotation depends on. ``participants`` may hold any values (users, ids)."""

    kind: str
    tz: ZoneInfo
    start: datetime  # aware
    participants: tuple[Any, ...]
    handoff_time: time = time(9, 0)
    handoff_day: int | None = None  # weekly: 0 = Monday … 6 = Sunday
    hours: int | None = None  # custom: hours per shift


@dataclass(frozen=True)
class OverrideSpan:
    """An override as the algorithm needs it; ``rank`` orders precedence (higher wins)."""

    id: Hashable
    user: Any
    start: datetime
    end: datetime
    rank: tuple = ()


@dataclass(frozen=True)
class Shift:
    """One rotation shift. ``start``/``end`` are ``None`` where a ``none`` stretch is unbounded."""

    start: datetime | None
    end: datetime | None
    user: Any
    index: int | None  # None: nobody on call from the rotation


@dataclass(frozen=True)
class Block:
    start: datetime | None
    end: datetime | None
    user: Any
    source: str  # ROTATION, OVERRIDE or NONE
    override: Hashable | None = None  # the override's id, for override blocks


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("Instants must be timezone-aware.")
    return value.astimezone(UTC)


# --- Wall-clock handoffs (daily, weekly) ----------------------------------------------------


def _step(spec: RotationSpec) -> timedelta:
    return ONE_WEEK if spec.kind == WEEKLY else ONE_DAY


def _handoff(spec: RotationSpec, day: date) -> datetime:
    """The UTC instant of the handoff on local date ``day`` (fold=0 for skipped or doubled
    wall times, see the module docstring)."""
    wall = spec.handoff_time.replace(tzinfo=None, fold=0)
    return datetime.combine(day, wall, tzinfo=spec.tz).astimezone(UTC)


def _align_back(spec: RotationSpec, day: date) -> date:
    """The latest handoff date on or before ``day``."""
    if spec.kind == WEEKLY:
        return day - timedelta(days=(day.weekday() - spec.handoff_day) % 7)
    return day


def _first_handoff_date(spec: RotationSpec) -> date:
    """The first handoff date whose handoff is strictly after ``spec.start``."""
    step = _step(spec)
    day = _align_back(spec, spec.start.astimezone(spec.tz).date() - 2 * ONE_DAY)
    while _handoff(spec, day) <= spec.start:
        day += step
    return day


def _last_handoff_date(spec: RotationSpec, at: datetime) -> date:
    """The latest handoff date whose handoff is at or before ``at``."""
    step = _step(spec)
    day = _align_back(spec, at.astimezone(spec.tz).date() + ONE_DAY)
    while _handoff(spec, day) > at:
        day -= step
    return day


def _wall_clock_shift(spec: RotationSpec, at: datetime) -> Shift:
    step = _step(spec)
    first = _first_handoff_date(spec)
    last = _last_handoff_date(spec, at)
    if last < first:
        return _shift(spec, 0, spec.start, _handoff(spec, first))
    index = (last - first) // step + 1
    return _shift(spec, index, _handoff(spec, last), _handoff(spec, last + step))


def _wall_clock_shifts(spec: RotationSpec, start: datetime, end: datetime) -> Iterator[Shift]:
    step = _step(spec)
    first = _first_handoff_date(spec)
    shift = _wall_clock_shift(spec, start)
    yield shift
    index, boundary = shift.index, shift.end
    while boundary < end:
        index += 1  # shift ``index`` ends at the handoff of date first + index × step
        following = _handoff(spec, first + index * step)
        if following <= boundary:
            continue  # a vanished day: its empty shift is skipped (module docstring)
        yield _shift(spec, index, boundary, following)
        boundary = following


# --- Elapsed-time handoffs (custom) ---------------------------------------------------------


def _custom_shift(spec: RotationSpec, at: datetime) -> Shift:
    length = timedelta(hours=spec.hours)
    index = (at - spec.start) // length
    begins = spec.start + index * length
    return _shift(spec, index, begins, begins + length)


def _custom_shifts(spec: RotationSpec, start: datetime, end: datetime) -> Iterator[Shift]:
    length = timedelta(hours=spec.hours)
    shift = _custom_shift(spec, start)
    yield shift
    index, boundary = shift.index, shift.end
    while boundary < end:
        index += 1
        yield _shift(spec, index, boundary, boundary + length)
        boundary += length


# --- The rotation ---------------------------------------------------------------------------


def _shift(spec: RotationSpec, index: int, start: datetime, end: datetime) -> Shift:
    return Shift(start, end, spec.participants[index % len(spec.participants)], index)


def _nobody(spec: RotationSpec) -> Shift:
    """Before ``start`` (or always, without participants) nobody is on call."""
    if not spec.participants:
        return Shift(None, None, None, None)
    return Shift(None, _utc(spec.start), None, None)


def _normalised(spec: RotationSpec) -> RotationSpec:
    return replace(spec, start=_utc(spec.start))


def shift_at(spec: RotationSpec, at: datetime) -> Shift:
    """The rotation shift that holds ``at``."""
    at = _utc(at)
    spec = _normalised(spec)
    if not spec.participants or at < spec.start:
        return _nobody(spec)
    if spec.kind == CUSTOM:
        return _custom_shift(spec, at)
    return _wall_clock_shift(spec, at)


def shifts(spec: RotationSpec, start: datetime, end: datetime) -> Iterator[Shift]:
    """The rotation shifts that cover ``[start, end)``, in order, unclipped."""
    start, end = _utc(start), _utc(end)
    spec = _normalised(spec)
    if start >= end:
        return
    if not spec.participants or start < spec.start:
        yield _nobody(spec)
        if not spec.participants or end <= spec.start:
            return
        start = spec.start
    if spec.kind == CUSTOM:
        yield from _custom_shifts(spec, start, end)
    else:
        yield from _wall_clock_shifts(spec, start, end)


# --- Overrides over the rotation ------------------------------------------------------------


def _rotation_block(shift: Shift, start, end) -> tuple[tuple, Block]:
    if shift.index is None:
        return (NONE,), Block(start, end, None, NONE)
    return (ROTATION, shift.index), Block(start, end, shift.user, ROTATION)


def blocks(
    spec: RotationSpec, overrides: Sequence[OverrideSpan], start: datetime, end: datetime
) -> list[Block]:
    """The blocks that tile ``[start, end)``: overrides over the rotation (module docstring)."""
    start, end = _utc(start), _utc(end)
    if start >= end:
        return []
    rotation = list(shifts(spec, start, end))
    # Precedence as an integer (higher wins): the heap of -precedence pops the newest override.
    ranked = sorted(
        (o for o in overrides if o.end > start and o.start < end and o.end > o.start),
        key=lambda o: o.rank,
    )
    spans = sorted(enumerate(ranked), key=lambda pair: pair[1].start)
    cuts = {start, end}
    for shift in rotation:
        for edge in (shift.start, shift.end):
            if edge is not None and start < edge < end:
                cuts.add(edge)
    for span in ranked:
        cuts.add(max(span.start, start))
        cuts.add(min(span.end, end))
    edges = sorted(cuts)

    result: list[Block] = []
    last_key = None
    active: list[tuple[int, OverrideSpan]] = []  # heap of (-precedence, span) in force
    next_span = 0
    shift_index = 0
    for a, b in itertools.pairwise(edges):
        while next_span < len(spans) and spans[next_span][1].start <= a:
            precedence, span = spans[next_span]
            heapq.heappush(active, (-precedence, span))
            next_span += 1
        while active and active[0][1].end <= a:
            heapq.heappop(active)
        if active:
            span = active[0][1]
            key, block = (OVERRIDE, span.id), Block(a, b, span.user, OVERRIDE, span.id)
        else:
            while rotation[shift_index].end is not None and rotation[shift_index].end <= a:
                shift_index += 1
            key, block = _rotation_block(rotation[shift_index], a, b)
        if key == last_key:
            previous = result[-1]
            result[-1] = Block(previous.start, b, previous.user, previous.source, previous.override)
        else:
            result.append(block)
            last_key = key
    return result


def block_at(spec: RotationSpec, overrides: Sequence[OverrideSpan], at: datetime) -> Block:
    """The block that holds ``at``.

    ``overrides`` must hold every override that covers ``at`` and, among the overrides that
    outrank the winner (all of them when the rotation wins), the one ending last at or before
    ``at`` and the one starting first after it: any superset of those gives the same answer.
    """
    at = _utc(at)
    covering = [o for o in overrides if o.start <= at < o.end]
    if covering:
        winner = max(covering, key=lambda o: o.rank)
        rivals = [o for o in overrides if o.rank > winner.rank]
        begins = max([winner.start, *(o.end for o in rivals if o.end <= at)])
        ends = min([winner.end, *(o.start for o in rivals if o.start > at)])
        return Block(begins, ends, winner.user, OVERRIDE, winner.id)
    shift = shift_at(spec, at)
    earlier = [o.end for o in overrides if o.end <= at]
    later = [o.start for o in overrides if o.start > at]
    begins = max([e for e in (shift.start, *earlier) if e is not None], default=None)
    ends = min([e for e in (shift.end, *later) if e is not None], default=None)
    _, block = _rotation_block(shift, begins, ends)
    return block
