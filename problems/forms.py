"""Forms of the desk's problem pages: the queue's filters and one small form per action.

They only shape input: each action form's cleaned data are its workflow's keyword arguments
(``problems.actions``). Who may see a filter or write a field comes from the policy; the writes,
and every rule about them (the RCA summary's length, at most 100 incidents a call…), are the
workflows' and services'.
"""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.forms.models import fields_for_model, model_to_dict

from incidents.models import NOTE_MAX, Incident
from itsm import policy
from itsm.forms import ActionForm
from itsm.forms import AssignForm as BaseAssignForm
from itsm.views.queue import WorkQueueFilter
from problems.models import Problem, ProblemState

OPEN_STATES = tuple(state for state in ProblemState.values if state not in ("closed", "cancelled"))


# --- The queue ------------------------------------------------------------------------------


class QueueFilter(WorkQueueFilter):
    """State, priority, group, assignee, mine, unassigned, known error, and the sort order.
    Filters and sorts on fields the policy hides from the user are removed, as if they did not
    exist."""

    OPEN_STATES = OPEN_STATES

    state = django_filters.ChoiceFilter(
        choices=[("open", "Open (not closed or cancelled)"), *ProblemState.choices],
        method="filter_state",
        empty_label="Any state",
    )
    is_known_error = django_filters.BooleanFilter(
        label="Known error",
        widget=forms.Select(
            choices=[("", "Known or not"), ("true", "Known errors"), ("false", "Not known errors")]
        ),
    )

    class Meta:
        model = Problem
        fields: list[str] = []


# --- Actions on the problem (field names = the workflows' keyword arguments) ----------------


class NoInputForm(ActionForm):
    """Start, approve the RCA, close: the button is the whole form."""


class SubmitRcaForm(ActionForm):
    rca_summary = forms.CharField(
        label="Root cause summary", max_length=8000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What caused the incidents (at least 10 characters).",
    )  # fmt: skip
    rca_confidence = forms.DecimalField(
        label="Confidence", required=False, min_value=0, max_value=1, max_digits=3, decimal_places=2,
        help_text="How sure you are, from 0.00 to 1.00.",
    )  # fmt: skip
    corrective_plan = forms.CharField(
        label="Corrective plan", required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One item per line, 'title: description'; approving the RCA makes one change per item.",
    )  # fmt: skip

    def clean_corrective_plan(self) -> list[dict]:
        items = []
        for number, line in enumerate(self.cleaned_data["corrective_plan"].splitlines(), start=1):
            if not line.strip():
                continue
            title, _colon, description = line.partition(":")
            if not title.strip():
                raise forms.ValidationError(f"Line {number} has no title before its colon.")
            items.append({"title": title.strip(), "description": description.strip()})
        return items


class RejectRcaForm(ActionForm):
    review_notes = forms.CharField(
        label="Review notes", max_length=8000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the RCA is rejected: the submitter reads this.",
    )  # fmt: skip


class VerifyForm(ActionForm):
    verification_notes = forms.CharField(
        label="Verification notes", max_length=8000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How you checked that the changes fixed the cause (at least 10 characters).",
    )  # fmt: skip


class ReasonForm(ActionForm):
    """Cancel: an optional reason."""

    reason = forms.CharField(
        label="Reason", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AssignForm(BaseAssignForm):
    """A user, a group, or both; leaving both empty unassigns."""


INCIDENT_NUMBER = re.compile(r"INC\d+", re.IGNORECASE)


class LinkIncidentsForm(ActionForm):
    """Incidents by number (INC0001234) or id, separated by commas or spaces, into a list of ids.
    A number is looked up among the incidents the user may read; ids go to the service as given,
    which reports the ones it cannot link."""

    incidents = forms.CharField(
        label="Incidents", max_length=10000, widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="Incident numbers or ids, separated by commas or spaces.",
    )  # fmt: skip

    def clean_incidents(self) -> list[int]:
        tokens = [token for token in re.split(r"[\s,;]+", self.cleaned_data["incidents"]) if token]
        bad = [token for token in tokens if not (token.isdigit() or INCIDENT_NUMBER.fullmatch(token))]
        if bad:
            raise forms.ValidationError(f"Not an incident number or id: {', '.join(bad)}.")
        numbers = [token.upper() for token in tokens if not token.isdigit()]
        found = {}
        if numbers:
            found = dict(
                policy.readable(self.user, Incident).filter(number__in=numbers).values_list("number", "pk")
            )
            unknown = [number for number in numbers if number not in found]
            if unknown:
                raise forms.ValidationError(f"No incident you may read has the number {', '.join(unknown)}.")
        if not tokens:
            raise forms.ValidationError("Name at least one incident.")
        ids = [int(token) if token.isdigit() else found[token.upper()] for token in tokens]
        return list(dict.fromkeys(ids))


class ProblemNewForm(forms.Form):
    """A new problem: what the agent types; the rest (category, impact, urgency, hosts) comes from
    the incident it is raised from, when there is one."""

    short_description = forms.CharField(label="Title", max_length=200)
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    symptoms = forms.CharField(
        label="Symptoms", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What users see; the known error search reads it.",
    )  # fmt: skip

    def service_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


# The plain fields the problem page's edit form offers, in order, where the user may write them.
PROBLEM_EDIT_FIELDS = (
    "short_description", "description", "symptoms", "root_cause", "workaround", "category", "impact",
    "urgency", "priority",
)  # fmt: skip


class ProblemEditForm(forms.Form):
    """The fields of ``PROBLEM_EDIT_FIELDS`` the user may write, and the version it saw (a
    change made meanwhile is refused, not overwritten)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, data=None, *, problem: Problem, writable):
        names = [name for name in PROBLEM_EDIT_FIELDS if name in writable]
        super().__init__(data, initial={**model_to_dict(problem, fields=names), "version": problem.version})
        self.fields.update(fields_for_model(Problem, fields=names))
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 3
        self.order_fields(["version", *names])

    def changes(self) -> dict:
        """Only what the user changed: an untouched priority is re-derived from impact × urgency."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name != "version"}

    def expected_version(self) -> int:
        return self.cleaned_data["version"]


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Work note", max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Seen by the service desk only.",
    )  # fmt: skip
