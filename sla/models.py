"""Business calendars, holidays and SLA clocks.

An SLA definition (``itsm.SlaDefinition``) gives a response and a resolution target per
priority on a ``BusinessCalendar``. Each target of a piece of work is an ``SlaClock``; what
happened to the clock (started, paused, resumed, stopped, breached…) is kept as
``SlaClockEvent`` rows, so its due time and elapsed business time can be explained at any
moment. The rules for moving clocks are in ``sla/clocks.py``; the arithmetic in
``sla/calendar.py``.
"""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from itsm.wallclock import Weekday, time_zone_choices, validate_time_zone
from sla.calendar import Calendar


class BusinessCalendar(models.Model):
    """When the clock runs: 24×7, or weekly working periods in a named time zone; minus holidays."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", choices=time_zone_choices, validators=[validate_time_zone]
    )
    always_open = models.BooleanField(
        "24×7", default=False, help_text="Every hour of every day counts (holidays still stop the clock)."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def as_calendar(self, periods=None, holidays=None) -> Calendar:
        """The arithmetic for this calendar (pass prefetched rows to avoid queries)."""
        periods = list(self.periods.all()) if periods is None else periods
        holidays = list(self.holidays.all()) if holidays is None else holidays
        one_off = frozenset(h.date for h in holidays if not h.recurring)
        recurring = frozenset((h.date.month, h.date.day) for h in holidays if h.recurring)
        zone = ZoneInfo(self.time_zone)
        if self.always_open:
            return Calendar.twenty_four_seven(zone, one_off, recurring)
        by_day: dict[int, list] = {}
        for p in sorted(periods, key=lambda p: (p.weekday, p.start)):
            end = None if p.end == time(0) else p.end
            by_day.setdefault(p.weekday, []).append((p.start, end))
        return Calendar(
            zone=zone,
            periods={d: tuple(v) for d, v in by_day.items()},
            holidays=one_off,
            recurring=recurring,
        )

    def hours_summary(self) -> str:
        """ "Mon–Fri 09:00–17:00; Sat 09:00–12:00 (Europe/London)": consecutive days with the same
        hours are one range."""
        if self.always_open:
            return f"24×7 ({self.time_zone})"
        by_day: dict[int, list[str]] = {}
        for p in self.periods.all():
            end = "24:00" if p.end == time(0) else f"{p.end:%H:%M}"
            by_day.setdefault(p.weekday, []).append(f"{p.start:%H:%M}–{end}")
        if not by_day:
            return f"no working hours ({self.time_zone})"
        runs: list[list] = []  # [first day, last day, hours]: consecutive days with the same hours
        for day, hours in sorted(by_day.items()):
            if runs and runs[-1][2] == hours and runs[-1][1] == day - 1:
                runs[-1][1] = day
            else:
                runs.append([day, day, hours])
        parts = []
        for first, last, hours in runs:
            days = Weekday(first).label[:3] + (f"–{Weekday(last).label[:3]}" if last != first else "")
            parts.append(f"{days} {', '.join(hours)}")
        return f"{'; '.join(parts)} ({self.time_zone})"


def calendar_of(calendar: BusinessCalendar | None) -> Calendar:
    """The arithmetic of a calendar row; no calendar means 24×7 in UTC."""
    return Calendar.twenty_four_seven() if calendar is None else calendar.as_calendar()


class WorkingPeriod(models.Model):
    """One stretch of working time on a weekday, in the calendar's time zone. An end of 00:00
    means midnight at the end of the day."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")) | Q(end=time(0)), name="period_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self):
        if self.start is not None and self.end is not None and self.end != time(0) and self.end <= self.start:
            raise ValidationError({"end": "The period must end after it starts (00:00 means midnight)."})
        if self.calendar_id and self.start is not None and self.end is not None:
            end = self.end if self.end != time(0) else time.max
            for other in self.calendar.periods.filter(weekday=self.weekday).exclude(pk=self.pk):
                other_end = other.end if other.end != time(0) else time.max
                if self.start < other_end and other.start < end:
                    raise ValidationError({"start": f"This period overlaps {other}."})


class Holiday(models.Model):
    """A day the calendar does not work: once, or every year on the same month and day."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    name = models.CharField(max_length=200)
    date = models.DateField()
    recurring = models.BooleanField(default=False, help_text="Repeat every year on the same month and day.")

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="unique_holiday_per_day")]

    def __str__(self) -> str:
        return f"{self.name} ({self.date:%d %b}{' every year' if self.recurring else f' {self.date:%Y}'})"


class ClockTarget(models.TextChoices):
    RESPONSE = "response", "Response"
    RESOLUTION = "resolution", "Resolution"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped"
    CANCELLED = "cancelled", "Cancelled"


class SlaStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached", "Breached"
    MET = "met", "Met"
    PAUSED = "paused", "Paused"


# A target is at risk once this share of it is used.
AT_RISK_SHARE = 0.75


class SlaClock(models.Model):
    """One target (response or resolution) of one piece of work, measured in business time.

    ``elapsed`` is the business time banked by finished running stretches; while running, the
    stretch since ``running_since`` adds to it. ``due_at`` and ``warn_at`` are set only while
    running (they are what the sweeps look for). A reopen retires the current clocks
    (``is_current`` False, kept as history) and starts new ones.
    """

    work = models.ForeignKey("itsm.Work", on_delete=models.CASCADE, related_name="sla_clocks")
    definition = models.ForeignKey(
        "itsm.SlaDefinition", null=True, on_delete=models.SET_NULL, related_name="clocks"
    )
    # Empty: the definition had no calendar, and the clock ran 24×7 in UTC.
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="clocks"
    )
    target = models.CharField(max_length=10, choices=ClockTarget.choices)
    priority = models.CharField(max_length=2)
    target_duration = models.DurationField()
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    is_current = models.BooleanField(default=True)
    started_at = models.DateTimeField()
    running_since = models.DateTimeField(null=True, blank=True)
    elapsed = models.DurationField(default=timedelta(0))
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["work", "target", "-started_at"]
        verbose_name = "SLA clock"
        indexes = [
            models.Index(fields=["work", "is_current"], name="clock_work_current"),
            # The sweeps: only due rows are ever read.
            models.Index(
                fields=["due_at"], name="clock_due", condition=Q(state="running", breached_at__isnull=True)
            ),
            models.Index(
                fields=["warn_at"], name="clock_warn", condition=Q(state="running", warned_at__isnull=True)
            ),
            # The compliance report: finished clocks by when they stopped.
            models.Index(fields=["stopped_at"], name="clock_stopped", condition=Q(state="stopped")),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_display()} clock of {self.work_id}"

    def elapsed_at(self, at=None, calendar: Calendar | None = None) -> timedelta:
        if self.state != ClockState.RUNNING or self.running_since is None:
            return self.elapsed
        calendar = calendar or calendar_of(self.calendar)
        return self.elapsed + calendar.elapsed(self.running_since, at or timezone.now())

    def status(self, at=None) -> str:
        """in_progress, at_risk, breached, met or paused, at ``at`` (now by default)."""
        at = at or timezone.now()
        if self.breached_at is not None and self.breached_at <= at:
            return SlaStatus.BREACHED
        if self.state == ClockState.STOPPED:
            return SlaStatus.BREACHED if self.elapsed > self.target_duration else SlaStatus.MET
        if self.state == ClockState.RUNNING and self.due_at is not None and self.due_at <= at:
            return SlaStatus.BREACHED
        if self.state == ClockState.PAUSED:
            return SlaStatus.PAUSED
        if self.state == ClockState.RUNNING and self.warn_at is not None and self.warn_at <= at:
            return SlaStatus.AT_RISK
        if self.state == ClockState.CANCELLED:
            return ""
        return SlaStatus.IN_PROGRESS


class ClockEvent(models.TextChoices):
    STARTED = "started", "Started"
    PAUSED = "paused", "Paused"
    RESUMED = "resumed", "Resumed"
    STOPPED = "stopped", "Stopped"
    WARNED = "warned", "At risk (75 % used)"
    BREACHED = "breached", "Breached"
    RETARGETED = "retargeted", "Target changed"
    RETIRED = "retired", "Restarted (work reopened)"
    CANCELLED = "cancelled", "Cancelled"
    RECALCULATED = "recalculated", "Due time worked out again (calendar changed)"


class SlaClockEvent(models.Model):
    """A segment boundary of a clock: what happened, when, and how much business time had
    elapsed by then."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=ClockEvent.choices)
    at = models.DateTimeField()
    elapsed = models.DurationField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["clock", "at", "id"]
        verbose_name = "SLA clock event"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"
