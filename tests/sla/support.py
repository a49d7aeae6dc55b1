"""Helpers for the SLA, sweep and escalation tests: a controllable clock (``timezone.now``),
SLA definitions and business calendars. Incidents come from ``tests/incidents/factories.py``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from catalog.models import Request
from itsm.models import SlaDefinition
from itsm.services import record_create
from sla.models import BusinessCalendar, Holiday, SlaClock, WorkingPeriod
from tests.itsm.factories import make_group

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday; London is on GMT (UTC) then


class Now:
    """``timezone.now`` under the test's control: ``now.advance(minutes=…)``, ``now.set(…)``."""

    def __init__(self, value: datetime):
        self.value = value

    def __call__(self) -> datetime:
        return self.value

    def set(self, value: datetime) -> datetime:
        self.value = value
        return value

    def advance(self, **delta) -> datetime:
        self.value += timedelta(**delta)
        return self.value


@pytest.fixture(name="now")
def now_fixture(monkeypatch):
    """Freeze ``django.utils.timezone.now`` (every service and ``auto_now`` field reads it) at
    Monday 2 March 2026 09:00 UTC."""
    clock = Now(MONDAY_9)
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture(name="standard")
def standard_fixture(db):
    """Account-wide, 24×7: P4 response 4 h (at risk at 3 h), resolution 24 h (at risk at 18 h)."""
    return make_definition("Standard", is_default=True)


@pytest.fixture(name="desk")
def desk_fixture(lead, agent):
    """The "Service Desk" group: ``lead`` leads it, ``agent`` is a member."""
    return make_group("Service Desk", leads=[lead], members=[agent])


# Minutes per priority: (response, resolution).
TARGETS = {"P1": (15, 60), "P2": (30, 240), "P3": (60, 480), "P4": (240, 1440)}


def make_definition(name="Standard", *, calendar=None, is_default=False, is_active=True, targets=None):
    targets = TARGETS if targets is None else targets
    fields = {}
    for priority, (response, resolution) in targets.items():
        fields[f"{priority.lower()}_response_minutes"] = response
        fields[f"{priority.lower()}_resolution_minutes"] = resolution
    return SlaDefinition.objects.create(
        name=name, calendar=calendar, is_default=is_default, is_active=is_active, **fields
    )


def office_calendar(name="Office hours", zone="Europe/London", *, start=time(9), end=time(17), days=range(5)):
    calendar = BusinessCalendar.objects.create(name=name, time_zone=zone)
    WorkingPeriod.objects.bulk_create(
        WorkingPeriod(calendar=calendar, weekday=d, start=start, end=end) for d in days
    )
    return calendar


def holiday(calendar, day, *, recurring=False, name="Holiday"):
    return Holiday.objects.create(calendar=calendar, name=name, date=day, recurring=recurring)


def clocks_of(work, **filters):
    return {c.target: c for c in SlaClock.objects.filter(work_id=work.pk, is_current=True, **filters)}


def clock(work, target="resolution"):
    return SlaClock.objects.get(work_id=work.pk, is_current=True, target=target)


def kinds(clock_row):
    return [e.kind for e in clock_row.events.order_by("at", "id")]


def fresh(incident):
    incident.refresh_from_db()
    return incident


def raise_request(actor, *, priority="P4", text="New laptop", **system):
    """A catalog request raised through the shared create service, at ``priority``."""
    return record_create(
        model=Request, actor=actor, data={"short_description": text}, requester=actor,
        organisation=actor.organisation, priority=priority, **system,
    )  # fmt: skip
