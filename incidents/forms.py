"""Forms of the desk's incident pages: the queue's filters and one small form per action.

They only shape input. Who may see a filter or write a field comes from the policy; the writes
themselves, and every rule about them, are the workflows' and services'.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.forms.models import fields_for_model, model_to_dict

from incidents.models import NOTE_MAX, Incident, IncidentState, ResolutionCode
from itsm import people
from itsm.errors import ItsmError
from itsm.forms import ActionForm, QueueBulkForm
from itsm.forms import AssignForm as BaseAssignForm
from itsm.views.queue import WorkQueueFilter
from sla.clocks import breached_q

OPEN_STATES = (IncidentState.NEW, IncidentState.IN_PROGRESS, IncidentState.ON_HOLD)
# Fields the overview's edit form offers, in this order, when the policy lets the user write
# them. Assignee and assignment group are left to the assign action (its rules: agents only,
# group members only); the many-to-many relations are shown, not edited, here.
EDIT_FIELDS = (
    "short_description",
    "description",
    "impact",
    "urgency",
    "priority",
    "category",
    "subcategory",
    "classification",
    "service",
    "requester",
    "requested_for",
    "organisation",
    "major_incident",
    "major_incident_manager",
    "major_incident_review",
)
PERSON_FIELDS = frozenset({"requester", "requested_for", "major_incident_manager"})


class ServiceErrorsMixin:
    """Put a service's field messages on the form's fields (the page shows its main message)."""

    def add_service_error(self, exc: ItsmError) -> None:
        for name, problems in exc.fields.items():
            if name in self.fields:
                self.add_error(name, problems)


# --- The queue ------------------------------------------------------------------------------


class QueueFilter(WorkQueueFilter):
    """State, priority, group, assignee, mine, unassigned, SLA breached, and the sort order. Filters and sorts
    on fields the policy hides from the user are removed, as if they did not exist."""

    OPEN_STATES = OPEN_STATES

    state = django_filters.ChoiceFilter(
        choices=[("open", "Open (new, in progress, on hold)"), *IncidentState.choices],
        method="filter_state",
        empty_label="Any state",
    )
    breached = django_filters.BooleanFilter(
        field_name="sla_status", method="filter_breached", widget=forms.CheckboxInput, label="SLA breached"
    )
    customer_replied = django_filters.BooleanFilter(
        field_name="customer_replied_at", method="filter_customer_replied", widget=forms.CheckboxInput,
        label="Customer replied",
    )  # fmt: skip

    class Meta:
        model = Incident
        fields: list[str] = []

    def filter_breached(self, queryset, name, value):
        return queryset.filter(breached_q()) if value else queryset

    def filter_queryset(self, queryset):
        # "Customer replied" marks resolved incidents: with the queue's open-work default (which the
        # filter form always sends) it would find none, so the two together mean the replied ones.
        data = self.form.cleaned_data
        if data.get("customer_replied") and data.get("state") == "open":
            data["state"] = ""
        return super().filter_queryset(queryset)

    def filter_customer_replied(self, queryset, name, value):
        """Resolved incidents a customer commented on since (the partial index on the mark)."""
        return queryset.filter(customer_replied_at__isnull=False) if value else queryset


class BulkForm(QueueBulkForm):
    """The incident queue's bulk form (``incidents.services.BULK``): the shared one, with the
    resolution code that resolving takes."""

    resolution_code = forms.ChoiceField(
        choices=ResolutionCode.choices, initial="resolved", required=False, label="Resolution code"
    )

    def clean_resolution_code(self):
        return self.cleaned_data["resolution_code"] or "resolved"


# --- The overview's edit form ---------------------------------------------------------------


class IncidentEditForm(ServiceErrorsMixin, forms.Form):
    """The fields of ``EDIT_FIELDS`` the user may write on this incident, and the version it saw."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, data=None, *, incident: Incident, user, writable):
        names = [name for name in EDIT_FIELDS if name in writable]
        initial = {**model_to_dict(incident, fields=names), "version": incident.version}
        for name in (PERSON_FIELDS | {"organisation"}) & set(names):
            initial[name] = getattr(incident, name)
        super().__init__(data, initial=initial)
        self.fields.update(fields_for_model(Incident, fields=names))
        for name, field in list(self.fields.items()):
            if name in PERSON_FIELDS:
                # Typed, not a list of every person: installations have thousands. Whoever the
                # incident names already stays acceptable (an edit that leaves them is no change).
                self.fields[name] = people.PersonField(
                    source=f"incidents.incident.{name}", user=user, keep=initial[name],
                    required=False, label=field.label,
                )  # fmt: skip
            elif name == "organisation":
                # Typed too: an installation serves many organisations.
                self.fields[name] = people.PersonField(
                    source="incidents.incident.organisation", user=user, keep=initial[name],
                    required=False, label=field.label, help_text="Type the organisation's name.",
                    error_messages={
                        "not_found": "No organisation called “%(text)s” may be chosen here.",
                        "ambiguous": "Several organisations match “%(text)s”: type more of the name.",
                    },
                )  # fmt: skip
            elif isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 4
        self.order_fields(["version", *names])

    def changes(self) -> dict:
        """Only what the user changed: an untouched priority is re-derived from impact × urgency."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name != "version"}

    def expected_version(self) -> int:
        return self.cleaned_data["version"]


# --- Actions on the incident ----------------------------------------------------------------


class NoInputForm(ServiceErrorsMixin, ActionForm):
    """Start, resume, close: the button is the whole form."""


class AcknowledgeForm(ServiceErrorsMixin, ActionForm):
    comment = forms.CharField(
        label="Comment", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Added to the work journal.",
    )  # fmt: skip


class ReasonForm(ServiceErrorsMixin, ActionForm):
    """Hold and cancel: an optional reason (hold: work journal; cancel: the conversation)."""

    reason = forms.CharField(
        label="Reason", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class EscalateForm(ServiceErrorsMixin, ActionForm):
    reason = forms.CharField(
        label="Why escalate", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Added to the work journal as “[Escalated] …”; the assignee and the group's leads are told.",
    )  # fmt: skip


class ResolveForm(ServiceErrorsMixin, ActionForm):
    resolution_code = forms.ChoiceField(label="Resolution code", choices=ResolutionCode.choices)
    resolution_notes = forms.CharField(
        label="Resolution notes", max_length=8000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was done to resolve the incident. For the service desk only: the customer never sees it.",
    )  # fmt: skip
    resolution_message = forms.CharField(
        label="Message to the customer", required=False, max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The customer sees this on the portal and in the resolved e-mail.",
    )  # fmt: skip


class ReopenForm(ServiceErrorsMixin, ActionForm):
    notes = forms.CharField(
        label="Why reopen", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Added to the work journal as “[Reopened] …”.",
    )  # fmt: skip


class AssignForm(ServiceErrorsMixin, BaseAssignForm):
    """A user, a group, or both; leaving both empty unassigns."""


# --- Notes, tasks, time ---------------------------------------------------------------------


class NoteForm(ServiceErrorsMixin, forms.Form):
    """A comment (the conversation the customer reads) or a work note (the journal): the box is
    labelled for which it is, so nobody writes to the customer thinking it is a work note."""

    LABELS = {"comment": "Comment", "work_note": "Work note"}
    # The composer's choice (``kinds`` given): internal first and chosen unless the writer picks
    # the reply, which says plainly that the customer reads it.
    CHOICES = (
        ("work_note", "Internal note — only the service desk sees it"),
        ("comment", "Reply to the customer — the customer sees this"),
    )

    body = forms.CharField(label="Note", max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, kind: str = "", kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].label = self.LABELS.get(kind, "Note")
        if kinds is not None:
            choices = [choice for choice in self.CHOICES if choice[0] in kinds]
            self.fields["kind"] = forms.ChoiceField(
                label="Post as", choices=choices, initial=choices[0][0] if choices else None,
                widget=forms.RadioSelect,
            )  # fmt: skip
            self.fields["body"].label = "Message"
            self.order_fields(["kind", "body"])


class TimeEntryForm(ServiceErrorsMixin, forms.Form):
    minutes = forms.IntegerField(
        label="Minutes", min_value=1, max_value=24 * 60, help_text="Whole minutes, 1 to 1440."
    )
    billable = forms.BooleanField(label="Billable", required=False, initial=True)
    date = forms.DateField(
        label="Date", required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Today if left empty.",
    )  # fmt: skip
    note = forms.CharField(label="Note", required=False, max_length=500)
