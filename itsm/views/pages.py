"""The doors' front pages: sign in and out, and the desk's Work queue (the portal's home lists
the customer's incidents: ``incidents.views.portal.PortalHomeView``)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.generic import TemplateView

from itsm import policy
from itsm.models import Work, WorkKind
from itsm.pagination import paginate
from itsm.views.base import DeskMixin
from itsm.workflow import lifecycle_of

PAGE_SIZE = 25


def home(request):
    """Send people to their door: staff to the desk, customers to the portal."""
    if not request.user.is_authenticated:
        return redirect("login")
    if policy.has_permission(request.user, "desk.access"):
        return redirect("desk:home")
    return redirect("portal:home")


def display_name(user) -> str:
    return user.first_name or user.get_username()


class AuthenticationForm(auth_forms.AuthenticationForm):
    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": "Your username and password didn't match. Please try again.",
    }


class LoginView(auth_views.LoginView):
    template_name = "itsm/login.html"
    authentication_form = AuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Welcome back, {display_name(form.get_user())}.")
        return response


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes else "a while"
    return (
        "Too many failed sign-ins for this account or from this network. For your security, "
        f"signing in is paused: try again in {wait}, or ask an administrator to unlock it."
    )


def locked_out(request, response=None, credentials=None):
    """What django-axes answers a locked-out sign-in (AXES_LOCKOUT_CALLABLE), on the desk's
    and portal's sign-in page and the admin's alike: the sign-in page, saying why, with 429."""
    context = {"form": AuthenticationForm(request), "lockout": lockout_message()}
    return render(request, "itsm/login.html", context, status=429)


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, as Django 5 requires) and say so on the sign-in page."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have signed out.")
        return response


_PK = 918273645  # stands for the record's id in a reversed path


def _desk_url(work, paths: dict) -> str | None:
    """The record's own desk page, from its kind's lifecycle (a kind without one: no link);
    reversed once per kind and page."""
    if work.kind not in paths:
        lifecycle = lifecycle_of(work)
        paths[work.kind] = reverse(lifecycle.desk_page, args=[_PK]) if lifecycle and lifecycle.desk_page else None
    path = paths[work.kind]
    return path.replace(str(_PK), str(work.pk)) if path else None


class DeskHomeView(DeskMixin, TemplateView):
    """The ITSM Work queue: all work the agent may read, newest first. The count stops at 1,000
    and later pages follow a cursor (``itsm.pagination.paginate``): the queue holds everything."""

    template_name = "itsm/desk/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        queue = policy.readable(user, Work).select_related("assignee", "assignment_group")
        kind = self.request.GET.get("kind", "")
        if kind in WorkKind.values:
            queue = queue.filter(kind=kind)
        else:
            kind = ""
        mine = bool(self.request.GET.get("mine"))
        if mine:
            queue = queue.filter(assignee=user)
        page = paginate(self.request, queue.order_by("-opened_at", "-id"), PAGE_SIZE)
        page.object_list = list(page.object_list)
        paths: dict[str, str | None] = {}
        for work in page.object_list:
            work.desk_url = _desk_url(work, paths)
        context.update(
            page=page,
            kinds=WorkKind.choices,
            kind=kind,
            mine=mine,
            filtered=bool(kind or mine),
            can_read_work=policy.can(user, "read", Work),
            hidden=policy.hidden_fields(user, Work),
        )
        return context
