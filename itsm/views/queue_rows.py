"""A desk queue's rows, written in Python: one ``<tr>`` per record, its cells in the order of the
columns the reader sees.

A queue page shows 25 to 100 rows of ten cells. Written by the template language, each cell's
variables, filters, ``{% url %}``s and the row's "Take" form cost about 0.4 ms a row — a third of
the incident queue's time. Here a cell is one f-string whose values go through ``esc`` (the
standard library's ``html.escape``, which Django's ``escape`` calls too, without its lazy-string
wrapper: ``format_html`` cost 10 µs a cell), the record's link and the "Take" address are built
once per page, the CSRF token is read once and a month's name is translated once: the same markup
(the queue tests read it) in a fraction of the time. The template keeps the table, its head and
caption; each kind's list template writes ``{% for row in rows %}{{ row }}{% endfor %}``.

The shared cells (number, short description, state, priority, SLA, group and people, dates)
cover every kind; a kind adds or overrides cells for its own columns (``Queue.cells``: a
column's name → ``cell(record, rows, link, name) -> str``); a column without a cell shows its
value.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape as _escape

from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from itsm.dates import month_names
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


def esc(value) -> str:
    """``value`` as HTML text: escaped, unless it is already safe markup (``conditional_escape``)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape(str(value))


def when(value, *, year: bool = True, tz=None, months: tuple[str, ...] | None = None) -> str:
    """A date and time as the desk's templates write them (``date:"j M Y"`` and ``"H:i"``, local
    time, the month's short name in the reader's language), the time wrapping under the date;
    without the year for a due time. Written out here: ``dateformat`` parses its format for
    every value, the better part of a row's time. A page of rows passes the time zone and the
    month names it read once (``Rows.when``)."""
    if value is None:
        return DASH
    local = value.astimezone(tz or timezone.get_current_timezone())
    day = f"{local.day} {(months or month_names())[local.month]}"
    if year:
        day = f"{day} {local.year}"
    return mark_safe(
        f'<time datetime="{local.isoformat()}"><span class="when">{day}</span>'
        f' <span class="when">{local.hour:02d}:{local.minute:02d}</span></time>'
    )


def named(value) -> str:
    """A related row (a person, a group) by its name, or a dash."""
    return DASH if value is None else mark_safe(_escape(str(value)))


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
        self.tz, self.months = timezone.get_current_timezone(), month_names()
        self._labels: dict[tuple[type, str], dict] = {}

    def when(self, value, *, year: bool = True) -> str:
        """``when`` in the page's time zone and language, read once for all the rows."""
        return when(value, year=year, tz=self.tz, months=self.months)

    def label(self, record, name: str) -> str:
        """The label of a field's choice (``get_<name>_display``), the choices read once a page."""
        key = (type(record), name)
        labels = self._labels.get(key)
        if labels is None:
            field = record._meta.get_field(name)
            labels = self._labels[key] = {value: str(text) for value, text in field.flatchoices}
        value = getattr(record, name)
        return labels.get(value, value)

    def row(self, record) -> SafeString:
        link = self.link(record.pk)
        parts = ["<tr>"]
        if self.bulk:
            parts.append(
                f'<td><input type="checkbox" name="ids" value="{record.pk}" form="queue-bulk"'
                f' aria-label="Select {esc(record.number)}"></td>'
            )
        for name in self.names:
            parts.append((self.cells.get(name) or value_cell)(record, self, link, name))
        if self.take_any:
            parts.append(self.take_cell(record))
        parts.append("</tr>")
        return mark_safe("".join(parts))  # each cell escapes its values (``esc``, a kind's ``format_html``)

    def take_cell(self, record) -> str:
        if not getattr(record, "take_offered", False):
            return '<td class="nowrap"></td>'
        return (
            f'<td class="nowrap"><form method="post" action="{esc(self.take_url(record.pk))}"'
            ' class="inline-form assign-to-me">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{esc(self.csrf)}">'
            f'<input type="hidden" name="next" value="{esc(self.take_next)}">'
            f'<button type="submit" class="button button-small" aria-label="Take: {esc(record.number)}">'
            "Take</button></form></td>"
        )

    def __call__(self, records) -> list[SafeString]:
        return [self.row(record) for record in records]


# --- The shared cells: cell(record, rows, link, name) -> html ---------------------------------


def value_cell(record, rows, link, name):
    """A column without a cell of its own: its value, escaped (a related row by its name)."""
    return f"<td>{named(getattr(record, name, None))}</td>"


def number_cell(record, rows, link, name=None):
    return f'<td class="nowrap mono"><a href="{esc(link)}">{esc(record.number)}</a></td>'


def title_cell(record, rows, link, name=None):
    return f'<td><a href="{esc(link)}">{esc(record.short_description)}</a></td>'


def state_badge(record) -> str:
    state = esc(record.state)
    return mark_safe(f'<span class="badge state state-{state}">{esc(state_label(record.state))}</span>')


def state_cell(record, rows, link, name=None):
    return f"<td>{state_badge(record)}</td>"


def priority_cell(record, rows, link, name=None):
    if not record.priority:
        return f"<td>{DASH}</td>"
    priority = esc(record.priority)
    return (
        f'<td><span class="badge priority priority-{priority}" title="{esc(rows.label(record, "priority"))}">'
        f"{priority}</span></td>"
    )


def sla_cell(record, rows, link, name=None):
    """The live SLA status the view put on the row (``sla_live``, ``sla_live_label``)."""
    status = getattr(record, "sla_live", None)
    if not status:
        return f"<td>{DASH}</td>"
    due = ""
    if rows.show_sla_due and record.sla_due_at:
        due = f'<br><span class="muted">due {rows.when(record.sla_due_at, year=False)}</span>'
    return f'<td><span class="badge sla sla-{esc(status)}">{esc(record.sla_live_label)}</span>{due}</td>'


def related_cell(name: str):
    return lambda record, rows, link, _=None: f"<td>{named(getattr(record, name))}</td>"


def date_cell(name: str):
    return lambda record, rows, link, _=None: f"<td>{rows.when(getattr(record, name))}</td>"


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
