"""Problems seen from an incident: raise a problem from it, and the known errors that match it
(accepting one links the incident, which then shows the known error's workaround). The incident
pages link here by URL name; incidents never import problems."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from incidents.models import Incident
from itsm import policy
from itsm.views.base import DeskMixin, record_or_404, submit
from problems import services
from problems.forms import ProblemNewForm
from problems.models import Problem
from problems.selectors import match_for_incident


class ProblemNewView(DeskMixin, View):
    """Raise a problem, from ``?incident=<pk>`` when given (prefilled and linked)."""

    template_name = "problems/desk/new.html"

    def _incident(self, request):
        pk = request.GET.get("incident")
        return record_or_404(request.user, Incident, pk) if pk else None

    def page(self, form, incident, status=200):
        context = {"form": form, "incident": incident}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request):
        if not policy.can(request.user, "create", Problem):
            raise Http404("No such page.")
        incident = self._incident(request)
        initial = {"short_description": incident.short_description, "description": incident.description,
                   "symptoms": incident.description} if incident else {}  # fmt: skip
        return self.page(ProblemNewForm(initial=initial), incident)

    def post(self, request):
        if not policy.can(request.user, "create", Problem):
            raise Http404("No such page.")
        incident = self._incident(request)
        form = ProblemNewForm(request.POST)
        raised = {}

        def create(data) -> str:
            problem = raised["problem"] = services.problem_create(
                actor=request.user, data=form.service_data(), incident=incident
            )
            linked = f", linked to {incident.number}" if incident else ""
            return f"{problem.number} is raised{linked}."

        return submit(
            request, form, create, then=lambda: reverse("desk:problem-detail", args=[raised["problem"].pk]),
            page=lambda status: self.page(form, incident, status),
        )  # fmt: skip


class IncidentKnownErrorsView(DeskMixin, View):
    """The known errors that match an incident, best first, each with its score and why; the
    agent links the incident to one of them (the problem's link-incidents action)."""

    def get(self, request, pk):
        if not policy.can(request.user, "read", Problem):
            raise Http404("No such page.")
        incident = record_or_404(request.user, Incident, pk)
        linked = set(incident.related_problems.values_list("pk", flat=True))
        matches = [m for m in match_for_incident(request.user, incident) if m.problem.pk not in linked]
        context = {"incident": incident, "matches": matches, "may_link": policy.can(request.user, "link_incidents", Problem)}
        return render(request, "problems/desk/incident_known_errors.html", context)
