"""The journal as people read it on a record's timeline (desk and portal alike).

``itsm.audit`` stores each value as text (``audit.display``): a choice's code, a person as
"Alex Agent (#4)", a time in ISO 8601. ``entries_for`` is ``audit.entries_for`` (the policy's
cut: nothing about a hidden field, actors named as ``policy.person_name`` names them) with each
entry labelled for the page: the field's verbose name, the choice's label (a state's from the
kind's lifecycle), a person or record by name, a time in the installation's time zone as the
rest of the page writes it. The stored values, which the API returns, are untouched.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import dateformat, timezone

from itsm import audit, policy
from itsm.workflow import lifecycle_of

DATETIME_FORMAT = "j M Y H:i"
DATE_FORMAT = "j M Y"
_REFERENCE = re.compile(r"(.*?) \(#(\d+)\)(?:, |$)")
_WORDS = {"rca": "RCA", "sla": "SLA", "cab": "CAB", "pir": "PIR"}


def humanise(code: str) -> str:
    """A code as a phrase: ``in_progress`` → "In progress", ``submit-rca`` → "Submit RCA"."""
    words = [_WORDS.get(word, word) for word in re.split(r"[_\-\s]+", code or "") if word]
    phrase = " ".join(words)
    return phrase[:1].upper() + phrase[1:]


class _Named:
    """A person as the journal wrote them (name and id), enough for ``policy.person_name``."""

    def __init__(self, name: str, pk: str):
        self.name, self.pk = name, int(pk)

    def get_full_name(self) -> str:
        return self.name

    def get_username(self) -> str:
        return self.name


def _field(model, name: str):
    """The record's own field of that name; None for a reverse relation (a journal entry about
    a request's ``tasks`` or ``approvals``) or a name that is no field (``conversation``)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return None if field.auto_created and not field.concrete else field


def field_label(model, name: str) -> str:
    """The field's verbose name (lower case, as in "changed the assignment group")."""
    field = _field(model, name)
    if field is not None and getattr(field, "verbose_name", None):
        return str(field.verbose_name)
    return humanise(name).lower()


def _moment(raw: str, *, whole_day: bool) -> str:
    try:
        value = date.fromisoformat(raw) if whole_day else datetime.fromisoformat(raw)
    except ValueError:
        return raw
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.utc)
        return dateformat.format(timezone.localtime(value), DATETIME_FORMAT)
    return dateformat.format(value, DATE_FORMAT)


def value_label(reader, record, name: str, raw: str, *, states: dict[str, str]) -> str:
    """One stored value as ``reader`` reads it on ``record``'s page."""
    if not raw:
        return ""
    if name == "state":
        return states.get(raw) or humanise(raw)
    field = _field(type(record), name)
    if field is None:
        return raw
    if field.choices:
        return str(dict((str(k), v) for k, v in field.flatchoices).get(raw, raw))
    if isinstance(field, models.DateTimeField):
        return _moment(raw, whole_day=False)
    if isinstance(field, models.DateField):
        return _moment(raw, whole_day=True)
    if isinstance(field, models.BooleanField):
        return {"True": "yes", "False": "no"}.get(raw, raw)
    if field.is_relation:
        references = _REFERENCE.findall(raw)
        if not references:
            return raw
        people = field.related_model is not None and field.related_model._meta.label == settings.AUTH_USER_MODEL
        if people and not policy.names_people(reader):
            names = [policy.person_name(reader, _Named(name_, pk), record) for name_, pk in references]
        else:
            names = [name_ for name_, _pk in references]
        return ", ".join(names)
    return raw


def label(reader, record, entries):
    """Set ``field_label``, ``old_label``, ``new_label`` and ``transition_label`` on each entry."""
    lifecycle = lifecycle_of(record)
    states = {str(k): str(v) for k, v in lifecycle.states.choices} if lifecycle else {}
    model = type(record)
    for entry in entries:
        entry.field_label = field_label(model, entry.field) if entry.field else ""
        entry.transition_label = humanise(entry.transition)
        entry.old_label = value_label(reader, record, entry.field, entry.old_value, states=states)
        entry.new_label = value_label(reader, record, entry.field, entry.new_value, states=states)
    return entries


def entries_for(reader, record):
    """The record's journal as ``reader`` may see it (``audit.entries_for``), labelled."""
    return label(reader, record, audit.entries_for(reader, record))
