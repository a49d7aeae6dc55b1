"""Wall-clock vocabulary shared by business calendars and on-call schedules: weekdays and IANA
time-zone names (choices and a validator)."""

from __future__ import annotations

from contextlib import suppress
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, available_timezones

from django.core.exceptions import ValidationError
from django.db import models


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone_choices() -> list[tuple[str, str]]:
    """Every name the system knows, legacy aliases too: what a stored value may hold."""
    return [(name, name) for name in sorted(time_zone_names())]


# Families of backward-compatible aliases (tzdata's "backward" file), when no zone table is found.
_LEGACY_PREFIXES = ("Etc/", "US/", "Canada/", "Mexico/", "Brazil/", "Chile/", "SystemV/")


def _zone_tables() -> list[str]:
    """The text of tzdata's zone tables (zone.tab, zone1970.tab): they list the canonical zones,
    one a line; from the system's zoneinfo or the ``tzdata`` package."""
    texts = []
    for name in ("zone.tab", "zone1970.tab"):
        for directory in TZPATH:
            path = Path(directory) / name
            if path.is_file():
                texts.append(path.read_text(encoding="utf-8"))
                break
        else:
            with suppress(ModuleNotFoundError, FileNotFoundError):
                texts.append(resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8"))
    return texts


@lru_cache(maxsize=1)
def canonical_time_zone_names() -> tuple[str, ...]:
    """The zones to offer people: tzdata's canonical locations (Europe/London, America/New_York)
    and UTC, without the legacy aliases (localtime, Zulu, W-SU, US/Eastern, Etc/GMT+5, …)."""
    known = time_zone_names()
    listed = set()
    for text in _zone_tables():
        for line in text.splitlines():
            fields = line.split("\t")
            if len(fields) >= 3 and not line.startswith("#"):
                listed.add(fields[2].strip())
    if not listed:
        listed = {name for name in known if "/" in name and not name.startswith(_LEGACY_PREFIXES)}
    return tuple(sorted((listed & known) | {"UTC"}))


def offered_time_zone_choices(current: str = "") -> list[tuple[str, str]]:
    """The time zones a form offers: the canonical ones, and the record's own value if it holds
    a legacy alias (a stored value stays valid; it is just not offered to new records)."""
    names = list(canonical_time_zone_names())
    if current and current not in names and current in time_zone_names():
        names = sorted([*names, current])
    return [(name, name) for name in names]


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(f"“{value}” is not a time zone name (e.g. Europe/London).")
