"""Forms of the self-service portal's incident pages. They only shape input: who may write
what comes from the policy, and the writes themselves are the services' and workflows'."""

from __future__ import annotations

from django import forms

from incidents.models import NOTE_MAX, Incident, IncidentState
from itsm import people
from itsm.errors import ItsmError

OPEN_STATES = (IncidentState.NEW, IncidentState.IN_PROGRESS, IncidentState.ON_HOLD)
# The list's state filter: a plain word for the customer, the states it stands for.
STATE_FILTERS = {
    "open": ("Open", OPEN_STATES),
    "resolved": ("Resolved", (IncidentState.RESOLVED,)),
    "closed": ("Closed or cancelled", (IncidentState.CLOSED, IncidentState.CANCELLED)),
    "all": ("All", None),
}
DEFAULT_STATE_FILTER = "all"

RATINGS = [
    (5, "5 — excellent"),
    (4, "4 — good"),
    (3, "3 — fair"),
    (2, "2 — poor"),
    (1, "1 — very poor"),
]


class ServiceErrorsMixin:
    """Show a service's refusal on the form: the message on top, field messages by their field."""

    def add_service_error(self, exc: ItsmError, message: str = "") -> None:
        self.add_error(None, message or exc.message)
        for name, problems in exc.fields.items():
            if name in self.fields:
                self.add_error(name, problems)


class IncidentFilterForm(forms.Form):
    state = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[(value, label) for value, (label, _) in STATE_FILTERS.items()],
        error_messages={"invalid_choice": "Choose open, resolved, closed or all."},
    )

    def chosen(self) -> str:
        if self.is_valid() and self.cleaned_data["state"]:
            return self.cleaned_data["state"]
        return DEFAULT_STATE_FILTER

    def states(self):
        return STATE_FILTERS[self.chosen()][1]


class IncidentFieldsForm(ServiceErrorsMixin, forms.Form):
    """Short description, description and requested-for, limited to what the user may write."""

    short_description = forms.CharField(
        label="Short description",
        max_length=Incident._meta.get_field("short_description").max_length,
        help_text="In a few words: what is wrong?",
        error_messages={"required": "Say in a few words what is wrong."},
    )
    description = forms.CharField(
        label="Description",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What happened, since when, and what you have tried. Error messages help.",
    )
    requested_for = forms.Field(required=False)  # a typed person (itsm.people), set up in __init__

    def __init__(self, *args, user, writable, current_requested_for=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in writable:
                del self.fields[name]
        if "requested_for" in self.fields:
            # A colleague typed by name (the people of the customer's organisation, as the policy
            # lets it name them), not a list of everyone; empty stands for the customer itself.
            self.fields["requested_for"] = people.PersonField(
                source="incidents.incident.requested_for",
                user=user,
                keep=current_requested_for,
                required=False,
                label="Requested for",
                help_text="If you are raising this for a colleague, type their name; leave it empty for yourself.",
                error_messages={
                    "not_found": "No one called “%(text)s” in your organisation can be named here.",
                    "ambiguous": "Several people in your organisation match “%(text)s”: type their full name.",
                },
            )

    def strip_value(self, name: str):
        value = self.cleaned_data.get(name)
        return value.strip() if isinstance(value, str) else value


class IncidentNewForm(IncidentFieldsForm):
    def service_data(self) -> dict:
        data = {name: self.strip_value(name) for name in self.fields}
        if data.get("requested_for") is None:
            data.pop("requested_for", None)
        return data


class IncidentEditForm(IncidentFieldsForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, incident: Incident, user, writable, **kwargs):
        initial = {
            "short_description": incident.short_description,
            "description": incident.description,
            "requested_for": incident.requested_for,
            "version": incident.version,
        }
        super().__init__(
            *args,
            user=user,
            writable=set(writable) | {"version"},
            current_requested_for=incident.requested_for,
            initial=initial,
            **kwargs,
        )
        if "requested_for" in self.fields:
            self.fields["requested_for"].help_text = (
                "If it is for a colleague, type their name; leave it empty for the person who raised it."
            )
        self.incident = incident

    def service_data(self) -> dict:
        """Only what the user changed, so an untouched field is never re-written."""
        data = {}
        for name in self.fields:
            if name == "version":
                continue
            value = self.strip_value(name)
            current = getattr(self.incident, name)
            if value != current:
                data[name] = value
        return data

    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")


class CommentForm(ServiceErrorsMixin, forms.Form):
    body = forms.CharField(
        label="Add a comment",
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Write your comment first."},
    )

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write your comment first.")
        return body


class CsatForm(ServiceErrorsMixin, forms.Form):
    rating = forms.TypedChoiceField(
        label="How satisfied are you with how this incident was handled?",
        choices=RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a rating from 1 (very poor) to 5 (excellent).",
            "invalid_choice": "Choose a rating from 1 (very poor) to 5 (excellent).",
        },
    )
    comment = forms.CharField(
        label="Anything you would like to tell us?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CancelForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Why are you cancelling it?",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
