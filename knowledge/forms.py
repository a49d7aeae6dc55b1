"""Forms of the knowledge actions (``knowledge.actions``): their cleaned data are the workflow's
or service's keyword arguments. They only shape input; every rule is the workflows'."""

from __future__ import annotations

from django import forms

from itsm.forms import ActionForm
from knowledge.services import COMMENT_MAX


class NoInputForm(ActionForm):
    """Submit, publish, retire, revise: the button is the whole form."""


class SendBackForm(ActionForm):
    review_notes = forms.CharField(
        label="What it needs", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


class RestoreForm(ActionForm):
    version = forms.IntegerField(label="Version", min_value=1)


class FeedbackForm(ActionForm):
    helpful = forms.TypedChoiceField(
        label="Did this article help?", choices=[("true", "Yes"), ("false", "No")],
        coerce=lambda value: value == "true", widget=forms.RadioSelect,
    )  # fmt: skip
    comment = forms.CharField(
        label="Comment (optional, read by the knowledge team)", required=False,
        widget=forms.Textarea(attrs={"rows": 3}), max_length=COMMENT_MAX,
    )  # fmt: skip
