"""Pagination that stays fast on a million rows: a capped count, and keyset pages past it.

An exact ``COUNT(*)`` over a queue of a million incidents costs more than the page itself. The
``CappedPaginator`` counts at most ``cap + 1`` rows (``SELECT COUNT(*) FROM (… LIMIT cap + 1)``,
which stops early on an index; a kind of Work filtered on Work columns only is counted on
``itsm_work`` alone, ``work_rows``); past the cap it says "more than 1,000" and still serves every
later page: a page past the counted ones exists while it has rows. Pages and the API say when
the count is a lower bound (``count_capped``).

A deep page by number pays for its ``OFFSET``: the database reads and throws away every row
before it (page 2,001 of 25 rows reads 50,000). So once the next page would start past the
counted rows, the way on is a *cursor* instead (keyset pagination): the position of the page's
last row in the list's ordering, and the next page is "the first rows strictly after it", which
an index on the ordering serves as cheaply as the first page. ``Keyset`` is that one
implementation, used by the API (``?cursor=``) and the desk and portal pages (``?after=`` and
``?before=``).

A cursor is only offered when it is safe: the ordering must be total (end in the primary key or
a unique field), name no nullable field (NULLs sort differently per database and would be
skipped by a ``>`` bound) and no field the policy hides from the reader (a cursor carries the
values of its fields, and a token is readable by anyone who holds it). Otherwise pages keep
their numbers.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import models
from django.db.models import Q
from django.db.models.expressions import Col, RawSQL
from django.db.models.fields.reverse_related import ForeignObjectRel
from django.db.models.sql.datastructures import Join
from django.db.models.sql.where import AND, ExtraWhere
from django.utils.functional import cached_property

from itsm import policy
from itsm.models import Work
from itsm.ordering import flip

COUNT_CAP = 1_000
NEXT, PREVIOUS = "next", "previous"
# Tokens we hand out are ~100 characters; a longer one is not ours (and bounds the JSON parsed).
MAX_TOKEN_LENGTH = 1_000
# The largest row offset a database accepts (PostgreSQL and SQLite: a signed 64-bit integer).
MAX_OFFSET = 2**63 - 1

CURSOR_INVALID = "This cursor is not valid for this list; start again from the first page."
CURSOR_UNAVAILABLE = "This list cannot be paged by cursor in this order; use page numbers instead."


class InvalidCursor(ValueError):
    """A cursor that is garbage, was made for another ordering, or whose values do not parse."""

    def __init__(self, message: str = CURSOR_INVALID):
        super().__init__(message)


# --- Keyset: cursors over a total ordering --------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position in a list (the ordering values of one row), and which way to read from it."""

    values: tuple
    direction: str  # NEXT: the rows after the position; PREVIOUS: the rows before it


@dataclass
class Window:
    """The rows of one keyset page, in the list's order, and the cursors to the pages around it."""

    rows: list
    has_next: bool
    has_previous: bool
    next_cursor: str | None
    previous_cursor: str | None


def _dump(value):
    """A row's ordering value as JSON: datetimes in UTC ISO 8601, other non-JSON types as text."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def _load(field: models.Field, raw):
    """The value of ``field`` a token carries, or ``InvalidCursor``.

    It must parse as the field's type and serialise back to exactly the same JSON value (so a
    string where a number belongs, a local time where UTC belongs, or a float for an id is
    refused rather than coerced), and pass the field's validators (which bound integers to
    what the database column holds, so a huge number is a 400 and not a database error).
    """
    try:
        if isinstance(field, models.DateTimeField):
            if not isinstance(raw, str):
                raise InvalidCursor
            value = datetime.fromisoformat(raw)
            if settings.USE_TZ:
                if value.tzinfo is None:
                    raise InvalidCursor
                value = value.astimezone(UTC)
        else:
            value = field.to_python(raw)
        if value is None or type(_dump(value)) is not type(raw) or _dump(value) != raw:
            raise InvalidCursor
        field.run_validators(value)
    except (ValidationError, TypeError, ValueError, OverflowError):
        raise InvalidCursor from None
    if isinstance(value, str) and "\x00" in value:
        raise InvalidCursor  # PostgreSQL refuses a NUL character in a query
    return value


@dataclass(frozen=True)
class Keyset:
    """Cursors over one total ordering, e.g. ``("-opened_at", "-id")``: make them from rows,
    read them from tokens, and cut a page of rows after or before one.

    Build it with ``keyset_for`` (which checks that the ordering is safe for cursors)."""

    ordering: tuple[str, ...]
    fields: tuple[models.Field, ...]

    def values_of(self, row) -> tuple:
        return tuple(field.value_from_object(row) for field in self.fields)

    def encode(self, row, direction: str = NEXT) -> str:
        """A token for the position of ``row``: url-safe base64 of compact JSON."""
        payload = {
            "ordering": list(self.ordering),
            "values": [_dump(value) for value in self.values_of(row)],
            "direction": direction,
        }
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode("ascii")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def decode(self, token: str) -> Cursor:
        """The cursor a token carries, or ``InvalidCursor`` if it is not one of this ordering's."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidCursor
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
            payload = json.loads(raw)
        except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
            raise InvalidCursor from None
        if not isinstance(payload, dict) or set(payload) != {"ordering", "values", "direction"}:
            raise InvalidCursor
        values = payload["values"]
        if (
            payload["ordering"] != list(self.ordering)
            or payload["direction"] not in (NEXT, PREVIOUS)
            or not isinstance(values, list)
            or len(values) != len(self.fields)
        ):
            raise InvalidCursor
        return Cursor(
            values=tuple(_load(field, value) for field, value in zip(self.fields, values, strict=True)),
            direction=payload["direction"],
        )

    def beyond(self, cursor: Cursor) -> Q:
        """Rows strictly after the position (before it, reading backwards), each field in its
        own direction: ``(a > x) OR (a = x AND b > y) OR …``. The leading field's bound
        (``a >= x``) is repeated outside the OR, so PostgreSQL starts an index range scan at the
        position instead of filtering the whole index."""
        backwards = cursor.direction == PREVIOUS
        terms = []
        for name, value in zip(self.ordering, cursor.values, strict=True):
            descending = name.startswith("-") != backwards
            terms.append((name.lstrip("-"), value, descending))
        condition, equal = Q(), Q()
        for name, value, descending in terms:
            condition |= equal & Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
            equal &= Q(**{name: value})
        if len(terms) > 1:
            name, value, descending = terms[0]
            condition &= Q(**{f"{name}__{'lte' if descending else 'gte'}": value})
        return condition

    def window(self, queryset: models.QuerySet, cursor: Cursor, size: int) -> Window:
        """Up to ``size`` rows after (or before) the cursor, in the list's order, in one query.

        One row more than the page is read to know whether there is a further page. Reading
        backwards uses the reversed ordering and turns the rows round, so "previous" is as
        cheap as "next". The other way is assumed to go on while the page has rows: the row the
        cursor was made from is there (unless it was deleted meanwhile, and then the page that
        link leads to is simply empty)."""
        backwards = cursor.direction == PREVIOUS
        ordering = [flip(name) for name in self.ordering] if backwards else list(self.ordering)
        rows = list(queryset.filter(self.beyond(cursor)).order_by(*ordering)[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        has_next = bool(rows) and (backwards or more)
        has_previous = bool(rows) and (more or not backwards)
        return Window(
            rows=rows,
            has_next=has_next,
            has_previous=has_previous,
            next_cursor=self.encode(rows[-1], NEXT) if has_next else None,
            previous_cursor=self.encode(rows[0], PREVIOUS) if has_previous else None,
        )


def _ordering_of(queryset: models.QuerySet) -> list:
    query = queryset.query
    if query.order_by:
        return list(query.order_by)
    if query.default_ordering:
        return list(queryset.model._meta.ordering or [])
    return []


def keyset_for(queryset: models.QuerySet, *, user) -> Keyset | None:
    """The keyset of the queryset's ordering as ``user`` may page it, or ``None`` (then the
    list keeps page numbers only).

    The ordering is read from the queryset itself (``query.order_by``, as the view's sort or
    ordering filter left it), so a cursor always matches the rows being paged. It is cut after
    its first unique field (the rest orders nothing). ``None`` when the ordering is not total,
    names a nullable field, a relation, a lookup or an expression, or a field the policy hides
    from ``user`` (the primary key is always allowed: it is in every body already)."""
    query = queryset.query
    if query.combinator or query.is_sliced or query.distinct_fields:
        return None
    meta = queryset.model._meta
    readable = policy.readable_fields(user, queryset.model)
    names, fields = [], []
    for item in _ordering_of(queryset):
        if not isinstance(item, str):
            return None
        name = item.removeprefix("-")
        if not name or "__" in name or "." in name or name.startswith(("-", "?")):
            return None
        try:
            field = meta.pk if name == "pk" else meta.get_field(name)
        except FieldDoesNotExist:
            return None  # an annotation or an extra: not a column we can bound
        if name != "pk" and (field.is_relation or not field.concrete):
            return None  # a relation orders by the related model's ordering, not by its id
        if field.null or not (field.primary_key or name in readable):
            return None
        names.append(item)
        fields.append(field)
        if field.unique:
            return Keyset(ordering=tuple(names), fields=tuple(fields))
    return None


# --- The capped count, and pages by number or by cursor -------------------------------------


class _Opaque(Exception):
    """A condition written as raw SQL: which tables it reads is unknown."""


def _columns(expressions):
    """Every column the expressions read, including the outer query's columns their subqueries
    read (``OuterRef``), or ``_Opaque``."""
    for expression in expressions:
        if isinstance(expression, ExtraWhere | RawSQL):
            raise _Opaque
        if isinstance(expression, Col):
            yield expression
        elif callable(getattr(expression, "get_external_cols", None)):
            yield from expression.get_external_cols()
        elif hasattr(expression, "get_source_expressions"):
            yield from _columns(expression.get_source_expressions())


def _multi_valued(join) -> bool:
    """Whether a join can give a row more than once (a reverse foreign key, a many-to-many's
    table, a generic relation): a count with it counts each of those rows."""
    return (
        isinstance(join, Join) and isinstance(join.join_field, ForeignObjectRel) and join.join_field.multiple
    )


def work_rows(queryset: models.QuerySet) -> models.QuerySet | None:
    """The same rows of a kind of Work, read from ``itsm_work`` alone, when no condition needs
    the kind's own table; else ``None``.

    An incident is a row of ``itsm_work`` (kind ``incident``) and its row of
    ``incidents_incident``, written together (``Work.save`` sets the kind; a kind's queries
    always join the two). A query filtered on Work columns only still joins them, and a count
    of it is then planned as a merge join along both primary keys, reading ~20 rows of
    ``itsm_work`` for every one it keeps; without the join, ``kind = … AND state …`` walks the
    ``(kind, state, …)`` index. A condition or an annotation (or alias) on a column of the
    kind's table (``impact``), a relation, a subquery about the record (a grant), raw SQL, a
    join through a to-many relation (which gives a record once per related row, so the joined
    count is larger), grouping or ``DISTINCT`` keeps the join: ``None``.
    """
    model = queryset.model
    query = queryset.query
    link = model._meta.parents.get(Work)
    if (
        link is None
        or not model.KIND
        or model._meta.get_parent_list() != [Work]
        or query.combinator
        or query.distinct
        or query.extra
        or query.is_empty()
        or any(annotation.contains_aggregate for annotation in query.annotations.values())
    ):
        return None
    parents = [
        alias
        for alias, join in query.alias_map.items()
        if isinstance(join, Join) and join.join_field == link and join.parent_alias == query.base_table
    ]
    # A join no longer referenced (refcount 0) is left out of the SQL, so it multiplies nothing.
    if len(parents) != 1 or any(
        query.alias_refcount[alias] and _multi_valued(join) for alias, join in query.alias_map.items()
    ):
        return None
    try:
        # Annotations too (an alias as well): one reading another table may join it.
        if any(column.alias != parents[0] for column in _columns([query.where, *query.annotations.values()])):
            return None
    except _Opaque:
        return None
    rows = Work._base_manager.filter(kind=model.KIND)
    work = rows.query.get_initial_alias()
    rows.query.where.add(query.where.relabeled_clone({parents[0]: work}), AND)
    return rows


class CappedPage(Page):
    """A page by number. ``next_cursor`` is set when the next page would start past the counted
    rows: from there the way on is a cursor, so following "next" never pays a deep ``OFFSET``."""

    previous_cursor = None
    cursor_refused = False

    @property
    def open_ended(self) -> bool:
        """Whether the number of pages is a lower bound (pages say "Page 41", not "of 40")."""
        return self.paginator.capped

    def has_next(self) -> bool:
        if self.paginator.capped:
            return len(self.object_list) == self.paginator.per_page
        return super().has_next()

    @cached_property
    def next_cursor(self) -> str | None:
        paginator = self.paginator
        if paginator.keyset is None or not paginator.capped or not self.has_next():
            return None
        if self.number * paginator.per_page < paginator.count:
            return None  # the next page is among the counted ones: its OFFSET is cheap
        return paginator.keyset.encode(self.object_list[-1], NEXT)


class KeysetPage(Page):
    """A page cut by a cursor. ``number`` is only a label carried along in the links (pages
    show "Page 42"): the rows come from the cursor, and it is ``None`` when nobody said."""

    open_ended = True
    cursor_refused = False

    def __init__(self, window: Window, number: int | None, paginator: CappedPaginator):
        super().__init__(window.rows, number, paginator)
        self.window = window
        self.next_cursor = window.next_cursor
        self.previous_cursor = window.previous_cursor

    def has_next(self) -> bool:
        return self.window.has_next

    def has_previous(self) -> bool:
        return self.window.has_previous

    def next_page_number(self) -> int | None:
        return self.number + 1 if self.number else None

    def previous_page_number(self) -> int | None:
        return self.number - 1 if self.number and self.number > 1 else None


class CappedPaginator(Paginator):
    """Page numbers over a count capped at ``cap``, and (given a ``keyset``) cursor pages."""

    cap = COUNT_CAP

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, *, keyset=None):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.keyset: Keyset | None = keyset

    @cached_property
    def _counted(self) -> int:
        object_list = self.object_list
        if hasattr(object_list, "query") and not object_list.query.is_sliced:
            # Ordering is dropped: the count needs no sort, and can stop after cap + 1 rows. A
            # kind of Work filtered on Work columns is counted on ``itsm_work`` alone.
            rows = work_rows(object_list)
            return (object_list if rows is None else rows).order_by()[: self.cap + 1].count()
        if hasattr(object_list, "query"):
            return object_list.count()
        return len(object_list)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    def validate_number(self, number):
        if not self.capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError, OverflowError):
            raise PageNotAnInteger("That page number is not an integer.") from None
        if number < 1:
            raise EmptyPage("That page number is less than 1.")
        if (number - 1) * self.per_page > MAX_OFFSET - self.per_page:
            raise EmptyPage("That page contains no results.")  # an OFFSET no database accepts
        return number

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        page = self._get_page(list(self.object_list[bottom : bottom + self.per_page]), number, self)
        if self.capped and number > 1 and not page.object_list:
            raise EmptyPage("That page contains no results.")
        return page

    def get_page(self, number):
        """Like Django's: a bad number is page 1; past the last row of a capped list (whose last
        page is unknown) it is the last counted page."""
        try:
            return super().get_page(number)
        except EmptyPage:
            return self.page(self.num_pages)

    def cursor_page(
        self, token: str, *, direction: str | None = None, number: int | None = None
    ) -> KeysetPage:
        """The page a cursor token points to (``InvalidCursor`` if it does not fit this list, or
        ``direction`` is given and the token goes the other way)."""
        if self.keyset is None:
            raise InvalidCursor(CURSOR_UNAVAILABLE)
        cursor = self.keyset.decode(token)
        if direction is not None and cursor.direction != direction:
            raise InvalidCursor
        window = self.keyset.window(self.object_list, cursor, self.per_page)
        if not window.has_previous and window.rows:
            number = 1  # read back to the start of the list
        return KeysetPage(window, number, self)

    def _get_page(self, *args, **kwargs):
        return CappedPage(*args, **kwargs)

    @property
    def count_label(self) -> str:
        return f"more than {self.cap:,}" if self.capped else f"{self.count:,}"


def _label_number(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 1 <= number <= MAX_OFFSET else None


def paginate(request, queryset: models.QuerySet, per_page: int) -> CappedPage | KeysetPage:
    """The page of ``queryset`` a desk or portal page asks for: ``?page=N``, or ``?after=`` /
    ``?before=`` a cursor (the links ``itsm/includes/pagination.html`` makes past the counted
    pages). The cursor's fields are those the requesting user may read.

    A cursor that does not fit the list (edited by hand, or from another sort order) gives the
    first page, with ``cursor_refused`` set so the page can say why; it is never an error page.
    """
    keyset = keyset_for(queryset, user=request.user)
    paginator = CappedPaginator(queryset, per_page, keyset=keyset)
    for param, direction in (("after", NEXT), ("before", PREVIOUS)):
        token = request.GET.get(param)
        if token:
            try:
                return paginator.cursor_page(
                    token, direction=direction, number=_label_number(request.GET.get("page"))
                )
            except InvalidCursor:
                page = paginator.get_page(1)
                page.cursor_refused = True
                return page
    return paginator.get_page(request.GET.get("page"))
