"""Filtering, search and ordering that offer only fields the user may read.

Asking for a hidden field is answered as if it had not been asked: the same rows, in the
default order, so the answer reveals nothing about the field's values.
"""

import copy
from datetime import UTC

from django import forms
from django.apps import apps
from django.db import models
from django_filters import fields as filter_fields
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter

from itsm import policy
from itsm.numbering import as_record_number
from itsm.ordering import root
from itsm.ordering import total as ordering_total
from itsm.validators import is_possible_pk, validate_date


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment turned to UTC: PostgreSQL refuses some offsets of far-off dates
    (e.g. +17:40 in the year 278), which crashed the query instead of matching. A moment out of
    the sane range (``itsm.validators``) is refused like any user-given date."""

    default_validators = [validate_date]

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("Give a date and time in ISO 8601.", code="invalid") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class IdFilter(filters.NumberFilter):
    """A related record's id; one no record can have (e.g. past 64 bits) is a 400, not a crash."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=2**63 - 1, **kwargs)


class StrictBooleanField(forms.Field):
    """``true`` or ``false`` (``1`` or ``0``, any case); anything else is a 400 naming the
    parameter, where django-filter would drop the filter and answer every row."""

    widget = forms.TextInput
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        if str(value).lower() not in self.VALUES:
            raise forms.ValidationError("Use true or false (or 1 or 0).", code="invalid")
        return self.VALUES[str(value).lower()]


def _possible_key(field, value) -> bool:
    """Whether ``value`` can be the key a related-record choice looks up (``is_possible_pk``):
    Django guards plain integer keys, not a key that is itself a relation (an incident's
    ``work_ptr``), where a number past 64 bits crashes the driver."""
    model = field.queryset.model
    if isinstance(value, models.Model) or field.to_field_name not in (None, "pk", model._meta.pk.name):
        return True
    return is_possible_pk(model, value)


class RecordChoiceField(filter_fields.ModelChoiceField):
    def to_python(self, value):
        is_null = self.null_label is not None and value == self.null_value
        if value not in self.empty_values and not is_null and not _possible_key(self, value):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class RecordMultipleChoiceField(filter_fields.ModelMultipleChoiceField):
    def _check_values(self, value):
        for item in value:
            if item != self.null_value and not _possible_key(self, item):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": item}
                )
        return super()._check_values(value)


class RecordChoiceFilter(filters.ModelChoiceFilter):
    """A related record by id; an id no record can have is refused like an unknown one (400)."""

    field_class = RecordChoiceField


class RecordMultipleChoiceFilter(filters.ModelMultipleChoiceFilter):
    field_class = RecordMultipleChoiceField


class PolicyFilterSet(filters.FilterSet):
    """The base of every API filterset: date-times in ISO 8601 turned to UTC, booleans strict,
    related records chosen by an id no record can have refused (400), not a crash."""

    FILTER_DEFAULTS = copy.deepcopy(filters.FilterSet.FILTER_DEFAULTS)
    FILTER_DEFAULTS[models.DateTimeField] = {"filter_class": UtcDateTimeFilter}
    for _spec in FILTER_DEFAULTS.values():
        if _spec["filter_class"] is filters.ModelChoiceFilter:
            _spec["filter_class"] = RecordChoiceFilter
        elif _spec["filter_class"] is filters.ModelMultipleChoiceFilter:
            _spec["filter_class"] = RecordMultipleChoiceFilter
    del _spec

    @classmethod
    def get_filters(cls):
        found = super().get_filters()
        for filter_ in found.values():  # declared ones too, so a subclass need not remember
            if isinstance(filter_, filters.BooleanFilter):
                filter_.field_class = StrictBooleanField
                filter_.extra["widget"] = forms.TextInput
        return found


class PolicyFilterBackend(DjangoFilterBackend):
    """Drops filters on hidden fields, and offers a relation filter only the values the user may
    pick (``policy.limit_choices``): a customer's ``?requester=`` takes people of its own
    organisation, and anyone else's id is answered as an id that does not exist."""

    filterset_base = PolicyFilterSet

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None and not getattr(view, "swagger_fake_view", False):
            hidden = policy.hidden_fields(request.user, queryset.model)
            for name in list(filterset.filters):
                if root(filterset.filters[name].field_name) in hidden or root(name) in hidden:
                    del filterset.filters[name]
            for name, choice in filterset.filters.items():
                if isinstance(getattr(choice, "queryset", None), models.QuerySet):
                    choice.queryset = policy.limit_choices(request.user, name, choice.queryset)
                    vars(choice).pop("_field", None)  # a form field built from the whole queryset
        return filterset


class PolicySearchFilter(SearchFilter):
    def get_search_terms(self, request):
        try:
            terms = super().get_search_terms(request)
        except ValidationError as exc:
            # DRF refuses a NUL character with a bare list; name the parameter, as every 400 does.
            detail = exc.detail if isinstance(exc.detail, dict) else {self.search_param: exc.detail}
            raise ValidationError(detail) from exc
        # A NUL character can match nothing, and PostgreSQL refuses it in a query.
        return [term.replace("\x00", "") for term in terms if term.strip("\x00")]

    def get_search_fields(self, view, request):
        fields = super().get_search_fields(view, request) or ()
        hidden = policy.hidden_fields(request.user, view.get_policy_model())
        return [f for f in fields if root(f.lstrip("^=@$")) not in hidden]

    def filter_queryset(self, request, queryset, view):
        """A search that is one whole record number (``INC0000042``) finds that record through
        the unique index. Otherwise each word must appear in one of the fields, as DRF's search
        does; where the record keeps those very fields in ``search_text`` and the user may read
        every one of them, in that one indexed column (``Work.search_text``)."""
        terms = self.get_search_terms(request)
        fields = {f.lstrip("^=@$") for f in self.get_search_fields(view, request)}
        if not terms:
            return queryset
        number = as_record_number(terms[0]) if len(terms) == 1 else None
        if number is not None and "number" in fields:
            return queryset.filter(number=number)
        searched = set(getattr(queryset.model, "SEARCHED", ()))
        if searched and fields == searched and _reads_every_document(request.user, queryset.model):
            for term in terms:
                queryset = queryset.filter(search_text__contains=term.lower())
            return queryset
        return super().filter_queryset(request, queryset, view)


def _reads_every_document(user, model) -> bool:
    """Whether ``user`` may read every field any row of ``model`` keeps in ``search_text``: a
    row of a child model (an incident in the ITSM Work queue) keeps the child's fields too, so
    each kind's own ``SEARCHED`` must be readable, or the column would find words in fields
    hidden from the reader."""
    kinds = [model, *(m for m in apps.get_models() if issubclass(m, model) and m is not model)]
    return all(set(kind.SEARCHED) <= policy.readable_fields(user, kind) for kind in kinds)


class PolicyOrderingFilter(OrderingFilter):
    def get_valid_fields(self, queryset, view, context=None):
        fields = super().get_valid_fields(queryset, view, context or {})
        request = (context or {}).get("request") or getattr(view, "request", None)
        if request is None:
            return fields
        hidden = policy.hidden_fields(request.user, queryset.model)
        return [(name, label) for name, label in fields if root(name) not in hidden]

    def get_ordering(self, request, queryset, view):
        """The asked ordering, made total by ``itsm.ordering.total``: pages of a non-unique
        ordering would otherwise repeat or skip rows, and its tie-break is the one the
        composite indexes serve in both directions."""
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        return ordering_total(queryset.model, list(ordering))
