"""The desk queue's filters, the same for every kind of Work: state (with "open"), priority,
group, assignee, mine, unassigned, and the sort order. A domain's filter subclasses
``WorkQueueFilter`` and declares its ``state`` choices and its own filters; the assignee filter
is a typed person of the kind's assignee source (``itsm.people``; ``?assignee=<id>`` works too).
Filters and sorts on fields the policy hides from the user are removed, as if they did not
exist."""

from __future__ import annotations

import csv
from datetime import datetime

import django_filters
from django import forms
from django.contrib import messages
from django.db import models
from django.http import Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from itsm import people, policy, saved_views
from itsm.errors import ItsmError, NotFound
from itsm.forms import GroupFilter, QueueBulkForm, active_groups
from itsm.models import AssignmentGroup, Priority
from itsm.models.views import DEFAULT_PAGE_SIZE, PAGE_SIZES
from itsm.ordering import total as ordering_total
from itsm.pagination import paginate
from itsm.queues import Queue
from itsm.templatetags.itsm_ui import state_label
from itsm.views.base import DeskMixin
from itsm.views.queue_rows import Rows

# The sortable columns (parameter value → label, model field); "-" in front sorts descending.
SORTS = {
    "number": ("Number", "number"),
    "opened_at": ("Opened", "opened_at"),
    "updated_at": ("Updated", "updated_at"),
    "priority": ("Priority", "priority"),
    "state": ("State", "state"),
}
DEFAULT_SORT = "-opened_at"


class PersonFilter(django_filters.Filter):
    """A typed person (``itsm.people.PersonField``) instead of a list of every person."""

    field_class = people.PersonField


class WorkQueueFilter(django_filters.FilterSet):
    OPEN_STATES: tuple[str, ...] = ()
    SORTS = SORTS
    DEFAULT_SORT = DEFAULT_SORT

    priority = django_filters.ChoiceFilter(choices=Priority.choices, empty_label="Any priority")
    assignment_group = GroupFilter(
        queryset=AssignmentGroup.objects.none(), label="Group", empty_label="Any group"
    )
    assignee = PersonFilter(field_name="assignee", label="Assignee")
    mine = django_filters.BooleanFilter(
        field_name="assignee", method="filter_mine", widget=forms.CheckboxInput, label="Assigned to me"
    )
    unassigned = django_filters.BooleanFilter(
        field_name="assignee", method="filter_unassigned", widget=forms.CheckboxInput, label="Unassigned"
    )
    sort = django_filters.ChoiceFilter(
        field_name="sort", choices=[], method="sort_by", empty_label="Newest first", label="Sort by"
    )

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        # The state first and the sort last, the domain's own filters in between.
        middle = [name for name in self.filters if name not in ("state", "sort")]
        self.filters = {
            name: self.filters[name] for name in ["state", *middle, "sort"] if name in self.filters
        }
        user = request.user
        model = self._meta.model
        hidden = policy.hidden_fields(user, model)
        for name in [n for n, f in self.filters.items() if f.field_name in hidden]:
            del self.filters[name]
        if "assignment_group" in self.filters:
            self.filters["assignment_group"].queryset = active_groups(user)
        if "assignee" in self.filters:
            self.filters["assignee"].extra.update(
                source=people.assignee_source(model).name, user=user, help_text="",
                error_messages={"not_found": "No one called “%(text)s” may be assigned this work."},
            )  # fmt: skip
        self.sorts = {param: spec for param, spec in self.SORTS.items() if spec[1] not in hidden}
        choices = []
        for param, (label, _field) in self.sorts.items():
            choices += [(param, f"{label} (ascending)"), (f"-{param}", f"{label} (descending)")]
        self.filters["sort"].extra["choices"] = choices

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(state__in=self.OPEN_STATES)
        return queryset.filter(state=value)

    def filter_mine(self, queryset, name, value):
        return queryset.filter(assignee=self.request.user) if value else queryset

    def filter_unassigned(self, queryset, name, value):
        return queryset.filter(assignee__isnull=True) if value else queryset

    def sort_by(self, queryset, name, value):
        descending = value.startswith("-")
        field = self.sorts[value.lstrip("-")][1]
        return queryset.order_by(*ordering_total(self._meta.model, [f"-{field}" if descending else field]))

    def current_sort(self) -> str:
        if self.is_bound and self.is_valid() and self.form.cleaned_data.get("sort"):
            return self.form.cleaned_data["sort"]
        return self.DEFAULT_SORT

    def is_filtered(self) -> bool:
        if not (self.is_bound and self.is_valid()):
            return bool(self.data)
        return any(v not in (None, "", False) for k, v in self.form.cleaned_data.items() if k != "sort")


def queue_columns(request, filterset: WorkQueueFilter, columns, hidden) -> list[dict]:
    """The queue's columns the user may read — ``columns`` is (field, label, sort parameter) —
    each with the link that sorts by it (the other way round when it is the current order; a new
    order starts at its first page)."""
    sort = filterset.current_sort()
    shown = []
    for name, label, param in columns:
        if name in hidden:
            continue
        column = {"name": name, "label": label, "sort": None, "direction": None}
        if param in filterset.sorts:
            direction = {param: "ascending", f"-{param}": "descending"}.get(sort)
            query = request.GET.copy()
            for position in ("page", "after", "before"):
                query.pop(position, None)
            query["sort"] = f"-{param}" if direction == "ascending" else param
            column.update(sort=f"?{query.urlencode()}", direction=direction)
        shown.append(column)
    return shown


def is_refresh(request) -> bool:
    """Whether the queue's own refresh asks (htmx re-fetching ``#queue-results``): not another
    part of the page fetched by htmx (the bulk form as it opens), which needs the whole page."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "queue-results"


def render_queue(request, template_name: str, context: dict, *, status: int = 200):
    """A desk queue's page; or, when the page's own refresh asks (``is_refresh``), only its
    ``queue_results`` partial (the table and its pages): no page chrome, no filter form whose
    choices would cost queries. A cache keeps the two apart (``Vary: HX-Request, HX-Target``)."""
    if is_refresh(request):
        template_name = f"{template_name}#queue_results"
    response = render(request, template_name, context, status=status)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


# --- The queue page: saved views, columns, page size, CSV export ------------------------------


def page_size_of(value, default: int = DEFAULT_PAGE_SIZE) -> int:
    """``?page_size=`` as one of ``PAGE_SIZES``; anything else is the default (never an error)."""
    try:
        size = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return size if size in PAGE_SIZES else default


class QueuePage:
    """One desk queue request, as every kind of Work serves it: the saved view it opens
    (``?view=``), the filters (the queue opens on open work), the visible columns (``?columns=``,
    only those the reader may read), the page size (``?page_size=`` 25, 50 or 100) and the page
    of rows — or the whole filtered queue as CSV (``?format=csv``)."""

    def __init__(self, request, queue: Queue, *, page_size: int = DEFAULT_PAGE_SIZE):
        self.request, self.queue = request, queue
        user = request.user
        asked = request.GET
        self.saved_view = None
        if asked.get("view"):
            try:
                self.saved_view = saved_views.view_for(user, asked["view"], kind=queue.kind)
            except NotFound:
                raise Http404("No such saved view.") from None
        # A view's filters apply until the reader filters the page itself (the filter form
        # sends every filter); sorting by a column keeps them.
        own_filters = [name for name in asked if name not in saved_views.NOT_FILTERS]
        if self.saved_view is not None and not own_filters:
            data = QueryDict(self.saved_view.query, mutable=True)
        else:
            data = QueryDict(mutable=True)
            for name in own_filters:
                data.setlist(name, asked.getlist(name))
        sort = asked.get("sort") or (self.saved_view.sort if self.saved_view else "")
        if sort:
            data["sort"] = sort
        self.asked_state = "state" in data
        self.data = saved_views.with_default_state(queue, data)
        self.hidden = policy.hidden_fields(user, queue.model)
        self.filterset = queue.filterset(self.data, queryset=queue.queryset(user), request=request)
        if not asked.get("sort") and sort and sort.lstrip("-") not in self.filterset.sorts:
            # A shared view's sort on a field this reader may not read is dropped, like its filters.
            self.data.pop("sort")
            self.filterset = queue.filterset(self.data, queryset=queue.queryset(user), request=request)
        self.valid = self.filterset.is_valid()
        default_size = self.saved_view.page_size if self.saved_view else page_size
        self.page_size = page_size_of(asked.get("page_size"), default_size)
        readable = queue.readable_columns(user)
        chosen = asked.getlist("columns") or (self.saved_view.columns if self.saved_view else [])
        shown = [column for column in readable if column[0] in chosen or column[0] == "number"]
        self.columns = shown if len(shown) > 1 or chosen == ["number"] else readable
        self.column_choices = [
            {"name": name, "label": label, "checked": any(c[0] == name for c in self.columns)}
            for name, label, _ in readable
        ]

    @cached_property
    def member_groups(self) -> list[AssignmentGroup]:
        """The groups the reader belongs to, read once: "Save as a view" shares with the active
        ones, and "Take" asks whether the reader is a member of a row's group
        (``take_context(…, groups=page.read_member_group_ids)``)."""
        groups = AssignmentGroup.objects.filter(memberships__user=self.request.user).order_by("name")
        return list(groups.only("pk", "name", "is_active"))

    def share_groups(self) -> list[AssignmentGroup]:
        return [group for group in self.member_groups if group.is_active]

    def read_member_group_ids(self) -> list[int]:
        return [group.pk for group in self.member_groups]

    @property
    def wants_csv(self) -> bool:
        return self.request.GET.get("format") == "csv"

    def is_filtered(self) -> bool:
        """Whether the reader narrowed the queue: the open-work default alone is not a filter."""
        if not self.valid:
            return True
        return any(
            value not in (None, "", False)
            for name, value in self.filterset.form.cleaned_data.items()
            if name != "sort" and not (name == "state" and not self.asked_state)
        )

    def page(self):
        page = paginate(self.request, self.filterset.qs, self.page_size)
        page.object_list = list(page.object_list)
        return page

    def context(self, page) -> dict:
        user = self.request.user
        # What "Save as a view" saves: the filters in force (the open-work default included), the
        # sort, the columns and the page size.
        query = self.data.copy()
        query.setlist("columns", [name for name, _, _ in self.columns])
        query["page_size"] = str(self.page_size)
        return {
            "page": page,
            "filterset": self.filterset,
            "form": self.filterset.form,
            "columns": queue_columns(self.request, self.filterset, self.columns, self.hidden),
            "filtered": self.is_filtered(),
            "open_only": self.data.get("state") == self.queue.default_state,
            "queue": self.queue,
            "queue_options": {
                "columns": self.column_choices,
                "page_sizes": [{"value": size, "selected": size == self.page_size} for size in PAGE_SIZES],
            },
            "saved_view": self.saved_view,
            "saved_view_mine": self.saved_view is not None and self.saved_view.owner_id == user.pk,
            "save_query": query.urlencode(),
            "share_groups": self.share_groups,  # read only by the whole page, not by a refresh
            # A refresh (``render_queue``'s partial) shows no navigation: it does not count the views.
            "saved_views_nav": []
            if is_refresh(self.request)
            else saved_views.navigation(user, groups=self.read_member_group_ids()),
            "page_size": self.page_size,
            **self.bulk_context(),
        }

    def rows(self, page, context: dict) -> list:
        """The page's rows, written by ``itsm.views.queue_rows`` in the columns shown; after the
        kind's view added its "Take" context (``take_context``) and any live values."""
        write = Rows(
            self.request, columns=context["columns"], detail=self.queue.detail_url_name,
            cells=dict(self.queue.cells), hidden=self.hidden, take=context, bulk="bulk_form" in context,
        )  # fmt: skip
        return write(page.object_list)

    def bulk_context(self) -> dict:
        """The bulk form, when the policy lets the reader take one of the kind's bulk actions."""
        bulk = self.queue.bulk
        user = self.request.user
        if bulk is None or not bulk.offered(user):
            return {}
        form = (self.queue.bulk_form or QueueBulkForm)(bulk=bulk, user=user)
        return {
            "bulk_form": form,
            "bulk_url": reverse(self.queue.bulk_url_name),
            "bulk_noun_plural": bulk.noun_plural,
        }

    def csv_response(self, *, name: str):
        rows = self.filterset.qs if self.valid else self.queue.model._default_manager.none()
        columns = [(field, label) for field, label, _ in self.columns]
        return csv_export(self.request.user, self.queue.model, rows, columns, name=name)


# --- Bulk actions ------------------------------------------------------------------------------


class QueueBulkView(DeskMixin, View):
    """A queue's bulk form (``QueuePage.bulk_context``): the ticked records go to the kind's bulk
    actions (``itsm.bulk_actions``, which check each one); back on the queue, the message says how
    many changed and which were refused, and why. A domain routes it with its queue:
    ``QueueBulkView.as_view(queue=QUEUE)``."""

    queue: Queue | None = None

    def post(self, request):
        queue = self.queue
        bulk = queue.bulk
        back = request.POST.get("next", "")
        if not back.startswith("/") or not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}
        ):
            back = queue.url
        form = (queue.bulk_form or QueueBulkForm)(request.POST, bulk=bulk, user=request.user)
        if not form.is_valid():
            problems = "; ".join(
                f"{form.fields[n].label or n}: {' '.join(e)}"
                for n, e in form.errors.items()
                if n in form.fields
            )
            messages.error(request, f"Nothing was changed: {problems or 'please check the form.'}")
            return redirect(back)
        ids = form.selected()
        if not ids:
            messages.error(request, f"Nothing was changed: tick the {bulk.noun_plural} to act on first.")
            return redirect(back)
        try:
            result = bulk.run(
                actor=request.user, action=form.cleaned_data["action"], ids=ids, **form.inputs()
            )
        except ItsmError as exc:
            details = " ".join(p for problems in exc.fields.values() for p in problems)
            messages.error(request, f"Nothing was changed: {exc.message} {details}".strip())
            return redirect(back)
        changed = result["affected"]
        noun = bulk.noun if result["requested"] == 1 else bulk.noun_plural
        summary = f"{changed} of {result['requested']} {noun} changed."
        if changed:
            messages.success(request, summary)
        for refusal in result["refused"]:
            who = refusal["number"] or f"#{refusal['id']}"
            messages.warning(request, f"{who} was not changed: {refusal['reason']}")
        if not changed:
            messages.error(request, summary)
        return redirect(back)


# --- CSV export -------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK = 2_000


class _Echo:
    def write(self, value):
        return value


def csv_cell(value) -> str:
    """A value as a CSV cell; text a spreadsheet would run as a formula is quoted with '."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _cell(record, field: models.Field):
    if field.is_relation:
        related = getattr(record, field.name)
        return "" if related is None else str(related)
    value = getattr(record, field.attname)
    if field.choices and value not in (None, ""):
        return getattr(record, f"get_{field.name}_display")()
    if field.name == "state":
        return state_label(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def csv_export(user, model, queryset, columns, *, name: str) -> StreamingHttpResponse:
    """The rows of ``queryset`` as a CSV download, streamed in chunks (memory stays bounded
    whatever the number of rows): only ``columns`` the reader may read — (field, heading) pairs
    — and only rows it may read (``queryset`` starts from the policy's readable rows)."""
    readable = policy.readable_fields(user, model)
    fields = [(model._meta.get_field(field), label) for field, label in columns if field in readable]
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([label for _, label in fields])
        for record in queryset.iterator(chunk_size=CSV_CHUNK):
            yield writer.writerow([csv_cell(_cell(record, field)) for field, _ in fields])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    filename = f"{name}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
