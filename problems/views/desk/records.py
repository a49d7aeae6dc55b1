"""The problem page's linked incidents and changes, tasks and timeline tabs, and the action URL."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views import View

from changes.models import Change
from incidents.models import Incident
from itsm import audit, policy, services
from itsm.actions import TASK_ACTIONS
from itsm.errors import ItsmError, NotFound
from itsm.views.base import DeskMixin
from itsm.views.tasks import TaskForm, task_or_404, task_rows
from problems import services as problem_services
from problems.forms import NoteForm, problem_managers
from problems.models import ProblemTask
from problems.views.desk.base import LINK_ACTIONS, ProblemTabView
from problems.views.desk.overview import OverviewView

# --- Linked incidents and changes ---------------------------------------------------------


class IncidentsView(ProblemTabView):
    """The linked incidents the user may read (each a link to its desk page), the problem's
    changes, and the link and unlink forms for those who may use them."""

    tab = "incidents"
    template_name = "problems/desk/incidents.html"

    def tab_context(self, problem, forms):
        user = self.request.user
        incidents = (
            policy.readable(user, Incident).filter(related_problems=problem).order_by("-opened_at", "-pk")
            if policy.can(user, "read", Incident)
            else Incident.objects.none()
        )
        changes = (
            policy.readable(user, Change).filter(problem=problem).order_by("opened_at", "pk")
            if policy.can(user, "read", Change)
            else Change.objects.none()
        )
        actions = {a["name"]: a for a in self.action_forms(problem, forms, LINK_ACTIONS)}
        return {
            "incidents": list(incidents.only("pk", "number", "short_description", "state")),
            "changes": list(changes.only("pk", "number", "short_description", "state", "change_type")),
            "link": actions.get("link-incidents"),
            "unlink": actions.get("unlink-incidents"),
        }


class ProblemActionView(DeskMixin, View):
    """One action on the problem, from the action table: the link actions come back to the
    linked-incidents tab, the others to the overview."""

    http_method_names = ["post"]

    def post(self, request, pk, action):
        view = (IncidentsView if action in LINK_ACTIONS else OverviewView)()
        view.setup(request, pk=pk, action=action)
        if view.action_table is None or action not in view.action_table:
            raise Http404("No such action.")
        return view.act(pk, action)


# --- Tasks --------------------------------------------------------------------------------


class TasksView(ProblemTabView):
    tab = "tasks"
    template_name = "problems/desk/tasks.html"

    def task_form(self, data=None) -> TaskForm:
        return TaskForm(data, user=self.request.user, model=ProblemTask, assignees=problem_managers())

    def tab_context(self, problem, forms):
        user = self.request.user
        task_form = forms.get("task_form")
        if task_form is None and policy.can(user, "create", ProblemTask):
            task_form = self.task_form()
        return {"tasks": task_rows(user, ProblemTask, problem), "task_form": task_form}

    def post(self, request, pk):
        problem = self.load(pk)
        form = self.task_form(request.POST)

        def create(data) -> str:
            task = services.task_create(
                parent=problem, model=ProblemTask, actor=request.user, data=form.service_data()
            )
            return f"Task {task.number} has been added."

        return self.write(problem, form, "task_form", create)


class TaskActionView(TasksView):
    """Start, close or cancel one of the problem's tasks."""

    http_method_names = ["post"]

    def post(self, request, pk, task_pk, action):
        if action not in TASK_ACTIONS:
            raise Http404("No such action.")
        problem = self.load(pk)
        task = task_or_404(request.user, ProblemTask, problem, task_pk)
        try:
            task = TASK_ACTIONS.run(action, task, request.user)
        except NotFound:
            raise Http404("No such task.") from None
        except ItsmError as exc:
            messages.error(request, f"{task.number}: {exc.message}")
            return self.page(problem, status=exc.status)
        messages.success(request, TASK_ACTIONS[action].message(task))
        return redirect(self.tab_url(self.tab, problem))


# --- Timeline -----------------------------------------------------------------------------


class TimelineView(ProblemTabView):
    """The problem's journal as the user may see it (``itsm.audit.entries_for``), oldest first."""

    tab = "timeline"
    template_name = "problems/desk/timeline.html"

    def tab_context(self, problem, forms):
        return {"entries": audit.entries_for(self.request.user, problem)}


class NotesView(ProblemTabView):
    """The problem's work notes, oldest first, and the form to add one (problems.manage)."""

    tab = "notes"
    template_name = "problems/desk/notes.html"

    def tab_context(self, problem, forms):
        note_form = forms.get("note_form")
        if note_form is None and policy.can(self.request.user, "note", problem):
            note_form = NoteForm()
        return {"notes": problem.notes.select_related("author"), "note_form": note_form}

    def post(self, request, pk):
        problem = self.load(pk)
        form = NoteForm(request.POST)

        def add(data) -> str:
            problem_services.problem_note_add(problem=problem, actor=request.user, body=data["body"])
            return "Your work note has been added."

        return self.write(problem, form, "note_form", add, anchor="notes")
