"""Why a clock says what it says: its due time, the calendar and holidays behind it, its pauses.

``explain(clock)`` turns one ``SlaClock`` into plain values (the API's ``/incidents/{id}/sla/``
and the desk's incident page both show them); ``clocks_for(work)`` loads a work's clocks with
everything ``explain`` reads, in a fixed number of queries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone

from sla.models import BusinessCalendar, ClockEvent, ClockTarget, SlaClock, SlaClockEvent, calendar_of

TWENTY_FOUR_SEVEN_UTC = "24×7 (UTC)"


def clocks_for(work, *, history: bool = False) -> list[SlaClock]:
    """The work's current clocks (response first), then — with ``history`` — the ones a reopen
    retired, newest first. Four queries whatever the number of clocks and events."""
    clocks = SlaClock.objects.filter(work_id=work.pk)
    if not history:
        clocks = clocks.filter(is_current=True)
    clocks = clocks.select_related("definition", "calendar").prefetch_related(
        Prefetch("events", queryset=SlaClockEvent.objects.order_by("at", "pk")),
        "calendar__periods",
        "calendar__holidays",
    )
    order = {ClockTarget.RESPONSE: 0, ClockTarget.RESOLUTION: 1}
    return sorted(
        clocks, key=lambda c: (not c.is_current, -c.started_at.timestamp(), order.get(c.target, 2), c.pk)
    )


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def _calendar(row: BusinessCalendar | None) -> dict:
    if row is None:
        return {"name": None, "hours_summary": TWENTY_FOUR_SEVEN_UTC, "time_zone": "UTC"}
    return {"name": row.name, "hours_summary": row.hours_summary(), "time_zone": row.time_zone}


def _holidays(row: BusinessCalendar | None, calendar, start: datetime, end: datetime) -> list[dict]:
    if row is None or end < start:
        return []
    one_off, recurring = {}, {}
    for holiday in row.holidays.all():
        if holiday.recurring:
            recurring[(holiday.date.month, holiday.date.day)] = holiday.name
        else:
            one_off[holiday.date] = holiday.name
    return [
        {"date": day, "name": one_off.get(day) or recurring.get((day.month, day.day), "")}
        for day in calendar.holidays_between(start, end)
    ]


def _pauses(events) -> list[dict]:
    """Each stretch on hold: when it paused and when it resumed (null while still paused, or
    when the clock stopped without resuming)."""
    pauses, open_pause = [], None
    for event in events:
        if event.kind == ClockEvent.PAUSED:
            open_pause = {"paused_at": event.at, "resumed_at": None, "reason": event.note}
            pauses.append(open_pause)
        elif event.kind == ClockEvent.RESUMED and open_pause is not None:
            open_pause["resumed_at"] = event.at
            open_pause = None
        elif event.kind in (ClockEvent.STOPPED, ClockEvent.CANCELLED, ClockEvent.RETIRED):
            open_pause = None
    return pauses


def _duration_text(value: timedelta) -> str:
    """Hours and minutes, never days: a business "day" is not 24 hours (3 days of a 9–17
    calendar is 24 h of business time, not "1 d")."""
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} h")
    if minutes or not parts:
        parts.append(f"{minutes} min")
    return " ".join(parts)


def _summary(clock: SlaClock, calendar: dict, holidays: list[dict], pauses: list[dict]) -> str:
    target = clock.get_target_display()
    text = (
        f"{target} target {_duration_text(clock.target_duration)} ({clock.priority}) "
        f"of business time on {calendar['hours_summary']}"
    )
    if holidays:
        text += f", not counting {len(holidays)} holiday{'s' if len(holidays) != 1 else ''}"
    if pauses:
        text += f", paused {len(pauses)} time{'s' if len(pauses) != 1 else ''} while on hold"
    return text + "."


def explain(clock: SlaClock, at: datetime | None = None) -> dict:
    """Everything that decides ``clock``'s status and due time at ``at`` (now by default):
    target, elapsed business time, calendar, holidays up to the due time, pauses, events."""
    at = at or timezone.now()
    row = clock.calendar
    calendar = calendar_of(row)
    elapsed = clock.elapsed_at(at, calendar)
    end = clock.due_at or clock.stopped_at or at
    events = list(clock.events.all())
    holidays = _holidays(row, calendar, clock.started_at, end)
    pauses = _pauses(events)
    calendar_values = _calendar(row)
    return {
        "id": clock.pk,
        "target": clock.target,
        "priority": clock.priority,
        "state": clock.state,
        "status": clock.status(at),
        "is_current": clock.is_current,
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "warn_at": clock.warn_at,
        "breached_at": clock.breached_at,
        "stopped_at": clock.stopped_at,
        "elapsed": _seconds(elapsed),
        "target_duration": _seconds(clock.target_duration),
        "remaining": max(_seconds(clock.target_duration - elapsed), 0),
        "definition": clock.definition.name if clock.definition is not None else None,
        "calendar": calendar_values,
        "holidays": holidays,
        "pauses": pauses,
        "events": [
            {"kind": e.kind, "at": e.at, "elapsed": _seconds(e.elapsed), "note": e.note} for e in events
        ],
        "summary": _summary(clock, calendar_values, holidays, pauses),
    }
