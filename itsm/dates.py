"""Dates and times as the desk's templates write them, without Django's ``date`` filter, which
parses its format for every value (a queue's rows and a conversation's notes write dozens)."""

from __future__ import annotations

from datetime import datetime

from django.utils.dates import MONTHS_3
from django.utils.translation import get_language

_MONTHS: dict[str | None, tuple[str, ...]] = {}


def month_names() -> tuple[str, ...]:
    """The months' short names in the active language ("Dec" at 12), translated once per language."""
    language = get_language()
    names = _MONTHS.get(language)
    if names is None:
        names = _MONTHS[language] = ("", *(str(MONTHS_3[number]).title() for number in range(1, 13)))
    return names


def day_month_year_time(local: datetime, months: tuple[str, ...] | None = None) -> str:
    """``local`` (already in the reader's time zone) as ``date:"j M Y H:i"`` writes it."""
    month = (months or month_names())[local.month]
    return f"{local.day} {month} {local.year} {local.hour:02d}:{local.minute:02d}"
