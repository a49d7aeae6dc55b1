"""iCalendar (RFC 5545) feeds, written by hand: a VCALENDAR of VEVENTs with times in UTC,
escaped TEXT values, CRLF line endings and lines folded at 75 octets.

Nothing here needs a library: the feed is a handful of properties, and writing them keeps
the rules (escaping, folding) in view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

CRLF = "\r\n"
LINE_OCTETS = 75
PRODID = "-//ITSM//On-call schedules//EN"


@dataclass(frozen=True)
class Event:
    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str = ""


def utc(value: datetime) -> str:
    """A DATE-TIME in UTC ("Z" form), e.g. 20260315T140000Z."""
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into physical lines of at most 75 octets (RFC 5545 §3.1): each
    continuation starts with one space; a UTF-8 character is never split."""
    parts: list[str] = []
    current, size, limit = [], 0, LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            parts.append("".join(current))
            current, size, limit = [" "], 1, LINE_OCTETS
        current.append(char)
        size += octets
    parts.append("".join(current))
    return CRLF.join(parts)


def calendar(*, name: str, events: Iterable[Event], now: datetime, prodid: str = PRODID) -> str:
    """The whole feed, ready to serve as ``text/calendar`` (``prodid``: the product that made it)."""
    stamp = utc(now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{prodid}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{text(name)}",
        f"X-WR-CALNAME:{text(name)}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{text(event.uid)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{utc(event.start)}",
            f"DTEND:{utc(event.end)}",
            f"SUMMARY:{text(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{text(event.description)}")
        lines += ["TRANSP:OPAQUE", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
