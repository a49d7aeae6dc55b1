"""The desk's picture of the next days: one row per local day, each block placed as a share of
that day (a day is 23 or 25 hours long when the clocks change, and drawn so)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from oncall.rotation import Block

PALETTE_SIZE = 8


@dataclass(frozen=True)
class Segment:
    block: Block
    start: datetime  # within the day
    end: datetime
    left: float  # percent of the day
    width: float
    colour: int | None  # palette index; None: nobody on call
    whole_day: bool = False  # from the day's start to its end: read "all day", not "00:00 to 00:00"
    to_midnight: bool = False  # ends with the day: read "24:00", not "00:00"


@dataclass(frozen=True)
class Day:
    date: date
    start: datetime
    end: datetime
    hours: float
    segments: list[Segment]


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The start of a local day, in UTC (so that differences count real time: aware datetimes
    sharing one tzinfo subtract as wall-clock times)."""
    return datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)


def window(first: date, days: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return local_midnight(first, tz), local_midnight(first + timedelta(days=days), tz)


def colours(people: list) -> dict[int, int]:
    """A palette index per person (by user id), in the order given."""
    result: dict[int, int] = {}
    for person in people:
        if person is not None and person.pk not in result:
            result[person.pk] = len(result) % PALETTE_SIZE
    return result


def days(blocks: list[Block], *, first: date, count: int, tz: ZoneInfo, palette: dict[int, int]) -> list[Day]:
    """Cut ``blocks`` (which cover the whole window) into local days."""
    rows = []
    index = 0
    for offset in range(count):
        day = first + timedelta(days=offset)
        start, end = window(day, 1, tz)
        length = (end - start).total_seconds()
        while index < len(blocks) and blocks[index].end <= start:
            index += 1
        segments = []
        position = index
        while position < len(blocks) and blocks[position].start < end:
            block = blocks[position]
            a, b = max(block.start, start), min(block.end, end)
            segments.append(
                Segment(
                    block=block,
                    start=a,
                    end=b,
                    left=round((a - start).total_seconds() / length * 100, 4),
                    width=round((b - a).total_seconds() / length * 100, 4),
                    colour=palette.get(block.user.pk) if block.user is not None else None,
                    whole_day=a == start and b == end,
                    to_midnight=b == end,
                )
            )
            position += 1
        rows.append(Day(date=day, start=start, end=end, hours=length / 3600, segments=segments))
    return rows
