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
from itsm.views.queue import render_queue
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


def _page_path(kind: str) -> str | None:
    """The desk page of a kind of record with the id as ``_PK``, from its lifecycle (None for a
    kind without a page)."""
    lifecycle = lifecycle_of(kind)
    return reverse(lifecycle.desk_page, args=[_PK]) if lifecycle and lifecycle.desk_page else None


def _task_parent(kind: str):
    """For a kind of task (a ``WorkTask`` naming its ``PARENT``): its model and its parent's
    kind; None for any other kind."""
    lifecycle = lifecycle_of(kind)
    model = lifecycle.model if lifecycle else None
    parent_field = getattr(model, "PARENT", "")
    if not parent_field:
        return None
    return model, parent_field, model._meta.get_field(parent_field).related_model.KIND


def desk_links(rows) -> None:
    """Set ``desk_url`` on each Work row: its own desk page by its kind's lifecycle, a task's
    parent's page (it has none of its own), or None. Each path is reversed once per kind, and
    the parents of a page's tasks cost one query per kind of task, whatever the page size."""
    paths: dict[str, str | None] = {}

    def url(kind: str, pk) -> str | None:
        if kind not in paths:
            paths[kind] = _page_path(kind)
        return paths[kind].replace(str(_PK), str(pk)) if paths[kind] and pk is not None else None

    tasks: dict[str, list] = {}
    for work in rows:
        work.desk_url = url(work.kind, work.pk)
        if work.desk_url is None:
            tasks.setdefault(work.kind, []).append(work)
    for kind, works in tasks.items():
        parent = _task_parent(kind)
        if parent is None:
            continue
        model, parent_field, parent_kind = parent
        if _page_path(parent_kind) is None:
            continue
        parents = dict(
            model.objects.filter(pk__in=[w.pk for w in works]).values_list("pk", f"{parent_field}_id")
        )
        for work in works:
            work.desk_url = url(parent_kind, parents.get(work.pk))


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
        desk_links(page.object_list)
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

    def render_to_response(self, context, **response_kwargs):
        return render_queue(self.request, self.template_name, context)
