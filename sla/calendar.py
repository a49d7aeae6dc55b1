"""Business-time arithmetic: what "4 business hours from now" means on a calendar.

A calendar is working periods per weekday (wall-clock times in a named time zone) minus
holidays (whole local days, one-off or recurring every year on the same month and day). A
24×7 calendar is 00:00–24:00 on every day, still minus its holidays.

Everything here works on aware UTC instants and exact ``timedelta``s. Working time is the set of
instants whose local wall-clock time lies in a working period of their local date, that date not
being a holiday. ``intervals`` yields it as ordered, non-overlapping UTC intervals; ``due`` and
``elapsed`` both walk those same intervals, so they agree with each other by construction,
across weekends, holidays and daylight-saving changes: a local day is 23 or 25 hours long on
those days, a period reaching into the spring-forward gap loses the skipped wall-clock time,
one in the repeated fall-back hour counts both passes of it, and a day a zone skipped
altogether (Pacific/Apia, 30 December 2011) has no working time.

Pure Python, no database: ``sla.models.BusinessCalendar.as_calendar()`` builds one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ZERO = timedelta(0)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
MARGIN = timedelta(hours=26)
# How far ahead the arithmetic looks for working time before it calls the calendar unusable
# (e.g. every day of the year a recurring holiday): about eleven years of local days.
HORIZON_DAYS = 4018


class NoWorkingTime(ValueError):
    """The calendar has no working time in the horizon: nothing can ever fall due on it."""


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    # weekday (0 = Monday) → sorted, non-overlapping (start, end) wall-clock periods; end None
    # means midnight at the end of the day.
    periods: dict[int, tuple[tuple[time, time | None], ...]]
    holidays: frozenset[date] = frozenset()
    recurring: frozenset[tuple[int, int]] = frozenset()  # (month, day)
    always: bool = field(default=False)  # 24×7 with no holidays: the fast path
    # The UTC intervals of each local day, computed once per calendar object (time-zone
    # conversion is the expensive part; sweeps and bulk loads ask about the same days often).
    _days: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    @classmethod
    def twenty_four_seven(
        cls, zone: str | ZoneInfo = "UTC", holidays: Iterable[date] = (), recurring=()
    ) -> Calendar:
        zone = ZoneInfo(zone) if isinstance(zone, str) else zone
        holidays, recurring = frozenset(holidays), frozenset(recurring)
        return cls(
            zone=zone,
            periods={d: ((time(0), None),) for d in range(7)},
            holidays=holidays,
            recurring=recurring,
            always=not holidays and not recurring,
        )

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.recurring

    def _offset(self, at: datetime) -> timedelta:
        return at.astimezone(self.zone).utcoffset()

    def _segments(self, first: datetime, last: datetime) -> list[tuple[datetime, datetime, timedelta]]:
        """``[first, last)`` cut where the zone's UTC offset changes: (start, end, offset)."""
        segments = []
        while first < last:
            offset = self._offset(first)
            if self._offset(last - SECOND) == offset:
                segments.append((first, last, offset))
                break
            # Offsets change on whole seconds: find the first second with another offset.
            lo, hi = 0, int((last - first).total_seconds())
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if self._offset(first + mid * SECOND) == offset:
                    lo = mid
                else:
                    hi = mid
            change = first + hi * SECOND
            segments.append((first, change, offset))
            first = change
        return segments

    def _day(self, day: date, periods) -> list[tuple[datetime, datetime]]:
        """The working intervals (UTC, ordered, merged) of the local date ``day``: the instants
        whose wall-clock time on that date lies in one of ``periods``."""
        midnight = datetime.combine(day, time(0), tzinfo=UTC)  # the local date's wall clock, as UTC
        found = []
        # Every instant of the local date lies within 26 hours of its wall clock (offsets ≤ ±26 h).
        for first, last, offset in self._segments(midnight - MARGIN, midnight + DAY + MARGIN):
            for begin, end in periods:
                s = datetime.combine(day, begin, tzinfo=UTC) - offset
                e = (midnight + DAY if end is None else datetime.combine(day, end, tzinfo=UTC)) - offset
                s, e = max(s, first), min(e, last)
                if e > s:
                    found.append((s, e))
        found.sort()
        merged: list[tuple[datetime, datetime]] = []
        for s, e in found:
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
            else:
                merged.append((s, e))
        return merged

    def intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals in UTC, in order and not overlapping, from the local day holding
        ``start`` on (the first may begin before ``start``). Stops after ``HORIZON_DAYS`` days
        without any."""
        day = start.astimezone(self.zone).date() - DAY  # a day back: DST edges at midnight
        idle = 0
        cursor: datetime | None = None  # where the last yielded interval ended
        while idle < HORIZON_DAYS:
            found = False
            periods = self.periods.get(day.weekday(), ())
            if periods and not self.is_holiday(day):
                spans = self._days.get(day)
                if spans is None:
                    if len(self._days) > 20_000:
                        self._days.clear()
                    spans = self._days[day] = self._day(day, periods)
                for s, e in spans:
                    if cursor is not None:
                        # A zone whose clocks went back across midnight repeats part of the
                        # previous local date: that stretch was already counted.
                        s = max(s, cursor)
                    if e > s:
                        found = True
                        cursor = e
                        yield s, e
            idle = 0 if found else idle + 1
            day += DAY

    def due(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of working time has passed since ``start``."""
        start = start.astimezone(UTC)
        if duration <= ZERO:
            return start
        if self.always:
            return start + duration
        remaining = duration
        for s, e in self.intervals(start):
            s = max(s, start)
            if e <= s:
                continue
            if remaining <= e - s:
                return s + remaining
            remaining -= e - s
        raise NoWorkingTime("The calendar has no working time: nothing can fall due on it.")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between ``start`` and ``end`` (zero when end is not after start)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return ZERO
        if self.always:
            return end - start
        total = ZERO
        for s, e in self.intervals(start):
            if s >= end:
                break
            s, e = max(s, start), min(e, end)
            if e > s:
                total += e - s
        return total

    def is_working(self, at: datetime) -> bool:
        """Whether ``at`` lies in working time (an interval's end counts: a target met exactly
        at closing time is due at closing time)."""
        at = at.astimezone(UTC)
        if self.always:
            return True
        for s, e in self.intervals(at):
            if s > at:
                return False
            if s <= at <= e:
                return True
        return False

    def holidays_between(self, start: datetime, end: datetime) -> list[date]:
        """The holidays (local dates) from ``start`` to ``end``, for explaining a due time."""
        first, last = start.astimezone(self.zone).date(), end.astimezone(self.zone).date()
        if (last - first).days > 3660:
            last = first + timedelta(days=3660)
        days, day = [], first
        while day <= last:
            if self.is_holiday(day):
                days.append(day)
            day += DAY
        return days
