"""Forms of the portal's catalog pages. They only shape input: the request's own form comes from
the item's definition (``catalog.formdef.build_form``), who may write what from the policy, and
the writes themselves are the services' and workflows'."""

from __future__ import annotations

from django import forms

from catalog.models import RequestState
from itsm import people
from itsm.notes import NOTE_MAX

# The list's state filter: "" is every state.
STATE_CHOICES = [("", "All"), *RequestState.choices]
QUERY_MAX = 200


class RequestedForForm(forms.Form):
    """Whom the request is for: the requester (the default) or a colleague (an agent: anyone)."""

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("prefix", "meta")
        super().__init__(*args, **kwargs)
        # A colleague typed by name (whom the policy lets the user name), not a list of everyone.
        self.fields["requested_for"] = people.PersonField(
            source="catalog.request.requested_for",
            user=user,
            required=False,
            label="Requested for",
            help_text="If you are asking for this on behalf of a colleague, type their name; leave it empty for yourself.",
            error_messages={
                "not_found": "No one called “%(text)s” can be named here.",
                "ambiguous": "Several people match “%(text)s”: type their full name.",
            },
        )
        self.user = user

    def person(self):
        """The person named, or None for the requester itself (the service's default)."""
        chosen = self.cleaned_data.get("requested_for")
        return None if chosen is None or chosen.pk == self.user.pk else chosen


class RequestFilterForm(forms.Form):
    state = forms.ChoiceField(
        label="State",
        required=False,
        choices=STATE_CHOICES,
        error_messages={"invalid_choice": "Choose one of the listed states, or All."},
    )

    def chosen(self) -> str:
        return self.cleaned_data.get("state", "") if self.is_valid() else ""


class CommentForm(forms.Form):
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


class ApproveForm(forms.Form):
    """Approving needs no input."""


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Why are you rejecting it?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The person who asked will read this.",
        error_messages={"required": "Say why you are rejecting the request."},
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why you are rejecting the request.")
        return reason


class CancelForm(forms.Form):
    """Cancelling needs no input: the button says what it does."""


class CompleteForm(forms.Form):
    completion_notes = forms.CharField(
        label="Completion notes",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For the service desk; the customer does not see them.",
    )
