"""Form bases the desk and portal share."""

from __future__ import annotations

import django_filters
from django import forms
from django.forms.models import ModelChoiceIterator
from django_filters.fields import ModelChoiceField as FilterModelChoiceField
from django_filters.fields import ModelChoiceIterator as FilterModelChoiceIterator

from itsm import people, policy
from itsm.bulk_actions import COMMENT, COMMENT_MAX, SOMEONE
from itsm.models import AssignmentGroup


class ActionForm(forms.Form):
    """The desk form of an action in a record's ``ActionTable``: built with the acting user and
    the record (for choices and initial values that depend on them); a form without fields is a
    plain button. Its cleaned data are the action function's keyword arguments."""

    def __init__(self, data=None, *, user=None, record=None, **kwargs):
        self.user, self.record = user, record
        super().__init__(data, **kwargs)


class NoInputForm(ActionForm):
    """An action without input (fulfil, submit, start…): the button is the whole form."""


class Unopened:
    """A form the page shows closed (an action's, the edit form): what the closed card needs —
    whether the form takes any input, and that it holds no answer — without building the form
    (its fields, their choices and people pickers) on every view. The card's link or htmx opens
    it (``?open=<name>``), and that page builds the real form (``itsm/desk/_actions.html``)."""

    is_bound = False
    errors: dict = {}

    def __init__(self, form_class):
        self.fields = form_class.base_fields


def opened(request, name: str) -> bool:
    """Whether the page was asked to open the form ``name`` (``?open=<name>``)."""
    return request.GET.get("open") == name


def active_groups(user):
    return policy.readable(user, AssignmentGroup).filter(is_active=True).order_by("name")


class ListedChoices(ModelChoiceIterator):
    """A short list of choices (the groups) read with one plain query. Django's iterator reads
    them with ``QuerySet.iterator()``, which on PostgreSQL opens a server-side cursor: DECLARE,
    FETCH and CLOSE, three round trips, for forty rows. Read once per field: the list is kept."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:  # evaluated once, then the queryset's own cache
            yield self.choice(obj)


class _ListedFilterChoices(FilterModelChoiceIterator, ListedChoices):
    """django-filter's choices (its "null" choice) over ``ListedChoices``."""


class GroupChoiceField(forms.ModelChoiceField):
    """An assignment group, from a short list (``ListedChoices``)."""

    iterator = ListedChoices


class _GroupFilterField(FilterModelChoiceField):
    iterator = _ListedFilterChoices


class GroupFilter(django_filters.ModelChoiceFilter):
    """A queue's group filter, its choices read as ``ListedChoices`` does."""

    field_class = _GroupFilterField


class AssignForm(ActionForm):
    """Every kind of Work's assign action: a person, a group, or both; leaving both empty
    unassigns. The person is typed, from the record's assignee source (``itsm.people``), never
    picked from a list of every agent; the assign service still checks every rule."""

    assignee = forms.Field(required=False)  # replaced by the record's people field in __init__
    assignment_group = GroupChoiceField(
        queryset=AssignmentGroup.objects.none(), required=False, empty_label="No group", label="Group"
    )

    def __init__(self, data=None, *, user, record, **kwargs):
        kwargs.setdefault(
            "initial", {"assignee": record.assignee, "assignment_group": record.assignment_group_id}
        )
        super().__init__(data, user=user, record=record, **kwargs)
        self.fields["assignee"] = people.PersonField(
            source=people.assignee_source(type(record)).name,
            user=user,
            required=False,
            label="Assignee",
            help_text="Type a name or username; leave it empty for nobody.",
            error_messages={"not_found": "No one called “%(text)s” may be assigned here."},
        )
        self.order_fields(["assignee", "assignment_group"])
        self.fields["assignment_group"].queryset = active_groups(user)


class QueueBulkForm(forms.Form):
    """A desk queue's bulk form (``itsm.bulk_actions``): the actions the user may take on the
    kind, the ticked ids (or every id of the page with "select all on this page") and what the
    actions need — a person and/or group, a work note. The kind's bulk service checks every rule;
    a kind with inputs of its own subclasses this form and adds their fields."""

    SELECTION = ("ids", "page_ids", "all_on_page")

    action = forms.ChoiceField(choices=(), label="Action")
    ids = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())
    page_ids = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())
    all_on_page = forms.BooleanField(required=False, label="Select all on this page")

    def __init__(self, data=None, *, bulk, user, **kwargs):
        super().__init__(data, **kwargs)
        self.bulk = bulk
        offered = bulk.offered(user)
        self.fields["action"].choices = [(a.name, a.label) for a in offered]
        if any(SOMEONE in a.needs for a in offered):
            self.fields["assignment_group"] = GroupChoiceField(
                queryset=active_groups(user), required=False, empty_label="No group", label="Group"
            )
            # Typed, not a list of every agent (``itsm.people``): the assign action's own people.
            self.fields["assignee"] = people.PersonField(
                source=people.assignee_source(bulk.model).name, user=user, required=False, label="Assignee"
            )
        needed = [a.name for a in offered if COMMENT in a.needs]
        self.fields["comment"] = forms.CharField(
            required=False, max_length=COMMENT_MAX, label="Work note", widget=forms.Textarea(attrs={"rows": 2}),
            help_text=f"Added to each {bulk.noun}'s work journal"
            + (f"; needed to {' or '.join(needed)}." if needed else "."),
        )  # fmt: skip
        self.order_fields(["action", "assignment_group", "assignee", *self.SELECTION])
        for name in ("ids", "page_ids"):
            # Any whole number: the service finds out which the user may act on.
            self.fields[name].valid_value = lambda value: True

    def action_fields(self):
        """The fields shown next to "Apply to selected", the work note last."""
        names = [name for name in self.fields if name not in (*self.SELECTION, "comment")]
        return [self[name] for name in [*names, "comment"]]

    def selected(self) -> list[int]:
        data = self.cleaned_data
        chosen = data["page_ids"] if data["all_on_page"] else data["ids"]
        return [pk for pk in chosen if 0 < pk < 2**63]

    def inputs(self) -> dict:
        """The bulk service's inputs besides the action and the ids."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in (*self.SELECTION, "action")
        }
