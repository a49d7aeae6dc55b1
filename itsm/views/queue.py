"""The desk queue's filters, the same for every kind of Work: state (with "open"), priority,
group, assignee, mine, unassigned, and the sort order. A domain's filter subclasses
``WorkQueueFilter`` and declares its ``state`` choices and its own filters; the assignee filter
is a typed person of the kind's assignee source (``itsm.people``; ``?assignee=<id>`` works too).
Filters and sorts on fields the policy hides from the user are removed, as if they did not
exist."""

from __future__ import annotations

import django_filters
from django import forms

from itsm import people, policy
from itsm.models import AssignmentGroup, Priority
from itsm.ordering import total as ordering_total

# The sortable columns (parameter value → label, model field); "-" in front sorts descending.
SORTS = {
    "number": ("Number", "number"),
    "opened_at": ("Opened", "opened_at"),
    "updated_at": ("Updated", "updated_at"),
    "priority": ("Priority", "priority"),
    "state": ("State", "state"),
}
DEFAULT_SORT = "-opened_at"


def active_groups(user):
    return policy.readable(user, AssignmentGroup).filter(is_active=True).order_by("name")


class PersonFilter(django_filters.Filter):
    """A typed person (``itsm.people.PersonField``) instead of a list of every person."""

    field_class = people.PersonField


class WorkQueueFilter(django_filters.FilterSet):
    OPEN_STATES: tuple[str, ...] = ()
    SORTS = SORTS
    DEFAULT_SORT = DEFAULT_SORT

    priority = django_filters.ChoiceFilter(choices=Priority.choices, empty_label="Any priority")
    assignment_group = django_filters.ModelChoiceFilter(
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
        self.filters = {name: self.filters[name] for name in ["state", *middle, "sort"] if name in self.filters}
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
