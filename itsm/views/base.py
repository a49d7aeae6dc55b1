"""Desk and portal view mixins: the policy decides who enters and what they see."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from itsm import policy
from itsm.errors import ItsmError, NotFound
from itsm.validators import is_possible_pk


class DeskMixin(LoginRequiredMixin):
    """Desk pages are for service-desk staff; everyone else gets a polite refusal page."""

    door = "desk"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not policy.has_permission(request.user, "desk.access"):
            return render(request, "itsm/desk_refused.html", status=403)
        return super().dispatch(request, *args, **kwargs)


class PortalMixin(LoginRequiredMixin):
    door = "portal"


def record_or_404(user, model, pk, *, queryset=None):
    """The record with primary key ``pk`` if the user may read it (from ``queryset``, for the
    related rows a page needs); a record it may not read, or a key no row could have, is simply
    not found: the same answer, so ids cannot be probed."""
    name = model._meta.verbose_name
    if not is_possible_pk(model, pk):
        raise Http404(f"No such {name}.")
    try:
        return policy.readable(user, model, queryset).get(pk=pk)
    except model.DoesNotExist:
        raise Http404(f"No such {name}.") from None


def submit(request, form, call: Callable[[dict], str], *, page: Callable[[int], HttpResponse], then: str | Callable[[], str],
           door: str = "desk", refusal: Callable[[ItsmError], str] | None = None) -> HttpResponse:  # fmt: skip
    """The one way a desk or portal form reaches a service. Valid input: ``call`` the service with
    it and redirect to ``then`` (or where ``then()`` says) with the message it returned. Otherwise show the page again
    (``page(status)``) with the form's errors: bad input 400, or the service's refusal (403, 409,
    400) with its field messages on the form's fields and its message (``refusal`` may word it
    for the reader) at the top of the page (desk) or of the form (portal). A record that is gone
    or unreadable meanwhile is a 404."""
    if not form.is_valid():
        if door == "desk":
            messages.error(request, "Nothing was changed: please correct the form below.")
        return page(400)
    try:
        done = call(form.cleaned_data)
    except NotFound:
        raise Http404("No such record.") from None
    except ItsmError as exc:
        message = refusal(exc) if refusal is not None else exc.message
        if door == "desk":
            messages.error(request, message)
        else:
            form.add_error(None, message)
        for name, problems in exc.fields.items():
            if name in form.fields:
                form.add_error(name, problems)
        return page(exc.status)
    if done:
        messages.success(request, done)
    return redirect(then() if callable(then) else then)


def error_status(exc: ItsmError) -> int:
    if exc.status == 403:
        raise PermissionDenied(exc.message)
    return exc.status
