"""The incident page's tasks, time, CSAT and timeline tabs."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect

from incidents import selectors, services, workflows
from incidents.forms import TaskForm, TimeEntryForm
from incidents.models import IncidentTask
from incidents.views.desk.base import IncidentTabView, duration, tab_url
from itsm import policy
from itsm.api.serializers import is_possible_pk
from itsm.errors import ItsmError, NotFound
from itsm.workflow import allowed_from

# --- Tasks --------------------------------------------------------------------------------


class TasksView(IncidentTabView):
    tab = "tasks"
    template_name = "incidents/desk/tasks.html"

    def tab_context(self, incident, forms):
        user = self.request.user
        tasks = (
            policy.readable(user, IncidentTask)
            .filter(incident=incident)
            .select_related("assignee", "assignment_group")
            .order_by("opened_at", "pk")
        )
        rows = []
        for task in tasks:
            may = policy.can(user, "update", task)
            allowed = allowed_from(workflows.TASK_TRANSITIONS, task.state) if may else []
            actions = [name for name in workflows.TASK_TRANSITIONS if name in allowed]
            rows.append({"task": task, "actions": actions})
        task_form = forms.get("task_form")
        if task_form is None and policy.can(user, "create", IncidentTask):
            task_form = TaskForm(user=user)
        return {"tasks": rows, "task_form": task_form}

    def post(self, request, pk):
        incident = self.load(pk)
        form = TaskForm(request.POST, user=request.user)

        def create(data) -> str:
            task = services.task_create(incident=incident, actor=request.user, data=form.service_data())
            return f"Task {task.number} has been added."

        return self.write(incident, form, "task_form", create)


TASK_DONE = {"start": "started", "close": "closed", "cancel": "cancelled"}


class TaskActionView(TasksView):
    """Start, close or cancel one of the incident's tasks."""

    http_method_names = ["post"]

    def post(self, request, pk, task_pk, action):
        if action not in workflows.TASK_TRANSITIONS:
            raise Http404("No such action.")
        incident = self.load(pk)
        task = None
        if is_possible_pk(IncidentTask, task_pk):
            task = policy.readable(request.user, IncidentTask).filter(incident=incident, pk=task_pk).first()
        if task is None:
            raise Http404("No such task.")
        try:
            task = workflows.task_transition(task=task, actor=request.user, name=action)
        except NotFound:
            raise Http404("No such task.") from None
        except ItsmError as exc:
            messages.error(request, f"{task.number}: {exc.message}")
            return self.page(incident, status=exc.status)
        messages.success(request, f"Task {task.number} is {TASK_DONE[action]}.")
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
