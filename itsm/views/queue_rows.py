"""A desk queue's rows, written in Python: one ``<tr>`` per record, its cells in the order of the
columns the reader sees.

A queue page shows 25 to 100 rows of ten cells. Written by the template language, each cell's
variables, filters, ``{% url %}``s and the row's "Take" form cost about 0.4 ms a row — a third of
the incident queue's time. Here a cell is one ``format_html`` call, the record's link and the
"Take" address are built once per page and the CSRF token is read once: the same markup (the
queue tests read it) in a fraction of the time. The template keeps the table, its head and
caption; each kind's list template writes ``{% for row in rows %}{{ row }}{% endfor %}``.

The shared cells (number, short description, state, priority, SLA, group and people, dates)
cover every kind; a kind adds or overrides cells for its own columns (``Queue.cells``: a
column's name → ``cell(record, rows, link, name) -> str``); a column without a cell shows its
value.
"""

from __future__ import annotations

from collections.abc import Callable

from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from itsm.templatetags.itsm_ui import state_label

DASH = mark_safe('<span class="muted">—</span>')
_SENTINEL = 987654321987  # a primary key no table reaches: reversed once, replaced per row


def address_of(url_name: str) -> Callable[[int], str]:
    """``pk → reverse(url_name, args=[pk])``, reversing once per page (a reverse is ~30 µs)."""
    url = reverse(url_name, args=[_SENTINEL])
    before, marker, after = url.partition(str(_SENTINEL))
    if not marker or str(_SENTINEL) in after:  # not a plain "<pk>" segment: reverse each time
        return lambda pk: reverse(url_name, args=[pk])
    return lambda pk: f"{before}{pk}{after}"


def when(value, *, year: bool = True) -> str:
    """A date and time as the desk's templates write them (``date:"j M Y"`` and ``"H:i"``, local
    time, the month's short name in the reader's language), the time wrapping under the date;
    without the year for a due time. Written out here: ``dateformat`` parses its format for
    every value, the better part of a row's time."""
    if value is None:
        return DASH
    local = timezone.localtime(value)
    day = f"{local.day} {MONTHS_3[local.month].title()}"
    return format_html(
        '<time datetime="{}"><span class="when">{}</span> <span class="when">{}</span></time>',
        local.isoformat(), f"{day} {local.year}" if year else day, f"{local.hour:02d}:{local.minute:02d}",
    )  # fmt: skip


def named(value) -> str:
    """A related row (a person, a group) by its name, or a dash."""
    return DASH if value is None else escape(str(value))


class Rows:
    """The rows of one queue page. ``detail`` is the URL name of a record's page; ``cells`` the
    kind's own cells; ``take`` the context of ``itsm.views.assign.take_context`` (rows marked
    ``take_offered``) and ``bulk`` whether rows carry the bulk form's checkbox."""

    def __init__(self, request, *, columns, detail: str, cells=None, hidden=frozenset(), take=None, bulk=False):
        self.request, self.hidden, self.bulk = request, hidden, bulk
        self.names = [column["name"] for column in columns]
        self.link = address_of(detail)
        self.cells = {**CELLS, **(cells or {})}
        take = take or {}
        self.take_any = bool(take.get("take_any"))
        if self.take_any:
            self.take_url = address_of(take["take_url"])
            self.take_next = take["take_next"]
            self.csrf = get_token(request)
        self.show_sla_due = "sla_due_at" not in hidden

    def row(self, record) -> SafeString:
        link = self.link(record.pk)
        parts = ["<tr>"]
        if self.bulk:
            parts.append(format_html(
                '<td><input type="checkbox" name="ids" value="{}" form="queue-bulk" aria-label="Select {}"></td>',
                record.pk, record.number,
            ))  # fmt: skip
        for name in self.names:
            parts.append((self.cells.get(name) or value_cell)(record, self, link, name))
        if self.take_any:
            parts.append(self.take_cell(record))
        parts.append("</tr>")
        return mark_safe("".join(parts))  # every cell above is escaped by format_html / escape

    def take_cell(self, record) -> str:
        if not getattr(record, "take_offered", False):
            return '<td class="nowrap"></td>'
        return format_html(
            '<td class="nowrap"><form method="post" action="{}" class="inline-form assign-to-me">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">'
            '<button type="submit" class="button button-small" aria-label="Take: {}">Take</button></form></td>',
            self.take_url(record.pk), self.csrf, self.take_next, record.number,
        )  # fmt: skip

    def __call__(self, records) -> list[SafeString]:
        return [self.row(record) for record in records]


# --- The shared cells: cell(record, rows, link, name) -> html ---------------------------------


def value_cell(record, rows, link, name):
    """A column without a cell of its own: its value, escaped (a related row by its name)."""
    return format_html("<td>{}</td>", named(getattr(record, name, None)))


def number_cell(record, rows, link, name=None):
    return format_html('<td class="nowrap mono"><a href="{}">{}</a></td>', link, record.number)


def title_cell(record, rows, link, name=None):
    return format_html('<td><a href="{}">{}</a></td>', link, record.short_description)


def state_badge(record) -> str:
    return format_html('<span class="badge state state-{}">{}</span>', record.state, state_label(record.state))


def state_cell(record, rows, link, name=None):
    return format_html("<td>{}</td>", state_badge(record))


def priority_cell(record, rows, link, name=None):
    if not record.priority:
        return format_html("<td>{}</td>", DASH)
    return format_html(
        '<td><span class="badge priority priority-{}" title="{}">{}</span></td>',
        record.priority, record.get_priority_display(), record.priority,
    )  # fmt: skip


def sla_cell(record, rows, link, name=None):
    """The live SLA status the view put on the row (``sla_live``, ``sla_live_label``)."""
    status = getattr(record, "sla_live", None)
    if not status:
        return format_html("<td>{}</td>", DASH)
    due = ""
    if rows.show_sla_due and record.sla_due_at:
        due = format_html('<br><span class="muted">due {}</span>', when(record.sla_due_at, year=False))
    return format_html('<td><span class="badge sla sla-{}">{}</span>{}</td>', status, record.sla_live_label, due)


def related_cell(name: str):
    return lambda record, rows, link, _=None: format_html("<td>{}</td>", named(getattr(record, name)))


def date_cell(name: str):
    return lambda record, rows, link, _=None: format_html("<td>{}</td>", when(getattr(record, name)))


CELLS: dict[str, Callable] = {
    "number": number_cell,
    "short_description": title_cell,
    "state": state_cell,
    "priority": priority_cell,
    "sla_status": sla_cell,
    "assignment_group": related_cell("assignment_group"),
    "assignee": related_cell("assignee"),
    "requester": related_cell("requester"),
    "requested_for": related_cell("requested_for"),
    "opened_at": date_cell("opened_at"),
    "updated_at": date_cell("updated_at"),
}
