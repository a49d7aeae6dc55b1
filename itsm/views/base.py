"""Desk and portal view mixins: the policy decides who enters and what they see."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from itsm import policy
from itsm.errors import ItsmError


class DeskMixin(LoginRequiredMixin):
    """Desk pages are for service-desk staff; everyone else gets a polite refusal page."""

    door = "desk"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not policy.has_permission(request.user, "desk.access"):
            return render(request, "itsm/desk_refused.html", status=403)
        return super().dispatch(request, *args, **kwargs)


class PortalMixin(LoginRequiredMixin):
    door = "portal"


def readable_or_404(user, model, **lookup):
    """Fetch a record the user may read; a record it may not read is simply not found."""
    try:
        return policy.readable(user, model).get(**lookup)
    except model.DoesNotExist:
        raise Http404("No such record.") from None


def error_status(exc: ItsmError) -> int:
    if exc.status == 403:
        raise PermissionDenied(exc.message)
    return exc.status
