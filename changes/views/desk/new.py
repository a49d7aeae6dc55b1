"""Raising a change on the desk: the new-change form (with the governance templates' summaries:
maturity, minimum notice, gates), and the emergency change raised from an incident page."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from changes import services
from changes.models import Change
from changes.page_forms import ChangeNewForm, EmergencyChangeForm, template_summaries
from changes.panels import may_raise_emergency
from incidents.models import Incident
from itsm import policy
from itsm.views.base import DeskMixin, record_or_404, submit


def created_message(change: Change) -> str:
    """What the desk says after creating a change: where it stands now, and why."""
    if change.state == "approved" and change.change_type == "standard":
        return f"{change.number} is created and approved at once: it is a standard change within its template's policy."
    if change.state == "submitted":
        reason = f" {change.routing_reason}" if change.routing_reason else ""
        return f"{change.number} is created and sent to the CAB for a decision.{reason}"
    if change.state == "approved":
        return f"{change.number} is created and approved."
    return f"{change.number} is created as a draft: complete its gates, then submit it to the CAB."


class ChangeNewView(DeskMixin, View):
    """A new change (agents). ``?template=<id>`` preselects a governance template; the form lists
    every active template with its maturity badge, minimum notice and gates (a small script
    shows only the chosen one's; without it, all are listed)."""

    template_name = "changes/desk/new.html"

    def page(self, form, status=200):
        user = self.request.user
        summaries = template_summaries(user) if "governance_template" in form.fields else []
        chosen = form["governance_template"].value() if "governance_template" in form.fields else None
        context = {"form": form, "templates": summaries, "chosen": str(chosen or "")}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request):
        if not policy.can(request.user, "create", Change):
            raise Http404("No such page.")
        initial = {}
        template = request.GET.get("template", "")
        if template.isdigit():
            initial["governance_template"] = template
        return self.page(ChangeNewForm(user=request.user, initial=initial))

    def post(self, request):
        if not policy.can(request.user, "create", Change):
            raise Http404("No such page.")
        form = ChangeNewForm(request.POST, user=request.user)
        made = {}

        def create(data) -> str:
            change = made["change"] = services.change_create(actor=request.user, data=form.service_data())
            return created_message(change)

        return submit(
            request, form, create, then=lambda: reverse("desk:change-detail", args=[made["change"].pk]),
            page=lambda status: self.page(form, status),
        )  # fmt: skip


class EmergencyChangeView(DeskMixin, View):
    """Raise an emergency change from an incident: created approved, linked both ways, its PIR
    due in 72 hours, the CAB told (``services.change_from_incident``)."""

    template_name = "changes/desk/emergency.html"

    def _incident(self, request, pk):
        incident = record_or_404(request.user, Incident, pk)
        if not may_raise_emergency(request.user):
            raise Http404("No such page.")
        return incident

    def page(self, form, incident, status=200):
        return render(self.request, self.template_name, {"form": form, "incident": incident}, status=status)

    def get(self, request, pk):
        incident = self._incident(request, pk)
        title = f"Emergency change for {incident.number}: {incident.short_description}"[:200]
        form = EmergencyChangeForm(initial={"short_description": title})
        return self.page(form, incident)

    def post(self, request, pk):
        incident = self._incident(request, pk)
        form = EmergencyChangeForm(request.POST)
        made = {}

        def create(data) -> str:
            change = made["change"] = services.change_from_incident(
                incident=incident, actor=request.user, data=form.service_data()
            )
            return (f"Emergency change {change.number} is raised for {incident.number} and approved; "
                    "its post-implementation review is due within 72 hours.")  # fmt: skip

        return submit(
            request, form, create, then=lambda: reverse("desk:change-detail", args=[made["change"].pk]),
            page=lambda status: self.page(form, incident, status),
        )  # fmt: skip
