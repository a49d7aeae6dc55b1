"""Writing a business calendar with its weekly working periods, atomically and audited.

The periods are written whole: what is given replaces what was there. Lives beside the API
door because the API is its only caller so far (the admin edits periods inline, one by one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time
from itertools import pairwise
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from itsm import audit, policy, services
from itsm.errors import InvalidInput, NotAllowed
from itsm.wallclock import Weekday
from itsm.workflow import locked_for
from sla import signals
from sla.models import BusinessCalendar, WorkingPeriod

PERIODS = "periods"
MAX_PERIODS = 7 * 24


def _end(value: time) -> time:
    return time.max if value == time(0) else value


def _text(period: Mapping[str, Any]) -> str:
    end = "24:00" if period["end"] == time(0) else f"{period['end']:%H:%M}"
    return f"{Weekday(period['weekday']).label} {period['start']:%H:%M}–{end}"


def period_errors(periods: list[Mapping[str, Any]], *, always_open: bool) -> list[str]:
    """What is wrong with a calendar's periods: one ending before it starts (00:00 is
    midnight), two overlapping on a weekday, none at all on a calendar that is not 24×7."""
    errors = []
    if len(periods) > MAX_PERIODS:
        errors.append(f"A calendar has at most {MAX_PERIODS} working periods.")
    if not periods and not always_open:
        errors.append("A calendar that is not 24×7 needs at least one working period.")
    by_day: dict[int, list] = {}
    for period in periods:
        if period["end"] != time(0) and period["end"] <= period["start"]:
            errors.append(f"{_text(period)} ends before it starts (an end of 00:00 means midnight).")
            continue
        by_day.setdefault(period["weekday"], []).append(period)
    for day in sorted(by_day):
        spans = sorted(by_day[day], key=lambda p: p["start"])
        for before, after in pairwise(spans):
            if after["start"] < _end(before["end"]):
                errors.append(f"{_text(after)} overlaps {_text(before)}.")
    return errors


def summary(periods: Iterable[Mapping[str, Any]]) -> str:
    return "; ".join(_text(p) for p in sorted(periods, key=lambda p: (p["weekday"], p["start"])))


def _rows(calendar: BusinessCalendar) -> list[dict]:
    return [{"weekday": p.weekday, "start": p.start, "end": p.end} for p in calendar.periods.all()]


def _check(actor, calendar: BusinessCalendar, periods: list | None) -> None:
    """Refuse (400, every field at fault at once) before anything is written."""
    errors: dict[str, list[str]] = {}
    try:
        calendar.full_clean(validate_unique=True, validate_constraints=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    current = periods if periods is not None else (_rows(calendar) if calendar.pk else [])
    if problems := period_errors(current, always_open=calendar.always_open):
        errors[PERIODS] = problems
    if errors:
        raise InvalidInput("The calendar is not valid.", fields=errors)
    if periods is not None and not (
        policy.can(actor, "create", WorkingPeriod) and policy.can(actor, "delete", WorkingPeriod)
    ):
        raise NotAllowed("You may not change working periods.")


def _write(calendar: BusinessCalendar, periods: list[Mapping[str, Any]]) -> None:
    calendar.periods.all().delete()
    WorkingPeriod.objects.bulk_create(
        [
            WorkingPeriod(calendar=calendar, weekday=p["weekday"], start=p["start"], end=p["end"])
            for p in periods
        ]
    )


@transaction.atomic
def calendar_create(*, actor, data: Mapping[str, Any], periods: list | None = None) -> BusinessCalendar:
    """A new calendar with its working periods (a 24×7 one may have none)."""
    if not policy.can(actor, "create", BusinessCalendar):
        raise NotAllowed("Managing business calendars takes the itsm.configure permission.")
    services.check_fields(actor, BusinessCalendar, data)
    periods = list(periods or [])
    _check(actor, BusinessCalendar(**data), periods)
    calendar = services.record_create(model=BusinessCalendar, actor=actor, data=data)
    _write(calendar, periods)
    if periods:
        audit.log_changes(calendar, actor, [(PERIODS, "", summary(periods))])
    return calendar


@transaction.atomic
def calendar_update(
    *, calendar: BusinessCalendar, actor, data: Mapping[str, Any], periods: list | None = None
) -> BusinessCalendar:
    """Change a calendar; ``periods``, when given, replaces all its working periods. Once it
    commits, the clocks running on it get their due times from the new calendar
    (``sla.signals``; called here too because new periods are written in bulk, unsignalled)."""
    calendar = locked_for(calendar, actor, "update")
    before = signals.changing(calendar.pk)
    services.check_fields(actor, calendar, data)
    for name, value in data.items():
        setattr(calendar, name, value)
    periods = list(periods) if periods is not None else None
    _check(actor, calendar, periods)
    calendar = services.record_update(obj=calendar, actor=actor, data=data)
    if periods is not None:
        old = _rows(calendar)
        if summary(old) != summary(periods):
            _write(calendar, periods)
            audit.log_changes(calendar, actor, [(PERIODS, summary(old), summary(periods))])
    signals.changed(calendar.pk, before)
    return calendar
