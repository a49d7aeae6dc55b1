"""Properties of the blocks, over generated schedules, overrides and ranges (hypothesis):

* the blocks tile the range: no gap, no overlap, nothing empty, the durations add up;
* who is on call at t is the block that holds t (same person, source and override, same bounds
  once clipped to the range);
* overrides win over the rotation, the most recently created among overlapping ones (checked
  against a brute-force reading at sampled instants);
* daylight saving neither loses nor doubles an hour: wall-clock shifts last exactly one local
  day (or week) on the wall clock, and in UTC that plus the change of offset.
"""

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from oncall.rotation import (
    CUSTOM,
    DAILY,
    NONE,
    OVERRIDE,
    ROTATION,
    WEEKLY,
    OverrideSpan,
    RotationSpec,
    block_at,
    blocks,
    shift_at,
    shifts,
)

ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/St_Johns",  # offset -03:30 / -02:30
    "America/Santiago",  # changes at midnight
    "Australia/Lord_Howe",  # a 30-minute change
    "Asia/Kolkata",
    "Pacific/Apia",  # skipped a whole day in 2011
]
EARLY = datetime(2010, 1, 1)
LATE = datetime(2028, 1, 1)

instants = st.datetimes(min_value=EARLY, max_value=LATE, timezones=st.just(UTC))


@st.composite
def specs(draw, kinds=(DAILY, WEEKLY, CUSTOM)):
    kind = draw(st.sampled_from(kinds))
    return RotationSpec(
        kind=kind,
        tz=ZoneInfo(draw(st.sampled_from(ZONES))),
        start=draw(instants),
        participants=tuple(draw(st.lists(st.integers(0, 4), max_size=5))),
        handoff_time=draw(st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))),
        handoff_day=draw(st.integers(0, 6)) if kind == WEEKLY else None,
        hours=draw(st.integers(1, 400)) if kind == CUSTOM else None,
    )


@st.composite
def ranges(draw, spec):
    """A range near the schedule's start (before it, across it, or after it)."""
    start = spec.start + draw(st.timedeltas(min_value=timedelta(days=-20), max_value=timedelta(days=400)))
    length = draw(st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=45)))
    return start, start + length


@st.composite
def overrides(draw, start, end):
    count = draw(st.integers(0, 8))
    result = []
    for pk in range(count):
        begins = start + draw(st.timedeltas(min_value=timedelta(days=-3), max_value=end - start))
        length = draw(st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=10)))
        created = draw(st.integers(0, 5))  # equal creation times are broken by id
        result.append(OverrideSpan(pk, 100 + pk, begins, begins + length, (created, pk)))
    return result


@st.composite
def scenarios(draw, kinds=(DAILY, WEEKLY, CUSTOM)):
    spec = draw(specs(kinds))
    start, end = draw(ranges(spec))
    return spec, start, end, draw(overrides(start, end))


def instants_in(draw, start, end, count=6):
    span = end - start
    return [
        start + draw(st.timedeltas(min_value=timedelta(0), max_value=span - timedelta(microseconds=1)))
        for _ in range(count)
    ] + [start, end - timedelta(microseconds=1)]


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_blocks_tile_the_range_without_gaps_or_overlaps(scenario):
    spec, start, end, spans = scenario
    got = blocks(spec, spans, start, end)
    assert got[0].start == start
    assert got[-1].end == end
    for before, after in itertools.pairwise(got):
        assert before.end == after.start
    assert all(b.end > b.start for b in got)
    assert sum((b.end - b.start for b in got), timedelta()) == end - start
    for before, after in itertools.pairwise(got):
        assert not (before.source == OVERRIDE and before.override == after.override), "unmerged"


@settings(max_examples=150, deadline=None)
@given(st.data(), scenarios())
def test_who_is_on_call_at_t_is_the_block_that_holds_t(data, scenario):
    spec, start, end, spans = scenario
    got = blocks(spec, spans, start, end)
    for at in instants_in(data.draw, start, end):
        holding = [b for b in got if b.start <= at < b.end]
        assert len(holding) == 1
        block = holding[0]
        single = block_at(spec, spans, at)
        assert (single.user, single.source, single.override) == (block.user, block.source, block.override)
        assert max(single.start or start, start) == block.start
        assert min(single.end or end, end) == block.end


@settings(max_examples=150, deadline=None)
@given(st.data(), scenarios())
def test_the_newest_override_covering_t_wins_else_the_rotation(data, scenario):
    spec, start, end, spans = scenario
    got = blocks(spec, spans, start, end)
    for at in instants_in(data.draw, start, end):
        block = next(b for b in got if b.start <= at < b.end)
        covering = [o for o in spans if o.start <= at < o.end]
        if covering:
            winner = max(covering, key=lambda o: o.rank)
            assert (block.source, block.user, block.override) == (OVERRIDE, winner.user, winner.id)
        else:
            shift = shift_at(spec, at)
            assert block.user == shift.user
            assert block.source == (ROTATION if shift.index is not None else NONE)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_shift_j_belongs_to_participant_j_mod_n(scenario):
    spec, start, end, _ = scenario
    for shift in shifts(spec, start, end):
        if shift.index is not None:
            assert shift.user == spec.participants[shift.index % len(spec.participants)]


def _regular(tz, instant) -> bool:
    """Whether the wall time of ``instant`` exists once (not skipped, not doubled)."""
    wall = instant.astimezone(tz).replace(tzinfo=None)
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return first == second == instant


def _handoff_exists(spec, day) -> bool:
    """Whether the handoff wall time exists exactly once on ``day`` in the schedule's zone."""
    wall = datetime.combine(day, spec.handoff_time)
    # PEP 495: a skipped or doubled wall time maps to two instants, one per fold.
    return wall.replace(tzinfo=spec.tz, fold=0).astimezone(UTC) == wall.replace(
        tzinfo=spec.tz, fold=1
    ).astimezone(UTC)


@settings(max_examples=150, deadline=None)
@given(scenarios(kinds=(DAILY, WEEKLY)))
def test_daylight_saving_neither_loses_nor_doubles_an_hour(scenario):
    spec, start, end, _ = scenario
    assume(spec.participants)
    step = timedelta(days=7 if spec.kind == WEEKLY else 1)
    for shift in shifts(spec, start, end):
        if not shift.index or not (_regular(spec.tz, shift.start) and _regular(spec.tz, shift.end)):
            continue  # the first (short) shift, or a handoff at a skipped or doubled wall time
        local_start, local_end = shift.start.astimezone(spec.tz), shift.end.astimezone(spec.tz)
        if not (_handoff_exists(spec, local_start.date()) and _handoff_exists(spec, local_end.date())):
            # The handoff time did not exist on one of the days (e.g. midnight in Santiago when
            # the clocks go forward): that handoff happened when the clocks resumed.
            continue
        # On the wall clock a shift is exactly one day (week)…
        assert local_end.replace(tzinfo=None) - local_start.replace(tzinfo=None) == step
        assert local_start.time() == spec.handoff_time
        # …and in real time that, less the hour (or half hour) the clocks went forward.
        assert shift.end - shift.start == step - (local_end.utcoffset() - local_start.utcoffset())


@settings(max_examples=100, deadline=None)
@given(scenarios(kinds=(CUSTOM,)))
def test_custom_shifts_last_exactly_their_hours_whatever_the_clocks_do(scenario):
    spec, start, end, _ = scenario
    for shift in shifts(spec, start, end):
        if shift.index is not None:
            assert shift.end - shift.start == timedelta(hours=spec.hours)
