"""The SLA compliance report: how many finished SLA measurements met their target.

What is measured (issue #4, item 9):

* A measurement is one SLA clock that **stopped** (``state="stopped"``) with ``stopped_at`` in
  ``[start, end)``: a response clock at the first agent response or acknowledgment, a
  resolution clock at resolution. Running and paused clocks are not finished yet; cancelled
  clocks (cancelled work, a target the new priority does not have, a clock still running when
  the work was reopened) are never measured.
* A reopened incident retires its clocks (``is_current=False``) and starts new ones. A retired
  clock that had already stopped is a finished measurement of its own cycle and is counted; so
  an incident resolved, reopened and resolved again gives two resolution measurements.
* A measurement is **met** when the business time used is within the target and no breach was
  recorded (``elapsed <= target_duration`` and ``breached_at`` empty); otherwise **breached**.
  This is ``SlaClock.status()`` for a stopped clock.
* Periods (day, ISO week starting Monday, month) are cut in the installation's time zone
  (``settings.TIME_ZONE``), as are dates given without a time.

Everything is counted in the database: one grouped query per breakdown (five in all), whatever
the number of clocks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from itsm import policy
from itsm.errors import InvalidInput
from itsm.models import AssignmentGroup, Organisation, Priority
from itsm.validators import is_possible_pk
from sla.models import ClockState, ClockTarget, SlaClock

PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
MAX_DAYS = 366
DEFAULT_WEEKS = 12
MIN_YEAR, MAX_YEAR = 1900, 9998
# Met: within the target and no breach recorded (a stopped clock's SlaClock.status() is "met").
MET = Q(breached_at__isnull=True, elapsed__lte=F("target_duration"))
NO_GROUP = "No assignment group"
NO_ORGANISATION = "No organisation"


def report_zone() -> ZoneInfo:
    """The zone periods are cut in and bare dates mean: the installation's (settings.TIME_ZONE)."""
    return timezone.get_default_timezone()


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _moment(value, *, field: str, is_end: bool, zone: ZoneInfo) -> datetime:
    """A bound as an aware datetime. A date means midnight at its start; as the end, the whole
    day is included (midnight at the start of the next day). A naive time is in ``zone``."""
    if isinstance(value, datetime):
        moment = value if timezone.is_aware(value) else value.replace(tzinfo=zone)
    elif isinstance(value, date) and MIN_YEAR <= value.year <= MAX_YEAR:
        moment = _midnight(value + timedelta(days=1) if is_end else value, zone)
    else:
        moment = None
    if moment is None or not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise InvalidInput(
            f"“{field}” is out of range.", fields={field: [f"Give a date between {MIN_YEAR} and {MAX_YEAR}."]}
        )
    return moment


def counts(measured: int, met: int) -> dict:
    return {
        "measured": measured,
        "met": met,
        "breached": measured - met,
        "met_percent": round(100 * met / measured, 1) if measured else None,
    }


def default_range(zone: ZoneInfo, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last 12 weeks: from the Monday 11 weeks before this week's, to the end of today."""
    today = (now or timezone.now()).astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    return _midnight(monday - timedelta(weeks=DEFAULT_WEEKS - 1), zone), _midnight(
        today + timedelta(days=1), zone
    )


def buckets(start: datetime, end: datetime, period: str, zone: ZoneInfo) -> list[date]:
    """The first local day of every period that overlaps ``[start, end)``, in order."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    if period == "week":
        first -= timedelta(days=first.weekday())
    elif period == "month":
        first = first.replace(day=1)
    days = []
    while first <= last:
        days.append(first)
        if period == "day":
            first += timedelta(days=1)
        elif period == "week":
            first += timedelta(weeks=1)
        else:
            first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return days


def _validate(*, start, end, period, priority, group, organisation, target) -> None:
    if period not in PERIODS:
        raise InvalidInput(
            f"Unknown period “{period}”.", fields={"period": [f"Choose one of: {', '.join(PERIODS)}."]}
        )
    if end <= start:
        raise InvalidInput(
            "The end is not after the start.", fields={"end": ["The end must be after the start."]}
        )
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidInput(
            "The range is too long.", fields={"end": [f"A report covers at most {MAX_DAYS} days."]}
        )
    if priority is not None and priority not in Priority.values:
        raise InvalidInput(
            f"Unknown priority “{priority}”.",
            fields={"priority": [f"Choose one of: {', '.join(Priority.values)}."]},
        )
    if target is not None and target not in ClockTarget.values:
        raise InvalidInput(
            f"Unknown target “{target}”.",
            fields={"target": [f"Choose one of: {', '.join(ClockTarget.values)}."]},
        )
    for field, value in (("assignment_group", group), ("organisation", organisation)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidInput(f"“{field}” is not an id.", fields={field: ["Give the id of one record."]})


def compliance(
    *,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    period: str = "week",
    priority: str | None = None,
    group: int | None = None,
    organisation: int | None = None,
    target: str | None = None,
    user=None,
) -> dict:
    """Met and breached SLA measurements (clocks that stopped in ``[start, end)``): overall, per
    period, priority, assignment group, organisation and target. ``user`` narrows to the clocks
    the policy lets it read. Bad input raises ``InvalidInput`` naming the field."""
    zone = report_zone()
    default_start, default_end = default_range(zone)
    if end is None:
        end = default_end
    else:
        end = _moment(end, field="end", is_end=True, zone=zone)
    if start is None:
        start = default_start if end == default_end else end - timedelta(weeks=DEFAULT_WEEKS)
    else:
        start = _moment(start, field="start", is_end=False, zone=zone)
    _validate(
        start=start, end=end, period=period, priority=priority, group=group,
        organisation=organisation, target=target,
    )  # fmt: skip

    clocks = SlaClock.objects.all() if user is None else policy.readable(user, SlaClock)
    clocks = clocks.filter(state=ClockState.STOPPED, stopped_at__gte=start, stopped_at__lt=end)
    if priority is not None:
        clocks = clocks.filter(priority=priority)
    if group is not None:
        clocks = clocks.filter(work__assignment_group_id=group)
    if organisation is not None:
        clocks = clocks.filter(work__organisation_id=organisation)
    if target is not None:
        clocks = clocks.filter(target=target)

    def grouped(*keys, **annotations):
        return list(
            clocks.annotate(**annotations)
            .values(*keys)
            .annotate(measured=Count("pk"), met=Count("pk", filter=MET))
            .order_by()
        )

    # Periods: every period of the range, empty ones too, so a chart shows the gaps.
    by_bucket = {
        row["bucket"].astimezone(zone).date(): row
        for row in grouped("bucket", bucket=PERIODS[period]("stopped_at", tzinfo=zone))
    }
    by_period = [
        {"period": day, **counts(*_pair(by_bucket.get(day)))} for day in buckets(start, end, period, zone)
    ]

    by_target_rows = {row["target"]: row for row in grouped("target")}
    by_target = [
        {"target": value, "label": label, **counts(*_pair(by_target_rows.get(value)))}
        for value, label in ClockTarget.choices
        if target is None or value == target
    ]

    by_priority_rows = {row["priority"]: row for row in grouped("priority")}
    known = [p for p in Priority.values if priority is None or p == priority]
    by_priority = [
        {"priority": value, **counts(*_pair(by_priority_rows.get(value)))}
        for value in known + sorted(set(by_priority_rows) - set(known))
    ]

    by_group = _named(
        grouped("work__assignment_group", "work__assignment_group__name"), "work__assignment_group", NO_GROUP
    )
    by_organisation = _named(
        grouped("work__organisation", "work__organisation__name"), "work__organisation", NO_ORGANISATION
    )

    overall = counts(
        sum(r["measured"] for r in by_target_rows.values()), sum(r["met"] for r in by_target_rows.values())
    )
    return {
        "start": start,
        "end": end,
        "period": period,
        "time_zone": str(zone),
        "filters": {
            "priority": priority,
            "assignment_group": group,
            "organisation": organisation,
            "target": target,
        },
        "overall": overall,
        "by_period": by_period,
        "by_priority": by_priority,
        "by_assignment_group": by_group,
        "by_organisation": by_organisation,
        "by_target": by_target,
    }


def _pair(row) -> tuple[int, int]:
    return (row["measured"], row["met"]) if row else (0, 0)


def _named(rows, key: str, none_label: str) -> list[dict]:
    """Rows by a related record: its id and name, by name; work without one comes last."""
    out = [
        {"id": row[key], "name": row[f"{key}__name"] or none_label, **counts(row["measured"], row["met"])}
        for row in rows
    ]
    return sorted(out, key=lambda r: (r["id"] is None, r["name"].casefold(), r["id"] or 0))


# --- Reading a query string (API and desk) --------------------------------------------------


def _text(params: Mapping, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _bound(value: str | None, field: str) -> date | datetime | None:
    if value is None:
        return None
    if "\x00" not in value:
        if len(value) == 10:
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    raise InvalidInput(
        f"“{field}” is not a date or a date and time.",
        fields={field: ["Give an ISO date (2024-03-31) or date and time (2024-03-31T17:00:00Z)."]},
    )


def _record_id(value: str | None, field: str, model) -> int | None:
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or not is_possible_pk(model, value):
        raise InvalidInput(f"“{field}” is not an id.", fields={field: ["Give the id of one record."]})
    if not model.objects.filter(pk=int(value)).exists():
        raise InvalidInput(
            f"No {model._meta.verbose_name} has id {value}.",
            fields={field: [f"No {model._meta.verbose_name} has id {value}."]},
        )
    return int(value)


def params_from(query: Mapping) -> dict:
    """The report's keyword arguments from a query string (``start``, ``end``, ``period``,
    ``priority``, ``assignment_group``, ``organisation``, ``target``); empty values are not
    given. Bad values raise ``InvalidInput`` naming the parameter."""
    return {
        "start": _bound(_text(query, "start"), "start"),
        "end": _bound(_text(query, "end"), "end"),
        "period": _text(query, "period") or "week",
        "priority": _text(query, "priority"),
        "group": _record_id(_text(query, "assignment_group"), "assignment_group", AssignmentGroup),
        "organisation": _record_id(_text(query, "organisation"), "organisation", Organisation),
        "target": _text(query, "target"),
    }
