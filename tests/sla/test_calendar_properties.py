"""Business-time arithmetic (issue #4 item 3): exact across weekends, holidays, recurring
holidays and daylight-saving changes.

Properties, for random calendars (split shifts, 24×7, zones with 1-hour, 30-minute and
whole-day changes), random holidays (one-off and recurring, 29 February included), random
starts (many right next to a DST change) and random durations from 1 s to 60 days:

* a due time never falls inside non-working time — by the calendar's own ``is_working``, and
  by an independent wall-clock check (the instant just before it is, in local time, inside a
  working period of a non-holiday local date);
* ``elapsed(start, due(start, d)) == d`` exactly;
* ``due`` is monotonic in ``d``;
* ``elapsed`` is additive, and agrees with counting working minutes one by one.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.calendar import Calendar, NoWorkingTime

ZONES = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Apia",  # skipped 30 December 2011; DST until 2021
    "Asia/Kolkata",  # +05:30, no DST
]
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MICRO = timedelta(microseconds=1)
LONDON = ZoneInfo("Europe/London")


@cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """The zone's UTC-offset changes from 2011 to 2028 (to start clocks right next to them)."""
    zone = ZoneInfo(zone_name)
    calendar = Calendar.twenty_four_seven(zone)
    found, day = [], datetime(2011, 1, 1, tzinfo=UTC)
    while day.year < 2029:
        following = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            found.extend(first for first, _, _ in calendar._segments(day, following)[1:])
        day = following
    return tuple(found)


# --- Strategies ---------------------------------------------------------------------------------


# Quarter hours where the zones here change their clocks (00:00 … 04:00), drawn often.
DST_EDGES = [0, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16]
# Strategies are built once (building them per draw is most of the cost of a run).
PERIOD_COUNT = st.integers(0, 3)
MARK = st.one_of(st.sampled_from(DST_EDGES), st.integers(0, 96))
MARK_SETS = [st.sets(MARK, min_size=2 * n, max_size=2 * n) for n in range(4)]
EDGE_SETS = [st.sets(st.sampled_from([*DST_EDGES, 96]), min_size=2 * n, max_size=2 * n) for n in range(4)]


@st.composite
def day_periods(draw):
    """0–3 sorted, non-overlapping wall-clock periods of one weekday, on 15-minute steps (so
    they meet every DST edge: 01:00, 02:00, 02:30, 03:00 …); an end of 24:00 is None."""
    count = draw(PERIOD_COUNT)
    marks = sorted(draw(MARK_SETS[count]))
    periods = []
    for begin, end in zip(marks[::2], marks[1::2], strict=True):
        start = time(begin * 15 // 60, begin * 15 % 60)
        periods.append((start, None if end == 96 else time(end * 15 // 60, end * 15 % 60)))
    return tuple(periods)


holiday_dates = st.dates(min_value=date(2011, 12, 1), max_value=date(2028, 12, 31))
recurring_days = st.one_of(
    st.just((2, 29)),
    st.just((12, 25)),
    st.tuples(st.integers(1, 12), st.integers(1, 28)),
)


ZONE_NAMES = st.sampled_from(ZONES)
HOLIDAY_SETS = st.frozensets(holiday_dates, max_size=8)
RECURRING_SETS = st.frozensets(recurring_days, max_size=4)
ONE_IN_FIVE = st.integers(0, 4)
DAY_PERIODS = day_periods()


@st.composite
def calendars(draw):
    zone = ZoneInfo(draw(ZONE_NAMES))
    holidays = draw(HOLIDAY_SETS)
    recurring = draw(RECURRING_SETS)
    if draw(ONE_IN_FIVE) == 0:
        return Calendar.twenty_four_seven(zone, holidays, recurring)
    periods = {d: p for d in range(7) if (p := draw(DAY_PERIODS))}
    if not periods:
        periods = {0: ((time(9), time(17)),)}
    return Calendar(zone=zone, periods=periods, holidays=holidays, recurring=recurring)


BOOLEANS = st.booleans()
TWO_DAYS = st.timedeltas(min_value=-timedelta(days=2), max_value=timedelta(days=2))
INSTANTS = st.datetimes(min_value=datetime(2011, 12, 1), max_value=datetime(2028, 12, 31))
NEAR_CHANGE = {
    name: st.sampled_from(transitions(name) or (datetime(2026, 1, 1, tzinfo=UTC),)) for name in ZONES
}


@st.composite
def starts(draw, calendar):
    """Any instant 2011–2028, or one within two days of one of the zone's DST changes."""
    near = transitions(calendar.zone.key)
    if near and draw(BOOLEANS):
        return draw(NEAR_CHANGE[calendar.zone.key]) + draw(TWO_DAYS)
    naive = draw(INSTANTS)
    return naive.replace(tzinfo=UTC)


def weekly_hours(calendar) -> timedelta:
    total = timedelta(0)
    for periods in calendar.periods.values():
        for begin, end in periods:
            stop = timedelta(days=1) if end is None else timedelta(hours=end.hour, minutes=end.minute)
            total += stop - timedelta(hours=begin.hour, minutes=begin.minute)
    return total


durations = st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=60))


def bounded(calendar, duration: timedelta) -> timedelta:
    """At most ~half a year of the calendar's working time, so sparse calendars stay fast."""
    return min(duration, weekly_hours(calendar) * 26)


# --- An independent oracle: the wall clock ---------------------------------------------------------


def wall_clock_working(calendar, at: datetime) -> bool:
    """Whether ``at``, read on the local wall clock, is inside a working period of its local
    date (and that date is not a holiday). Knows nothing of how the calendar computes."""
    local = at.astimezone(calendar.zone)
    day, moment = local.date(), local.time().replace(tzinfo=None)
    if day in calendar.holidays or (day.month, day.day) in calendar.recurring:
        return False
    return any(
        begin <= moment and (end is None or moment < end)
        for begin, end in calendar.periods.get(day.weekday(), ())
    )


# --- Properties -------------------------------------------------------------------------------------


@FAST
@given(data=st.data(), calendar=calendars(), duration=durations)
def test_a_due_time_never_falls_inside_non_working_time(data, calendar, duration):
    start = data.draw(starts(calendar))
    due = calendar.due(start, bounded(calendar, duration))
    assert due > start
    assert calendar.is_working(due)
    # The due time ends a stretch of working time: the instant before it is working time on
    # the wall clock (so a due time never lands in a weekend, a holiday or a DST gap).
    assert wall_clock_working(calendar, due - MICRO), (start, due, due.astimezone(calendar.zone))


@FAST
@given(data=st.data(), calendar=calendars(), duration=durations)
def test_elapsed_from_start_to_due_is_exactly_the_duration(data, calendar, duration):
    start = data.draw(starts(calendar))
    duration = bounded(calendar, duration)
    assert calendar.elapsed(start, calendar.due(start, duration)) == duration


@FAST
@given(data=st.data(), calendar=calendars(), first=durations, second=durations)
def test_due_is_monotonic_in_the_duration(data, calendar, first, second):
    start = data.draw(starts(calendar))
    shorter, longer = sorted((bounded(calendar, first), bounded(calendar, second)))
    assert calendar.due(start, shorter) <= calendar.due(start, longer)
    if shorter < longer:
        assert calendar.due(start, shorter) < calendar.due(start, longer)


@FAST
@given(data=st.data(), calendar=calendars(), gaps=st.lists(durations, min_size=2, max_size=2))
def test_elapsed_is_additive(data, calendar, gaps):
    a = data.draw(starts(calendar))
    b = a + gaps[0] / 4
    c = b + gaps[1] / 4
    ab, bc, ac = calendar.elapsed(a, b), calendar.elapsed(b, c), calendar.elapsed(a, c)
    assert ab + bc == ac
    assert timedelta(0) <= ab <= b - a
    assert calendar.elapsed(c, a) == timedelta(0)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), calendar=calendars(), minutes=st.integers(1, 3 * 24 * 60))
def test_elapsed_counts_the_working_minutes_of_the_wall_clock(data, calendar, minutes):
    """Minute-aligned windows of up to 3 days: elapsed equals the number of minutes whose wall
    clock is working time (all zones here have whole-minute offsets)."""
    start = data.draw(starts(calendar)).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=minutes)
    counted = sum(wall_clock_working(calendar, start + timedelta(minutes=m)) for m in range(minutes))
    assert calendar.elapsed(start, end) == timedelta(minutes=counted)


DST_ZONES = st.sampled_from(["Europe/London", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia"])


@st.composite
def dst_days(draw):
    """A calendar whose periods start and end on DST edges, in a zone that changes its clocks,
    and the local midnight a day before one of its changes."""
    zone_name = draw(DST_ZONES)
    zone = ZoneInfo(zone_name)
    change = draw(NEAR_CHANGE[zone_name])
    periods = {}
    for weekday in range(7):
        marks = sorted(draw(EDGE_SETS[draw(PERIOD_COUNT)]))
        if marks:
            periods[weekday] = tuple(
                (time(b * 15 // 60, b * 15 % 60), None if e == 96 else time(e * 15 // 60, e * 15 % 60))
                for b, e in zip(marks[::2], marks[1::2], strict=True)
            )
    calendar = Calendar(zone=zone, periods=periods or {0: ((time(0), time(1)),)})
    day = change.astimezone(zone).date() - timedelta(days=1)
    return calendar, datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@settings(max_examples=100, deadline=None)
@given(case=dst_days(), fraction=st.floats(0.01, 1.0))
def test_dst_days_count_exactly_the_working_minutes_of_the_wall_clock(case, fraction):
    """Around every clock change: periods that reach into a spring-forward gap lose the skipped
    wall-clock time, ones in a repeated fall-back hour count both passes, and due times stay in
    working time and monotonic."""
    calendar, start = case
    minutes = 2 * 24 * 60
    counted = sum(wall_clock_working(calendar, start + timedelta(minutes=m)) for m in range(minutes))
    window = calendar.elapsed(start, start + timedelta(minutes=minutes))
    assert window == timedelta(minutes=counted)
    if counted:
        duration = max(timedelta(seconds=1), window * fraction)
        due = calendar.due(start, duration)
        assert wall_clock_working(calendar, due - MICRO)
        assert calendar.elapsed(start, due) == duration
        assert calendar.due(start, duration / 2) <= due


@FAST
@given(data=st.data(), calendar=calendars())
def test_is_working_agrees_with_the_wall_clock(data, calendar):
    at = data.draw(starts(calendar))
    if wall_clock_working(calendar, at):
        assert calendar.is_working(at)
    elif calendar.is_working(at):
        # Only an interval's closing instant counts as working without being inside a period.
        assert wall_clock_working(calendar, at - MICRO)


# --- Examples ---------------------------------------------------------------------------------------


def office_hours(zone=LONDON, days=range(5), **holidays) -> Calendar:
    return Calendar(zone=zone, periods={d: ((time(9), time(17)),) for d in days}, **holidays)


def test_friday_16_00_plus_two_business_hours_is_monday_10_00():
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=LONDON)
    due = office_hours().due(friday, timedelta(hours=2))
    assert due == datetime(2026, 3, 9, 10, 0, tzinfo=LONDON)
    assert office_hours().elapsed(friday, due) == timedelta(hours=2)


def test_split_shift_skips_the_lunch_break():
    calendar = Calendar(zone=LONDON, periods={0: ((time(9), time(12)), (time(13), time(17)))})
    monday = datetime(2026, 3, 2, 11, 0, tzinfo=LONDON)
    assert calendar.due(monday, timedelta(hours=2)) == datetime(2026, 3, 2, 14, 0, tzinfo=LONDON)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "due"),
    [
        # Thursday 24 December 2026, 16:00 + 2 h: Friday the 25th is skipped.
        (datetime(2026, 12, 24, 16, 0), datetime(2026, 12, 26, 10, 0)),
        # Friday 24 December 2027 + 2 h: Saturday the 25th is skipped.
        (datetime(2027, 12, 24, 16, 0), datetime(2027, 12, 26, 10, 0)),
    ],
)
def test_a_recurring_25_december_holiday_is_skipped_every_year(start, due):
    from sla.models import BusinessCalendar, Holiday, WorkingPeriod

    row = BusinessCalendar.objects.create(name="Every day", time_zone="Europe/London")
    WorkingPeriod.objects.bulk_create(
        WorkingPeriod(calendar=row, weekday=d, start=time(9), end=time(17)) for d in range(7)
    )
    Holiday.objects.create(calendar=row, name="Christmas", date=date(2025, 12, 25), recurring=True)
    calendar = row.as_calendar()
    assert calendar.due(start.replace(tzinfo=LONDON), timedelta(hours=2)) == due.replace(tzinfo=LONDON)
    assert calendar.holidays_between(start.replace(tzinfo=LONDON), due.replace(tzinfo=LONDON)) == [
        date(start.year, 12, 25)
    ]


def test_a_one_off_holiday_applies_only_in_its_year():
    calendar = office_hours(holidays=frozenset({date(2026, 5, 4)}))
    assert calendar.due(datetime(2026, 5, 1, 16, tzinfo=LONDON), timedelta(hours=2)) == datetime(
        2026, 5, 5, 10, tzinfo=LONDON
    )
    assert calendar.due(datetime(2027, 5, 3, 16, tzinfo=LONDON), timedelta(hours=2)) == datetime(
        2027, 5, 4, 10, tzinfo=LONDON
    )


def test_a_recurring_29_february_is_a_holiday_in_leap_years_only():
    calendar = office_hours(days=range(7), recurring=frozenset({(2, 29)}))
    assert not calendar.is_working(datetime(2028, 2, 29, 12, tzinfo=LONDON))
    assert calendar.is_working(datetime(2027, 3, 1, 12, tzinfo=LONDON))
    assert calendar.due(datetime(2028, 2, 28, 16, tzinfo=LONDON), timedelta(hours=2)) == datetime(
        2028, 3, 1, 10, tzinfo=LONDON
    )


@pytest.mark.parametrize("holidays", [frozenset(), frozenset({date(2001, 1, 1)})], ids=["fast", "walked"])
@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 3, 28), 24)],
    ids=["spring-forward", "fall-back", "ordinary"],
)
def test_london_dst_days_on_a_24x7_calendar(holidays, day, hours):
    """A 24×7 local day is 23 h on the spring-forward day and 25 h on the fall-back day; a
    24-hour target ends an hour later / earlier on the wall clock but exactly 24 h later."""
    calendar = Calendar.twenty_four_seven(LONDON, holidays)
    midnight = datetime.combine(day, time(0), tzinfo=LONDON)
    following = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)
    assert calendar.elapsed(midnight, following) == timedelta(hours=hours)
    due = calendar.due(midnight, timedelta(hours=24))
    assert due - midnight.astimezone(UTC) == timedelta(hours=24)
    wall = due.astimezone(LONDON)
    expected = {23: (following.date(), 1), 24: (following.date(), 0), 25: (day, 23)}[hours]
    assert (wall.date(), wall.hour, wall.minute) == (*expected, 0)


def test_a_period_reaching_into_the_spring_forward_gap_loses_the_skipped_time():
    # Sunday 29 March 2026, London: 01:00 GMT jumps to 02:00 BST.
    calendar = Calendar(zone=LONDON, periods={6: ((time(0), time(1, 30)),)})
    sunday = datetime(2026, 3, 29, 0, 0, tzinfo=LONDON)
    assert calendar.elapsed(sunday, sunday + timedelta(days=1)) == timedelta(hours=1)
    assert calendar.due(sunday, timedelta(hours=1)) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_a_period_in_the_repeated_fall_back_hour_counts_both_passes():
    # Sunday 25 October 2026, London: 02:00 BST goes back to 01:00 GMT.
    calendar = Calendar(zone=LONDON, periods={6: ((time(1, 0), time(1, 30)),)})
    saturday = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    assert calendar.elapsed(saturday, saturday + timedelta(days=2)) == timedelta(hours=1)


def test_a_day_the_zone_skipped_has_no_working_time():
    apia = ZoneInfo("Pacific/Apia")
    calendar = Calendar.twenty_four_seven(apia, holidays=frozenset({date(2001, 1, 1)}))
    # 29 December 2011 was followed by 31 December: three local dates, two days of time.
    first = datetime(2011, 12, 29, 0, 0, tzinfo=apia)
    assert calendar.elapsed(first, datetime(2012, 1, 1, 0, 0, tzinfo=apia)) == timedelta(days=2)


def test_half_hour_zones_and_half_hour_dst():
    kolkata = office_hours(zone=ZoneInfo("Asia/Kolkata"))
    start = datetime(2026, 3, 6, 11, 0, tzinfo=UTC)  # Friday 16:30 IST
    assert kolkata.due(start, timedelta(hours=1)) == datetime(
        2026, 3, 9, 9, 30, tzinfo=ZoneInfo("Asia/Kolkata")
    )
    lord_howe = Calendar.twenty_four_seven("Australia/Lord_Howe", holidays=frozenset({date(2001, 1, 1)}))
    zone = ZoneInfo("Australia/Lord_Howe")
    # Sunday 5 April 2026: 02:00 LHDT goes back to 01:30 LHST, a 24.5-hour day.
    day = datetime(2026, 4, 5, 0, 0, tzinfo=zone)
    assert lord_howe.elapsed(day, datetime(2026, 4, 6, 0, 0, tzinfo=zone)) == timedelta(hours=24, minutes=30)


def test_a_calendar_without_working_time_says_so():
    with pytest.raises(NoWorkingTime):
        Calendar(zone=LONDON, periods={}).due(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1))
    assert Calendar(zone=LONDON, periods={}).elapsed(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    ) == timedelta(0)
