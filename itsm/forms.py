"""Form bases the desk and portal share."""

from __future__ import annotations

from django import forms


class ActionForm(forms.Form):
    """The desk form of an action in a record's ``ActionTable``: built with the acting user and
    the record (for choices and initial values that depend on them); a form without fields is a
    plain button. Its cleaned data are the action function's keyword arguments."""

    def __init__(self, data=None, *, user=None, record=None, **kwargs):
        self.user, self.record = user, record
        super().__init__(data, **kwargs)


class NoInputForm(ActionForm):
    """An action without input (fulfil, submit, start…): the button is the whole form."""
