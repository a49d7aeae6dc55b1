"""People pickers: who may be picked for a field, declared once per field, read by the form field
that accepts the choice and by the type-ahead endpoint that suggests it.

A *source* is a named rule ``reader -> queryset of people``: the assignees of a kind of Work (the
active holders of the permission its assign service checks), the people a customer may name as
requested-for (``policy.limit_choices``)… Each domain registers its sources from its ``rules.py``.
A source answers nothing to a reader who may not read the field it picks for (hidden means
hidden), so neither the form nor the suggestions ever show a customer the desk's people.

``PersonField`` renders only the current value (a text box, never a list of every person) and
resolves what was typed — a username, an e-mail address, a full name, "Full Name (username)" as
the suggestions read, or the id the script filled in — to exactly one person of its source with
one query, else a form error on the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Concat, Lower

from itsm import policy
from itsm.models import Organisation

SUGGESTIONS = 20  # the endpoint's answer is at most this long
TEXT_MAX = 200  # what the field and the endpoint read of what was typed
LABELLED = re.compile(r"^(?P<name>.*)\((?P<username>[^()\s]+)\)$")  # "Alex Agent (agent)"


@dataclass(frozen=True)
class PeopleSource:
    name: str  # the registry key and the endpoint's ?source=
    model: str  # the record the field belongs to ("incidents.incident")
    field: str  # the field picked for ("assignee"): a reader who may not read it gets no one
    people: Callable[[object], models.QuerySet]  # reader -> the people it may pick (lazy)
    permission: str = ""  # for assignee sources: the named permission every candidate holds

    def allowed(self, reader) -> models.QuerySet:
        """The people ``reader`` may pick from this source (a lazy queryset: never evaluated to
        render a form)."""
        users = get_user_model()
        if not getattr(reader, "is_authenticated", False):
            return users.objects.none()
        if self.field not in policy.readable_fields(reader, apps.get_model(self.model)):
            return users.objects.none()
        return self.people(reader)


SOURCES: dict[str, PeopleSource] = {}


def register(source: PeopleSource) -> PeopleSource:
    SOURCES[source.name] = source
    return source


def assignees(model: str, permission: str, *, field: str = "assignee") -> PeopleSource:
    """Register who may be assigned a kind of record: the active holders of ``permission`` (the
    rule its assign service checks, ``itsm.services.assignment_errors``). Named ``<model>.<field>``."""
    return register(
        PeopleSource(
            name=f"{model}.{field}",
            model=model,
            field=field,
            people=lambda reader: policy.users_with_permission(permission),
            permission=permission,
        )
    )


def nameable(model: str, field: str) -> PeopleSource:
    """Register the people a reader may name in a people field such as ``requested_for``: agents
    anyone active, a customer the people of its own organisation (``policy.limit_choices``)."""
    users = get_user_model()
    return register(
        PeopleSource(
            name=f"{model}.{field}",
            model=model,
            field=field,
            people=lambda reader: policy.limit_choices(reader, field, users.objects.filter(is_active=True)),
        )
    )


def source(name: str) -> PeopleSource:
    return SOURCES[name]


def assignee_source(model) -> PeopleSource | None:
    """The assignee source of a record type (a model or its label), if one is registered."""
    label = model if isinstance(model, str) else model._meta.label_lower
    return SOURCES.get(f"{label}.assignee")


def organisations(model: str, field: str = "organisation") -> PeopleSource:
    """Register the organisations a reader may name in a record's organisation field: those it
    may read (a customer: its own), typed by name rather than listed."""
    return register(
        PeopleSource(
            name=f"{model}.{field}",
            model=model,
            field=field,
            people=lambda reader: policy.readable(reader, Organisation),
        )
    )


def _is_person(obj_or_queryset) -> bool:
    model = obj_or_queryset.model if isinstance(obj_or_queryset, models.QuerySet) else type(obj_or_queryset)
    return issubclass(model, get_user_model())


def label(reader, person) -> str:
    """How ``reader`` reads a person in a picker: "Full Name (username)" for those who read
    people by username (``policy.names_people``: agents), the name alone for everyone else. An
    organisation reads as its name."""
    if person is None:
        return ""
    if not _is_person(person):
        return str(person)
    full = person.get_full_name()
    if policy.names_people(reader):
        return f"{full} ({person.get_username()})" if full else person.get_username()
    return full or person.get_username()


def _words_q(text: str, *, by_login: bool) -> Q:
    q = Q()
    for word in text.split()[:5]:
        either = Q(first_name__icontains=word) | Q(last_name__icontains=word)
        if by_login:
            either |= Q(username__icontains=word) | Q(email__icontains=word)
        q &= either
    return q


def suggest(reader, people: models.QuerySet, text: str) -> list:
    """At most ``SUGGESTIONS`` of ``people`` whose name (or, for agents, username or e-mail)
    holds every word typed, by name: one query."""
    text = text.strip()[:TEXT_MAX]
    if not text:
        return []
    if not _is_person(people):
        return list(people.filter(_names_q(text)).order_by("name", "pk")[:SUGGESTIONS])
    found = people.filter(_words_q(text, by_login=policy.names_people(reader)))
    return list(found.order_by("first_name", "last_name", "username", "pk")[:SUGGESTIONS])


def _names_q(text: str) -> Q:
    q = Q()
    for word in text.split()[:5]:
        q &= Q(name__icontains=word)
    return q


# Ranks of a candidate in ``resolve``: the lowest present wins when it is one person.
_BY_ID, _BY_USERNAME, _BY_EMAIL, _BY_NAME, _BY_NUMBER, _PARTLY = range(6)


def resolve(reader, people: models.QuerySet, text: str, pk: str = "") -> tuple[object | None, list]:
    """The one person of ``people`` that ``text`` (and the id a script filled in, ``pk``) names,
    with one query: ``(person, [])`` when exactly one best match; else ``(None, candidates)``
    (none, or several equally good). The id counts only while the text still reads as that
    person's label, so a person typed over the script's pick is the one typed."""
    text = text.strip()[:TEXT_MAX]
    person = _is_person(people)
    if person:
        labelled = LABELLED.match(text)
        username = labelled.group("username") if labelled else text
        when = [
            When(username__iexact=username, then=Value(_BY_USERNAME)),
            When(email__iexact=text, then=Value(_BY_EMAIL)),
            When(full_name=text.lower(), then=Value(_BY_NAME)),
        ]
        exact = Q(username__iexact=username) | Q(email__iexact=text) | Q(full_name=text.lower())
        partly = _words_q(text, by_login=policy.names_people(reader))
        people = people.annotate(full_name=Lower(Concat("first_name", Value(" "), "last_name")))
        order = ("rank", "first_name", "last_name", "username", "pk")
    else:  # an organisation, by its name
        when = [When(name__iexact=text, then=Value(_BY_NAME))]
        exact, partly, order = Q(name__iexact=text), _names_q(text), ("rank", "name", "pk")
    if pk.isdigit() and len(pk) < 19:
        when.insert(0, When(pk=int(pk), then=Value(_BY_ID)))
        exact |= Q(pk=int(pk))
    if text.isdigit() and len(text) < 19:
        when.append(When(pk=int(text), then=Value(_BY_NUMBER)))
        exact |= Q(pk=int(text))
    rows = list(
        people.filter(exact | partly)
        .annotate(rank=Case(*when, default=Value(_PARTLY), output_field=IntegerField()))
        .order_by(*order)[:SUGGESTIONS]
    )
    rows = [row for row in rows if row.rank != _BY_ID or label(reader, row) == text]
    if not rows:
        return None, []
    best = [row for row in rows if row.rank == rows[0].rank]
    if len(best) == 1:
        return best[0], []
    return None, best


class PersonInput(forms.Widget):
    """A text box for a person with a suggestions list (``<datalist>``) the script fills from the
    people endpoint, and the id of the suggestion picked. Renders the current person's label only."""

    template_name = "itsm/widgets/person.html"
    reader = None
    source = ""

    def value_from_datadict(self, data, files, name):
        return {"text": data.get(name) or "", "pk": data.get(f"{name}_pk") or ""}

    def value_omitted_from_data(self, data, files, name):
        return name not in data

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if isinstance(value, dict):
            text, pk = value.get("text", ""), value.get("pk", "")
        elif value is None or value == "":
            text, pk = "", ""
        else:
            text, pk = label(self.reader, value), value.pk
        widget = context["widget"]
        widget.update(text=text, pk=pk, source=self.source)
        widget["attrs"].setdefault("autocomplete", "off")
        return context


class UsernamesInput(forms.TextInput):
    """A text box of user names separated by commas, with type-ahead for the name being typed
    (the same endpoint and script as ``PersonInput``; suggestions read "Full Name (username)"
    and picking one puts its user name in place)."""

    template_name = "itsm/widgets/usernames.html"

    def __init__(self, source: str, attrs=None):
        super().__init__({"autocomplete": "off", **(attrs or {})})
        self.source = source

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["source"] = self.source
        return context


class PersonField(forms.Field):
    """One person of a people source (``itsm.people.SOURCES``), typed rather than chosen from a
    list. ``keep`` is a person the record already names, accepted again even when the source
    would not offer them now (an edit that leaves the field alone is no change)."""

    widget = PersonInput
    default_error_messages = {
        "not_found": "No one called “%(text)s” may be chosen here.",
        "ambiguous": "Several people match “%(text)s”: type more of the name, or the username.",
    }

    def __init__(self, *, source: str, user, keep=None, **kwargs):
        kwargs.setdefault("help_text", "Type a name, a username or an e-mail address.")
        super().__init__(**kwargs)
        self.source_name = source
        self.user = user
        self.keep = keep
        self.widget.reader = user
        self.widget.source = source
        self._resolved: dict[tuple[str, str], object] = {}

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result._resolved = {}
        return result

    @property
    def queryset(self) -> models.QuerySet:
        people = source(self.source_name).allowed(self.user)
        if self.keep is not None:
            people = people | type(self.keep).objects.filter(pk=self.keep.pk)
        return people

    @staticmethod
    def _key(value) -> tuple[str, str]:
        if isinstance(value, dict):
            return (str(value.get("text", "")).strip()[:TEXT_MAX], str(value.get("pk", "")).strip())
        if value is None:
            return ("", "")
        return (str(getattr(value, "pk", value)), "")

    def to_python(self, value):
        text, pk = self._key(value)
        if not text:
            return None
        if (text, pk) in self._resolved:
            return self._resolved[(text, pk)]
        person, candidates = resolve(self.user, self.queryset, text, pk)
        if person is None:
            code = "ambiguous" if candidates else "not_found"
            raise forms.ValidationError(self.error_messages[code], code=code, params={"text": text})
        self._resolved[(text, pk)] = person
        return person

    def bound_data(self, data, initial):
        return self._resolved.get(self._key(data), data)

    def has_changed(self, initial, data) -> bool:
        try:
            value = self.to_python(data)
        except forms.ValidationError:
            return True
        return (getattr(initial, "pk", initial) or None) != getattr(value, "pk", None)

    def prepare_value(self, value):
        # An id given as the initial value: the person, so the box shows their label (one query).
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit() and len(value) < 19):
            return self.queryset.model.objects.filter(pk=int(value)).first()
        return value
