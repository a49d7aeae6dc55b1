"""The change calendar on the desk: a month grid or a week of days, each day listing the changes
(their planned windows), maintenance windows and change freezes that touch it.

The entries come from ``changes.schedule.calendar`` (the same reader as the API and the feed),
so a change the user may not read is not there. Colour is never the only cue: every entry says
what it is in words ("Change", "Maintenance", "Freeze"). Works without JavaScript: the view and
the date are query parameters, and previous / next are links.
"""

from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views import View

from changes import feeds, schedule
from changes.models import Change, ChangeFreeze, MaintenanceWindow
from itsm import policy
from itsm.errors import InvalidInput
from itsm.views.base import DeskMixin

VIEWS = {"month": "Month", "week": "Week"}
# A month cell lists this many entries; the rest are "n more", a link to that day's week.
MONTH_CELL_ENTRIES = 4
KIND_LABELS = {"change": "Change", "maintenance": "Maintenance", "freeze": "Freeze"}
KIND_COLOURS = {"change": "blue", "maintenance": "green", "freeze": "red"}


@dataclass
class Day:
    date: date
    in_month: bool = True
    today: bool = False
    entries: list = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(0, len(self.entries) - MONTH_CELL_ENTRIES)

    @property
    def shown(self) -> list:
        return self.entries[:MONTH_CELL_ENTRIES]


def _value(entry, name: str):
    """An entry's attribute, whether the schedule answers objects or dicts."""
    return entry[name] if isinstance(entry, dict) else getattr(entry, name)


@dataclass(frozen=True)
class Shown:
    """An entry as the page shows it on one day."""

    kind: str
    label: str
    colour: str
    title: str
    start: datetime
    end: datetime
    url: str | None
    starts_today: bool
    ends_today: bool

    @property
    def when(self) -> str:
        """When it runs, as seen from the day it is shown on."""
        end = "24:00" if self.ends_today and (self.end.hour, self.end.minute) == (0, 0) else f"{self.end:%H:%M}"
        if self.starts_today and self.ends_today:
            return f"{self.start:%H:%M}–{end}"
        if self.starts_today:
            return f"from {self.start:%H:%M}, until {self.end:%-d %b %H:%M}"
        if self.ends_today:
            return f"until {end} (since {self.start:%-d %b})"
        return f"all day ({self.start:%-d %b} – {self.end:%-d %b})"


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), zone)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), zone)
    return start, end


_PK = 2_147_480_001  # a placeholder id: each kind's URL is reversed once, then filled in


def _url(entry, linked: frozenset[str], patterns: dict) -> str | None:
    """The entry's page, for the kinds the user may open (windows and freezes are kept in the
    admin: linked only for those who may edit them there). ``patterns`` keeps each URL name's
    reversed pattern, so a month of a thousand changes costs one ``reverse`` per kind."""
    name = _value(entry, "url_name") if _has(entry, "url_name") else None
    if not name or _value(entry, "kind") not in linked:
        return None
    if name not in patterns:
        try:
            patterns[name] = reverse(name, args=[_PK])
        except NoReverseMatch:
            patterns[name] = None
    pattern = patterns[name]
    return pattern.replace(str(_PK), str(_value(entry, "id"))) if pattern else None


def _has(entry, name: str) -> bool:
    return name in entry if isinstance(entry, dict) else hasattr(entry, name)


def place(entries, days: list[Day], linked: frozenset[str] = frozenset({"change"})) -> None:
    """Put each entry on every day of ``days`` it overlaps (a half-open [start, end) window),
    freezes first, then maintenance windows, then changes, each by start time. Each entry visits
    only the days it covers (a month of a thousand changes is a thousand steps, not forty
    thousand)."""
    if not days:
        return
    order = {"freeze": 0, "maintenance": 1, "change": 2}
    rows = sorted(entries, key=lambda e: (order.get(_value(e, "kind"), 3), _value(e, "start"), str(_value(e, "title"))))
    first = days[0].date
    bounds = [_day_bounds(day.date) for day in days]
    patterns: dict = {}
    for entry in rows:
        e_start, e_end = _value(entry, "start"), _value(entry, "end")
        kind = _value(entry, "kind")
        url = _url(entry, linked, patterns)
        local_start, local_end = _local(e_start), _local(e_end)
        index = max(0, (local_start.date() - first).days)
        while index < len(days):
            start, end = bounds[index]
            if e_start >= end:
                index += 1
                continue
            if e_end <= start:
                break
            days[index].entries.append(
                Shown(
                    kind=kind,
                    label=KIND_LABELS.get(kind, kind.capitalize()),
                    colour=KIND_COLOURS.get(kind, "grey"),
                    title=str(_value(entry, "title")),
                    start=local_start,
                    end=local_end,
                    url=url,
                    starts_today=e_start >= start,
                    ends_today=e_end <= end,
                )
            )
            index += 1


def month_days(anchor: date, today: date) -> list[list[Day]]:
    """The weeks (Monday first) that show ``anchor``'s month, each a list of seven days."""
    first = anchor.replace(day=1)
    last = anchor.replace(day=pycalendar.monthrange(anchor.year, anchor.month)[1])
    start = first - timedelta(days=first.weekday())
    end = last + timedelta(days=6 - last.weekday())
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    cells = [Day(d, in_month=d.month == anchor.month, today=d == today) for d in days]
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def week_days(anchor: date, today: date) -> list[Day]:
    monday = anchor - timedelta(days=anchor.weekday())
    return [Day(monday + timedelta(days=n), today=monday + timedelta(days=n) == today) for n in range(7)]


def shift_month(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, 1)


def linked_kinds(user) -> frozenset[str]:
    """Which kinds of entry link to a page for ``user``: changes (their desk page), and
    maintenance windows and freezes for those who edit them in the admin."""
    kinds = {"change"}
    if policy.has_permission(user, "admin.access"):
        for kind, model in (("maintenance", MaintenanceWindow), ("freeze", ChangeFreeze)):
            if policy.can(user, "update", model):
                kinds.add(kind)
    return frozenset(kinds)


class CalendarRequestError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def parse(params, today: date) -> tuple[str, date]:
    """``view`` (month or week, default month) and ``date`` (YYYY-MM-DD, default today)."""
    view = params.get("view") or "month"
    if view not in VIEWS:
        raise CalendarRequestError("view", f"“{view[:40]}” is not a calendar view: use month or week.")
    raw = params.get("date") or ""
    if not raw:
        return view, today
    try:
        anchor = date.fromisoformat(raw)
    except ValueError:
        raise CalendarRequestError("date", f"“{raw[:40]}” is not a date: write it as YYYY-MM-DD.") from None
    if not 1970 <= anchor.year < 2200:
        raise CalendarRequestError("date", "Pick a date between 1970 and 2199.")
    return view, anchor


class CalendarView(DeskMixin, View):
    """``?view=month|week&date=YYYY-MM-DD``: the month (or week) around the date, with links to
    the previous and next one and to today. A bad view or date is a 400 that says which."""

    template_name = "changes/desk/calendar.html"

    def get(self, request):
        user = request.user
        if not policy.can(user, "read", Change):
            raise Http404("No such page.")
        today = timezone.localdate()
        try:
            view, anchor = parse(request.GET, today)
        except CalendarRequestError as exc:
            context = {"error": exc.message, "error_field": exc.field, "view_name": "month", "views": VIEWS}
            return render(request, self.template_name, context, status=400)
        if view == "month":
            weeks = month_days(anchor, today)
            days = [day for week in weeks for day in week]
            previous, following = shift_month(anchor, -1), shift_month(anchor, 1)
            title = anchor.strftime("%B %Y")
        else:
            weeks = [week_days(anchor, today)]
            days = weeks[0]
            previous, following = anchor - timedelta(days=7), anchor + timedelta(days=7)
            title = f"Week of {days[0].date:%-d %B %Y}"
        start, _ = _day_bounds(days[0].date)
        _, end = _day_bounds(days[-1].date)
        try:
            entries = schedule.calendar(start, end, user=user)
        except InvalidInput as exc:  # cannot happen for a month or a week; said plainly if it does
            context = {"error": exc.message, "error_field": "date", "view_name": view, "views": VIEWS}
            return render(request, self.template_name, context, status=400)
        place(entries, days, linked_kinds(user))
        context = {
            "view_name": view,
            "views": VIEWS,
            "title": title,
            "anchor": anchor,
            "weeks": weeks,
            "days": days,
            "previous": previous,
            "following": following,
            "today": today,
            "weekday_names": [pycalendar.day_name[n] for n in range(7)],
            "count": len({(_value(e, "kind"), _value(e, "id")) for e in entries}),
            "feed_url": reverse("desk:change-feed"),
            "zone": timezone.get_current_timezone_name(),
            "legend": [(kind, KIND_LABELS[kind], KIND_COLOURS[kind]) for kind in ("change", "maintenance", "freeze")],
        }
        return render(request, self.template_name, context)


class FeedView(DeskMixin, View):
    """One's own link to the change calendar as an iCalendar feed (``changes.feeds``: made on
    first use, secret, the same entries as this calendar), and a button to change it."""

    template_name = "changes/desk/feed.html"

    def get(self, request):
        if not policy.can(request.user, "read", Change):
            raise Http404("No such page.")
        token = feeds.feed_token(user=request.user)
        context = {"feed_url": request.build_absolute_uri(feeds.feed_path(token))}
        return render(request, self.template_name, context)

    def post(self, request):
        if not policy.can(request.user, "read", Change):
            raise Http404("No such page.")
        feeds.feed_reset(actor=request.user)
        messages.success(request, "Your calendar feed has a new link; the old one no longer works.")
        return redirect("desk:change-feed")
