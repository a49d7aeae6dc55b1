from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.views.generic import TemplateView

from itsm import policy
from itsm.models import Work, WorkKind
from itsm.views.base import DeskMixin, PortalMixin

PAGE_SIZE = 25


def home(request):
    """Send people to their door: staff to the desk, customers to the portal."""
    if not request.user.is_authenticated:
        return redirect("login")
    if policy.has_permission(request.user, "desk.access"):
        return redirect("desk:home")
    return redirect("portal:home")


class LoginView(auth_views.LoginView):
    template_name = "itsm/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class DeskHomeView(DeskMixin, TemplateView):
    """The ITSM Work queue: all work the agent may read, newest first."""

    template_name = "itsm/desk/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queue = policy.readable(self.request.user, Work).select_related("assignee", "assignment_group")
        kind = self.request.GET.get("kind", "")
        if kind in WorkKind.values:
            queue = queue.filter(kind=kind)
        if self.request.GET.get("mine"):
            queue = queue.filter(assignee=self.request.user)
        page = Paginator(queue.order_by("-opened_at", "-id"), PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(page=page, kinds=WorkKind.choices, kind=kind, mine=bool(self.request.GET.get("mine")),
                       can_read_work=policy.can(self.request.user, "read", Work))
        return context


class PortalHomeView(PortalMixin, TemplateView):
    template_name = "itsm/portal/home.html"
