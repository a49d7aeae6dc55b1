"""The rotation rules of ``oncall/rotation.py``, case by case (pure functions, no database)."""

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

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

LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def daily(start, people=("a", "b", "c"), at=time(9, 0), tz=LONDON):
    return RotationSpec(kind=DAILY, tz=tz, start=start, participants=tuple(people), handoff_time=at)


def weekly(start, day, people=("a", "b"), at=time(9, 0), tz=LONDON):
    return RotationSpec(
        kind=WEEKLY, tz=tz, start=start, participants=tuple(people), handoff_time=at, handoff_day=day
    )


def custom(start, hours, people=("a", "b", "c")):
    return RotationSpec(kind=CUSTOM, tz=LONDON, start=start, participants=tuple(people), hours=hours)


def span(pk, user, start, end, created=None):
    return OverrideSpan(pk, user, start, end, (created or utc(2026, 1, 1), pk))


def who(spec, at, overrides=()):
    block = block_at(spec, list(overrides), at)
    return block.user, block.source


# --- Rotation kinds -------------------------------------------------------------------------


def test_participant_at_index_0_is_on_call_first():
    spec = daily(london(2026, 6, 1, 9, 0))
    assert who(spec, london(2026, 6, 1, 9, 0)) == ("a", ROTATION)
    assert who(spec, london(2026, 6, 2, 8, 59)) == ("a", ROTATION)
    assert who(spec, london(2026, 6, 2, 9, 0)) == ("b", ROTATION)
    assert who(spec, london(2026, 6, 4, 9, 0)) == ("a", ROTATION)  # back round to the first


def test_daily_hands_off_at_the_handoff_time_every_local_day():
    spec = daily(london(2026, 6, 1, 9, 0), at=time(17, 30))
    shift = shift_at(spec, london(2026, 6, 3, 12, 0))
    assert shift.start == london(2026, 6, 2, 17, 30)
    assert shift.end == london(2026, 6, 3, 17, 30)


def test_first_shift_runs_from_start_to_the_first_handoff_after_it():
    spec = daily(london(2026, 6, 1, 14, 0))  # not on a handoff
    first = shift_at(spec, london(2026, 6, 1, 20, 0))
    assert (first.start, first.end, first.user) == (london(2026, 6, 1, 14, 0), london(2026, 6, 2, 9, 0), "a")
    assert shift_at(spec, london(2026, 6, 2, 9, 0)).user == "b"


def test_weekly_hands_off_on_the_handoff_day_at_the_handoff_time():
    spec = weekly(london(2026, 6, 1, 0, 0), day=2, at=time(10, 0))  # Wednesday 10:00
    shift = shift_at(spec, london(2026, 6, 12, 12, 0))
    assert shift.start == london(2026, 6, 10, 10, 0)
    assert shift.start.weekday() == 2
    assert shift.end == london(2026, 6, 17, 10, 0)


def test_weekly_handoff_day_0_is_monday_and_6_is_sunday():
    assert (
        shift_at(weekly(london(2026, 6, 3), day=0), london(2026, 6, 10)).end.astimezone(LONDON).weekday() == 0
    )
    assert (
        shift_at(weekly(london(2026, 6, 3), day=6), london(2026, 6, 10)).end.astimezone(LONDON).weekday() == 6
    )


def test_custom_hands_off_every_n_hours_of_elapsed_time_from_start():
    spec = custom(utc(2026, 6, 1, 8, 0), hours=12)
    assert who(spec, utc(2026, 6, 1, 19, 59)) == ("a", ROTATION)
    assert who(spec, utc(2026, 6, 1, 20, 0)) == ("b", ROTATION)
    assert shift_at(spec, utc(2026, 6, 3, 9, 0)).start == utc(2026, 6, 3, 8, 0)


def test_nobody_is_on_call_before_the_start():
    spec = daily(london(2026, 6, 1, 9, 0))
    block = block_at(spec, [], london(2026, 5, 20))
    assert (block.user, block.source, block.start, block.end) == (None, NONE, None, london(2026, 6, 1, 9, 0))


def test_a_schedule_without_participants_has_nobody_on_call_ever():
    spec = daily(london(2026, 6, 1), people=())
    got = blocks(spec, [], utc(2026, 6, 1), utc(2026, 6, 8))
    assert [(b.user, b.source) for b in got] == [(None, NONE)]
    assert block_at(spec, [], utc(2026, 6, 3)).start is None


def test_two_shifts_of_the_same_person_are_two_blocks():
    spec = daily(london(2026, 6, 1, 9, 0), people=("solo",))
    got = blocks(spec, [], london(2026, 6, 1, 9, 0), london(2026, 6, 4, 9, 0))
    assert [b.user for b in got] == ["solo"] * 3


# --- Daylight saving time (Europe/London: last Sunday of March and of October) ---------------


def test_daily_shift_over_the_spring_change_is_23_hours():
    spec = daily(london(2026, 3, 20, 9, 0))
    shift = shift_at(spec, london(2026, 3, 28, 12, 0))
    assert shift.start == london(2026, 3, 28, 9, 0)  # GMT
    assert shift.end == london(2026, 3, 29, 9, 0)  # BST
    assert shift.end - shift.start == 23 * H


def test_daily_shift_over_the_autumn_change_is_25_hours():
    spec = daily(london(2026, 10, 20, 9, 0))
    shift = shift_at(spec, london(2026, 10, 24, 12, 0))
    assert shift.end - shift.start == 25 * H
    assert shift.end.astimezone(LONDON).hour == 9


def test_wall_clock_handoffs_stay_at_the_local_time_across_the_change():
    spec = daily(london(2026, 3, 20, 9, 0))
    got = blocks(spec, [], london(2026, 3, 21, 9, 0), london(2026, 4, 5, 9, 0))
    assert {(b.start.astimezone(LONDON).hour, b.start.astimezone(LONDON).minute) for b in got} == {(9, 0)}


def test_blocks_across_the_changes_add_up_to_the_range_exactly():
    for start, end in (
        (utc(2026, 3, 25), utc(2026, 4, 2)),
        (utc(2026, 10, 20), utc(2026, 10, 30)),
    ):
        got = blocks(daily(london(2026, 3, 1, 9, 0)), [], start, end)
        assert sum((b.end - b.start for b in got), timedelta()) == end - start
        assert all(a.end == b.start for a, b in itertools.pairwise(got))


def test_a_handoff_at_a_skipped_time_happens_at_that_wall_time_before_the_change():
    # 01:30 does not exist in London on 29 March 2026: the handoff is at 01:30 GMT = 02:30 BST.
    spec = daily(london(2026, 3, 20, 1, 30), at=time(1, 30))
    shift = shift_at(spec, utc(2026, 3, 29, 3, 0))
    assert shift.start == utc(2026, 3, 29, 1, 30)
    assert shift.start.astimezone(LONDON).strftime("%H:%M %Z") == "02:30 BST"


def test_a_handoff_at_a_doubled_time_happens_the_first_time():
    # 01:30 happens twice in London on 25 October 2026: first in BST (00:30 UTC).
    spec = daily(london(2026, 10, 20, 1, 30), at=time(1, 30))
    shift = shift_at(spec, utc(2026, 10, 25, 1, 0))
    assert shift.start == utc(2026, 10, 25, 0, 30)
    assert shift.end == utc(2026, 10, 26, 1, 30)  # 01:30 GMT: this shift holds the repeated hour
    assert shift.end - shift.start == 25 * H


def test_weekly_shift_over_the_spring_change_is_one_hour_short():
    spec = weekly(london(2026, 3, 1, 9, 0), day=0)  # Mondays 09:00
    shift = shift_at(spec, london(2026, 3, 26, 12, 0))
    assert (shift.start, shift.end) == (london(2026, 3, 23, 9, 0), london(2026, 3, 30, 9, 0))
    assert shift.end - shift.start == 7 * 24 * H - H


def test_custom_shifts_count_elapsed_hours_not_wall_clock_hours():
    spec = custom(london(2026, 3, 28, 8, 0), hours=12)
    after = shift_at(spec, london(2026, 3, 29, 12, 0))
    assert after.end - after.start == 12 * H
    assert after.start.astimezone(LONDON).hour == 9  # 08:00 GMT + 24 h = 09:00 BST


def test_a_vanished_day_skips_a_turn_without_a_gap():
    apia = ZoneInfo("Pacific/Apia")  # 30 December 2011 did not happen in Samoa
    spec = daily(datetime(2011, 12, 27, 9, 0, tzinfo=apia), tz=apia)
    got = blocks(spec, [], utc(2011, 12, 27), utc(2012, 1, 3))
    turns = [s for s in shifts(spec, utc(2011, 12, 27), utc(2012, 1, 3)) if s.index is not None]
    assert all(s.end > s.start for s in turns)
    assert all(b.end > b.start for b in got)
    assert sum((b.end - b.start for b in got), timedelta()) == timedelta(days=7)


# --- Overrides ------------------------------------------------------------------------------


def test_an_override_wins_over_the_rotation():
    spec = daily(utc(2026, 6, 1, 9, 0), tz=UTC)
    cover = span(1, "z", utc(2026, 6, 1, 12, 0), utc(2026, 6, 1, 15, 0))
    got = blocks(spec, [cover], utc(2026, 6, 1, 9, 0), utc(2026, 6, 2, 9, 0))
    assert [(b.user, b.source, b.start.hour, b.end.hour) for b in got] == [
        ("a", ROTATION, 9, 12),
        ("z", OVERRIDE, 12, 15),
        ("a", ROTATION, 15, 9),
    ]
    assert got[1].override == 1


def test_among_overlapping_overrides_the_most_recently_created_wins():
    spec = daily(utc(2026, 6, 1, 9, 0), tz=UTC)
    older = span(1, "old", utc(2026, 6, 1, 10), utc(2026, 6, 1, 20), created=utc(2026, 5, 1))
    newer = span(2, "new", utc(2026, 6, 1, 12), utc(2026, 6, 1, 14), created=utc(2026, 5, 2))
    got = blocks(spec, [newer, older], utc(2026, 6, 1, 9), utc(2026, 6, 1, 21))
    assert [(b.user, b.start.hour, b.end.hour) for b in got] == [
        ("a", 9, 10),
        ("old", 10, 12),
        ("new", 12, 14),
        ("old", 14, 20),
        ("a", 20, 21),
    ]


def test_an_older_override_never_wins_over_a_newer_one_it_covers():
    spec = daily(utc(2026, 6, 1, 9, 0), tz=UTC)
    newer = span(1, "new", utc(2026, 6, 1, 10), utc(2026, 6, 1, 20), created=utc(2026, 5, 2))
    older = span(2, "old", utc(2026, 6, 1, 12), utc(2026, 6, 1, 14), created=utc(2026, 5, 1))
    got = blocks(spec, [newer, older], utc(2026, 6, 1, 9), utc(2026, 6, 1, 21))
    assert [b.user for b in got] == ["a", "new", "a"]


def test_an_override_across_several_shifts_is_one_block():
    spec = daily(utc(2026, 6, 1, 9, 0), tz=UTC)
    leave = span(1, "z", utc(2026, 6, 2, 0), utc(2026, 6, 5, 0))
    got = blocks(spec, [leave], utc(2026, 6, 1, 9), utc(2026, 6, 6, 9))
    assert [(b.user, b.start, b.end) for b in got if b.source == OVERRIDE] == [
        ("z", utc(2026, 6, 2, 0), utc(2026, 6, 5, 0))
    ]


def test_an_override_before_the_start_puts_someone_on_call():
    spec = daily(utc(2026, 6, 10, 9, 0), tz=UTC)
    early = span(1, "z", utc(2026, 6, 5), utc(2026, 6, 6))
    assert who(spec, utc(2026, 6, 5, 12), [early]) == ("z", OVERRIDE)
    block = block_at(spec, [early], utc(2026, 6, 7))
    assert (block.source, block.start, block.end) == (NONE, utc(2026, 6, 6), utc(2026, 6, 10, 9))


def test_the_block_at_an_instant_is_cut_by_overrides_around_it():
    spec = daily(utc(2026, 6, 1, 9, 0), tz=UTC)
    overrides = [
        span(1, "x", utc(2026, 6, 1, 10), utc(2026, 6, 1, 11)),
        span(2, "y", utc(2026, 6, 1, 15), utc(2026, 6, 1, 16)),
    ]
    block = block_at(spec, overrides, utc(2026, 6, 1, 12))
    assert (block.user, block.start, block.end) == ("a", utc(2026, 6, 1, 11), utc(2026, 6, 1, 15))


def test_blocks_of_an_empty_range_are_empty():
    assert blocks(daily(utc(2026, 6, 1), tz=UTC), [], utc(2026, 6, 2), utc(2026, 6, 2)) == []
