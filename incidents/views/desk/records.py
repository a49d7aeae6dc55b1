"""The incident page's tasks, time, CSAT and timeline tabs."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect

from incidents import selectors, services
from incidents.forms import TimeEntryForm, agents
from incidents.models import IncidentTask
from incidents.views.desk.base import IncidentTabView, duration, tab_url
from itsm import policy
from itsm.actions import TASK_ACTIONS
from itsm.errors import ItsmError, NotFound
from itsm.views.tasks import TaskForm, task_or_404, task_rows

# --- Tasks --------------------------------------------------------------------------------


class TasksView(IncidentTabView):
    tab = "tasks"
    template_name = "incidents/desk/tasks.html"

    def task_form(self, data=None) -> TaskForm:
        return TaskForm(data, user=self.request.user, model=IncidentTask, assignees=agents())

    def tab_context(self, incident, forms):
        user = self.request.user
        task_form = forms.get("task_form")
        if task_form is None and policy.can(user, "create", IncidentTask):
            task_form = self.task_form()
        return {"tasks": task_rows(user, IncidentTask, incident), "task_form": task_form}

    def post(self, request, pk):
        incident = self.load(pk)
        form = self.task_form(request.POST)

        def create(data) -> str:
            task = services.task_create(incident=incident, actor=request.user, data=form.service_data())
            return f"Task {task.number} has been added."

        return self.write(incident, form, "task_form", create)


class TaskActionView(TasksView):
    """Start, close or cancel one of the incident's tasks."""

    http_method_names = ["post"]

    def post(self, request, pk, task_pk, action):
        if action not in TASK_ACTIONS:
            raise Http404("No such action.")
        incident = self.load(pk)
        task = task_or_404(request.user, IncidentTask, incident, task_pk)
        try:
            task = TASK_ACTIONS.run(action, task, request.user)
        except NotFound:
            raise Http404("No such task.") from None
        except ItsmError as exc:
            messages.error(request, f"{task.number}: {exc.message}")
            return self.page(incident, status=exc.status)
        messages.success(request, TASK_ACTIONS[action].message(task))
        return redirect(tab_url(self.tab, incident))


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
