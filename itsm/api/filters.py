"""Filtering, search and ordering that offer only fields the user may read.

Asking for a hidden field is answered as if it had not been asked: the same rows, in the
default order, so the answer reveals nothing about the field's values.
"""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import OrderingFilter, SearchFilter

from itsm import policy


def _root(name: str) -> str:
    return name.lstrip("-").split("__", 1)[0]


class PolicyFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None and not getattr(view, "swagger_fake_view", False):
            hidden = policy.hidden_fields(request.user, queryset.model)
            for name in list(filterset.filters):
                if _root(filterset.filters[name].field_name) in hidden or _root(name) in hidden:
                    del filterset.filters[name]
        return filterset


class PolicySearchFilter(SearchFilter):
    def get_search_fields(self, view, request):
        fields = super().get_search_fields(view, request) or ()
        hidden = policy.hidden_fields(request.user, view.get_policy_model())
        return [f for f in fields if _root(f.lstrip("^=@$")) not in hidden]


class PolicyOrderingFilter(OrderingFilter):
    def get_valid_fields(self, queryset, view, context=None):
        fields = super().get_valid_fields(queryset, view, context or {})
        request = (context or {}).get("request") or getattr(view, "request", None)
        if request is None:
            return fields
        hidden = policy.hidden_fields(request.user, queryset.model)
        return [(name, label) for name, label in fields if _root(name) not in hidden]
