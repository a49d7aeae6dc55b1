"""Forms of the desk's request pages: the queue's filters, the request page's edit form and the
note composer. (The action forms — approve, reject, complete, cancel, assign… — come with the
action table, ``catalog.actions``.)

They only shape input: the cleaned data go to ``catalog.services`` and ``catalog.workflows``,
which check every rule whatever door the write came through. Who may see a filter or write a
field comes from the policy.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.forms.models import fields_for_model, model_to_dict

from catalog.models import CatalogItem, Request, RequestState
from itsm import people, policy
from itsm.forms import ActionForm
from itsm.notes import NOTE_MAX
from itsm.views.queue import WorkQueueFilter, active_groups
from sla.clocks import breached_q

# Open work: what the queue shows until another state is chosen.
OPEN_STATES = (
    RequestState.SUBMITTED,
    RequestState.PENDING_APPROVAL,
    RequestState.APPROVED,
    RequestState.IN_FULFILMENT,
)


class ItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name if obj.active else f"{obj.name} (inactive)"


# --- The queue ------------------------------------------------------------------------------


class QueueFilter(WorkQueueFilter):
    """State (open work by default), priority, catalog item, group, assignee, mine, unassigned,
    SLA breached, and the sort order. Filters and sorts on fields the policy hides from the user
    are removed, as if they did not exist."""

    OPEN_STATES = OPEN_STATES

    state = django_filters.ChoiceFilter(
        choices=[
            ("open", "Open (submitted, pending approval, approved, in fulfilment)"),
            *RequestState.choices,
        ],
        method="filter_state",
        empty_label="Any state",
    )
    catalog_item = django_filters.ModelChoiceFilter(
        queryset=CatalogItem.objects.none(), label="Item", empty_label="Any item"
    )
    breached = django_filters.BooleanFilter(
        field_name="sla_status", method="filter_breached", widget=forms.CheckboxInput, label="SLA breached"
    )

    class Meta:
        model = Request
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "catalog_item" in self.filters:
            # Inactive items too: their requests stay in the queue.
            # Names only: an item's form (JSON of up to a hundred fields) is not decoded for a choice.
            self.filters["catalog_item"].queryset = (
                policy.readable(self.request.user, CatalogItem).only("pk", "name", "active").order_by("name", "pk")
            )
            self.filters["catalog_item"].field_class = ItemChoiceField

    def filter_breached(self, queryset, name, value):
        return queryset.filter(breached_q()) if value else queryset


# --- The request page's edit form ---------------------------------------------------------

EDIT_FIELDS = ("short_description", "description", "priority", "assignment_group", "assignee")


class RequestEditForm(forms.Form):
    """The fields of ``EDIT_FIELDS`` the user may write on this request now, and the version it
    saw (a change made meanwhile is refused, not overwritten)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, data=None, *, record: Request, writable, user):
        names = [name for name in EDIT_FIELDS if name in writable]
        initial = {**model_to_dict(record, fields=names), "version": record.version}
        if "assignee" in names:
            initial["assignee"] = record.assignee
        super().__init__(data, initial=initial)
        for name in names:
            if name == "assignee":
                self.fields[name] = people.PersonField(
                    source="catalog.request.assignee", user=user, keep=record.assignee, required=False,
                    label="Assignee", error_messages={"not_found": "No one called “%(text)s” may be assigned here."},
                )  # fmt: skip
            elif name == "assignment_group":
                self.fields[name] = forms.ModelChoiceField(
                    queryset=active_groups(user), required=False, empty_label="No group", label="Group"
                )
            else:
                self.fields[name] = fields_for_model(Request, fields=[name])[name]
        if "description" in self.fields:
            self.fields["description"].widget.attrs["rows"] = 4
        self.order_fields(["version", *names])

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name != "version"}

    def expected_version(self) -> int:
        return self.cleaned_data["version"]


# --- Notes ------------------------------------------------------------------------------------

NOTE_KINDS = (
    ("comment", "Public comment — the requester sees it"),
    ("work_note", "Internal work note — the service desk only"),
)


class NoteForm(forms.Form):
    """A comment or a work note: the writer says which, and nothing is chosen for them."""

    kind = forms.ChoiceField(label="Who may read it", choices=NOTE_KINDS, widget=forms.RadioSelect)
    body = forms.CharField(label="Note", max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, data=None, *, kinds=None, **kwargs):
        super().__init__(data, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [choice for choice in NOTE_KINDS if choice[0] in kinds]


class NoteEditForm(forms.Form):
    body = forms.CharField(label="Note", max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 4}))


class NoInputForm(ActionForm):
    """An action without input (fulfil…): the button is the whole form."""
