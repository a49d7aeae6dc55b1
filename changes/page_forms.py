"""Forms of the desk's change pages: the queue's filters, the new-change form, the change page's
edit form and the work-note form. (The action forms — submit, approve, reject, gates, PIR… —
are in ``changes/forms.py``, with the action table.)

They only shape input: the cleaned data go to ``changes.services`` (``change_create``,
``change_update``), which check every rule (the freeze, the type gate, the approval that does
not outlive an edit…) whatever door the write came through. Who may see a filter or write a
field comes from the policy.
"""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import Q
from django.forms.models import fields_for_model, model_to_dict
from django.utils import timezone

from changes.models import Change, ChangeState, ChangeType, GovernanceTemplate, RiskLevel
from incidents.models import NOTE_MAX
from itsm import people, policy
from itsm.models import Host, HostGroup
from itsm.policy.rules import CLOSED_OR_CANCELLED
from itsm.views.queue import WorkQueueFilter, active_groups

OPEN_STATES = tuple(state for state in ChangeState.values if state not in CLOSED_OR_CANCELLED)
LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


# --- The queue ------------------------------------------------------------------------------


class QueueFilter(WorkQueueFilter):
    """State, type, risk level, group, assignee, mine, unassigned, and the sort order. Filters and
    sorts on fields the policy hides from the user are removed, as if they did not exist."""

    OPEN_STATES = OPEN_STATES
    SORTS = {
        "number": ("Number", "number"),
        "opened_at": ("Opened", "opened_at"),
        "updated_at": ("Updated", "updated_at"),
        "state": ("State", "state"),
        "planned_start": ("Planned start", "planned_start"),
    }

    state = django_filters.ChoiceFilter(
        choices=[("open", "Open (not closed or cancelled)"), *ChangeState.choices],
        method="filter_state",
        empty_label="Any state",
    )
    change_type = django_filters.ChoiceFilter(choices=ChangeType.choices, empty_label="Any type", label="Type")
    risk_level = django_filters.ChoiceFilter(choices=RiskLevel.choices, empty_label="Any risk", label="Risk")

    class Meta:
        model = Change
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("priority", None)  # changes are ranked by risk, not priority
        first = [name for name in ("state", "change_type", "risk_level") if name in self.filters]
        self.filters = {name: self.filters[name] for name in [*first, *(n for n in self.filters if n not in first)]}


# --- Hosts and host groups, typed by name ---------------------------------------------------

SEPARATORS = re.compile(r"[\s,;]+")


def _names(text: str, *, lines: bool) -> list[str]:
    """Names separated by commas or new lines (``lines``: names may hold spaces), else by any
    white space too; each once, in order."""
    parts = re.split(r"[,;\n]+", text) if lines else SEPARATORS.split(text)
    return list(dict.fromkeys(part.strip() for part in parts if part.strip()))


class NamesField(forms.CharField):
    """Records of ``model`` the user may read, typed by name (``lookup``, case-insensitive);
    cleaned into a list of them. An unknown name is an error that names it."""

    def __init__(self, *, model, lookup: str, noun: str, lines: bool, **kwargs):
        self.model, self.lookup, self.noun, self.lines = model, lookup, noun, lines
        self.user = None
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 20000)
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off"}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return ", ".join(getattr(item, self.lookup, str(item)) for item in value)
        return value

    def clean(self, value):
        text = super().clean(value)
        names = _names(text, lines=self.lines)
        if not names:
            return []
        if len(names) > 500:
            raise forms.ValidationError(f"Name at most 500 {self.noun}s.")
        readable = policy.readable(self.user, self.model) if self.user is not None else self.model.objects.none()
        query = Q()
        for name in names:
            query |= Q(**{f"{self.lookup}__iexact": name})
        found = {getattr(row, self.lookup).lower(): row for row in readable.filter(query)}
        unknown = [name for name in names if name.lower() not in found]
        if unknown:
            raise forms.ValidationError(f"No {self.noun} is called {', '.join(unknown)}.")
        return list(dict.fromkeys(found[name.lower()] for name in names))


def hosts_field():
    return NamesField(
        model=Host, lookup="hostname", noun="host", lines=False, label="Hosts",
        help_text="Host names, separated by commas or spaces.",
    )  # fmt: skip


def host_groups_field():
    return NamesField(
        model=HostGroup, lookup="name", noun="host group", lines=True, label="Host groups",
        help_text="Host group names, separated by commas.",
    )  # fmt: skip


class TemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


def active_templates(user):
    return policy.readable(user, GovernanceTemplate).filter(active=True).order_by("name")


def template_summaries(user) -> list[dict]:
    """Each active template as the new-change form shows it: its maturity badge, minimum notice
    and gate chips."""
    return [
        {
            "template": template,
            "maturity": template.get_maturity_level_display(),
            "required": list(template.required_gates),
            "optional": list(template.optional_gates),
        }
        for template in active_templates(user)
    ]


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        if isinstance(field.widget, forms.Textarea):
            field.widget.attrs["rows"] = 3
        if isinstance(field, forms.DateTimeField):
            field.widget = LOCAL_INPUT
            zone = timezone.get_current_timezone_name()
            field.help_text = f"Date and time ({zone})."


# --- A new change -----------------------------------------------------------------------------

NEW_FIELDS = (
    "short_description", "description", "change_type", "governance_template", "planned_start", "planned_end",
    "justification", "implementation_plan", "backout_plan", "test_plan", "hosts", "host_groups",
    "assignment_group", "assignee", "notice_override_reason",
)  # fmt: skip
LABELS = {
    "short_description": "Title",
    "change_type": "Type",
    "governance_template": "Governance template",
    "notice_override_reason": "Notice override reason",
}
HELP = {
    "change_type": "Standard changes may be approved at once; normal and emergency changes start as a draft.",
    "notice_override_reason": "Only when the planned start is sooner than the template's minimum notice: why it cannot wait.",
    "justification": "Why the change is needed.",
}


def _change_field(name: str, user):
    """The form field for one of the change's fields, as the desk offers it."""
    if name == "hosts":
        return hosts_field()
    if name == "host_groups":
        return host_groups_field()
    if name == "governance_template":
        return TemplateChoiceField(
            queryset=active_templates(user), required=False, empty_label="No template", label=LABELS[name],
            help_text="Its gates are completed before approval; its notice and auto-approval rules apply.",
        )  # fmt: skip
    if name == "assignee":
        return people.PersonField(
            source="changes.change.assignee", user=user, required=False, label="Assignee",
            error_messages={"not_found": "No one called “%(text)s” may be assigned here."},
        )  # fmt: skip
    if name == "assignment_group":
        return forms.ModelChoiceField(
            queryset=active_groups(user), required=False, empty_label="No group", label="Group"
        )
    field = fields_for_model(Change, fields=[name])[name]
    if name in LABELS:
        field.label = LABELS[name]
    if name in HELP:
        field.help_text = HELP[name]
    return field


def _bind_users(form: forms.Form, user) -> None:
    for field in form.fields.values():
        if isinstance(field, NamesField):
            field.user = user


class ChangeNewForm(forms.Form):
    """A new change: the fields of ``NEW_FIELDS`` the user may write when creating one."""

    def __init__(self, data=None, *, user, initial=None):
        super().__init__(data, initial=initial)
        writable = policy.writable_fields(user, Change)
        for name in NEW_FIELDS:
            if name in writable or name == "short_description":
                self.fields[name] = _change_field(name, user)
        if "governance_template" in self.fields and not self.fields["governance_template"].queryset.exists():
            del self.fields["governance_template"]  # no template to offer: no dropdown
        if "change_type" in self.fields:
            self.fields["change_type"].initial = ChangeType.NORMAL
            self.fields["change_type"].choices = ChangeType.choices  # no blank choice
        _style(self)
        _bind_users(self, user)

    def service_data(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value not in (None, "") and not (isinstance(value, list) and not value)
        }


# --- The change page's edit form --------------------------------------------------------------

EDIT_FIELDS = (
    "short_description", "description", "change_type", "governance_template", "planned_start", "planned_end",
    "justification", "implementation_plan", "backout_plan", "test_plan", "hosts", "host_groups",
    "notice_override_reason",
)  # fmt: skip


class ChangeEditForm(forms.Form):
    """The fields of ``EDIT_FIELDS`` the user may write on this change now, and the version it
    saw (a change made meanwhile is refused, not overwritten)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, data=None, *, change: Change, writable, user):
        names = [name for name in EDIT_FIELDS if name in writable]
        initial = model_to_dict(change, fields=[n for n in names if n not in ("hosts", "host_groups")])
        for name in ("hosts", "host_groups"):
            if name in names:
                initial[name] = list(getattr(change, name).all())
        super().__init__(data, initial={**initial, "version": change.version})
        for name in names:
            self.fields[name] = _change_field(name, user)
        if "change_type" in self.fields:
            self.fields["change_type"].choices = ChangeType.choices
        if "governance_template" in self.fields and change.governance_template_id:
            # A template retired since keeps its place on the changes that name it.
            current = GovernanceTemplate.objects.filter(pk=change.governance_template_id)
            self.fields["governance_template"].queryset = (active_templates(user) | current).distinct()
        _style(self)
        _bind_users(self, user)
        self.order_fields(["version", *names])

    def changes(self) -> dict:
        """Only what the user changed (hosts and groups compared as sets)."""
        changed = {}
        for name in self.changed_data:
            if name == "version":
                continue
            value = self.cleaned_data[name]
            if name in ("hosts", "host_groups"):
                before = {item.pk for item in self.initial.get(name, [])}
                if before == {item.pk for item in value}:
                    continue
            changed[name] = value
        return changed

    def expected_version(self) -> int:
        return self.cleaned_data["version"]


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Work note", max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Seen by the service desk only.",
    )  # fmt: skip


class EmergencyChangeForm(forms.Form):
    """The emergency change raised from an incident page: what it will do and when."""

    short_description = forms.CharField(label="Title", max_length=200)
    implementation_plan = forms.CharField(
        label="Implementation plan", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    backout_plan = forms.CharField(label="Backout plan", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    planned_start = forms.DateTimeField(required=False, label="Planned start")
    planned_end = forms.DateTimeField(required=False, label="Planned end")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)

    def service_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}

