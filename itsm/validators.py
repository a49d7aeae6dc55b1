"""Checks of user input every door shares."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models

from itsm.errors import InvalidInput

# Dates and instants accepted anywhere a user gives one (time entries, holidays, on-call
# shifts, filters, report ranges): wide enough for any real record, narrow enough that no date
# arithmetic (time zones, SLA periods, shift rotation) can overflow. Year 1 or 9999 is a typo
# or a probe.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # excluded
OUT_OF_RANGE = f"Give a date between {EARLIEST:%Y} and {LATEST:%Y}."
TIME_OUT_OF_RANGE = f"Give a time between {EARLIEST:%Y} and {LATEST:%Y}."


def date_error(value) -> str | None:
    """Why a user-given date or date and time is out of range, or None (also for other values)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            inside = EARLIEST.replace(tzinfo=None) <= value < LATEST.replace(tzinfo=None)
        else:
            inside = EARLIEST <= value < LATEST
        return None if inside else TIME_OUT_OF_RANGE
    if isinstance(value, date):
        return None if EARLIEST.date() <= value < LATEST.date() else OUT_OF_RANGE
    return None


def validate_date(value) -> None:
    """``date_error`` as a form, filter or serializer field validator."""
    problem = date_error(value)
    if problem:
        raise ValidationError(problem, code="date_out_of_range")


def check_dates(data: Mapping[str, Any]) -> None:
    """Refuse (400, naming each field) the dates in ``data`` that are out of range."""
    errors = {name: [problem] for name, value in data.items() if (problem := date_error(value))}
    if errors:
        raise InvalidInput("Some dates are out of range.", fields=errors)


def is_possible_pk(model, value) -> bool:
    """Whether ``value`` can be a primary key of ``model`` at all.

    Looking up an integer beyond the column's range crashes the database driver (SQLite
    raises ``OverflowError``, PostgreSQL ``DataError``) instead of matching nothing; Django
    guards only plain integer primary keys, not a child model's parent link (an incident's
    ``work_ptr``). Callers answer "not found" instead.
    """
    field = model._meta.pk
    while field.remote_field is not None:
        field = field.target_field
    try:
        value = field.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return False
    if isinstance(field, models.IntegerField) and value is not None:
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        return (low is None or value >= low) and (high is None or value <= high)
    return True
