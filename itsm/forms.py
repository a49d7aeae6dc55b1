"""Form bases the desk and portal share."""

from __future__ import annotations

from django import forms

from itsm import people, policy
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


def active_groups(user):
    return policy.readable(user, AssignmentGroup).filter(is_active=True).order_by("name")


class AssignForm(ActionForm):
    """Every kind of Work's assign action: a person, a group, or both; leaving both empty
    unassigns. The person is typed, from the record's assignee source (``itsm.people``), never
    picked from a list of every agent; the assign service still checks every rule."""

    assignee = forms.Field(required=False)  # replaced by the record's people field in __init__
    assignment_group = forms.ModelChoiceField(
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
