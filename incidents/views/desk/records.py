"""The incident page's tasks, time, CSAT and timeline tabs."""

from __future__ import annotations

from incidents import selectors, services
from incidents.forms import TimeEntryForm
from incidents.models import IncidentTask
from incidents.views.desk.base import IncidentTabView, duration
from itsm import policy
from itsm.views.tasks import TaskActionTab, TasksTab

# --- Tasks --------------------------------------------------------------------------------


class TasksView(TasksTab, IncidentTabView):
    template_name = "incidents/desk/tasks.html"
    task_model = IncidentTask


class TaskActionView(TaskActionTab, TasksView):
    """Start, close or cancel one of the incident's tasks."""


# --- Time, CSAT, timeline -------------------------------------------------------------------


class TimeView(IncidentTabView):
    """Totals and entries for those who may read them; the log form for those who may log."""

    tab = "time"
    template_name = "incidents/desk/time.html"

    def tab_context(self, incident, forms):
        user = self.request.user
        totals = selectors.time_totals(incident)
        entries = [
            {"entry": entry, "duration": duration(entry.minutes)}
            for entry in incident.time_entries.select_related("author")
        ]
        time_form = forms.get("time_form")
        if time_form is None and policy.can(user, "log_time", incident):
            time_form = TimeEntryForm()
        return {
            "totals": {key: duration(totals[key]) for key in ("total", "billable", "non_billable")},
            "entry_count": totals["entries"],
            "entries": entries,
            "time_form": time_form,
        }

    def post(self, request, pk):
        incident = self.load(pk)

        def log(data) -> str:
            entry = services.time_entry_add(
                incident=incident, actor=request.user, minutes=data["minutes"], billable=data["billable"],
                on=data["date"], note=data["note"],
            )  # fmt: skip
            kind = "billable" if entry.billable else "non-billable"
            return f"{duration(entry.minutes)} of {kind} time logged on {incident.number}."

        return self.write(incident, TimeEntryForm(request.POST), "time_form", log)


class CsatView(IncidentTabView):
    tab = "csat"
    template_name = "incidents/desk/csat.html"

    def tab_context(self, incident, forms):
        responses = incident.csat_responses.select_related("actor")
        summary = selectors.csat_summary(responses)
        count = summary["count"]
        breakdown = [
            {"rating": rating, "count": summary["breakdown"][str(rating)], "total": count}
            for rating in range(5, 0, -1)
        ]
        return {"summary": summary, "breakdown": breakdown, "responses": list(responses)}


class TimelineView(IncidentTabView):
    tab = "timeline"
    template_name = "incidents/desk/timeline.html"

    def tab_context(self, incident, forms):
        return {"items": selectors.timeline(self.request.user, incident)}
