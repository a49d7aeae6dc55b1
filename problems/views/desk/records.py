"""The problem page's linked incidents and changes, tasks and timeline tabs, and the action URL."""

from __future__ import annotations

from django.http import Http404
from django.views import View

from changes.models import Change
from incidents.models import Incident
from itsm import policy, timeline
from itsm.views.base import DeskMixin
from itsm.views.tasks import TaskActionTab, TasksTab
from problems import services as problem_services
from problems.forms import NoteForm
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


class TasksView(TasksTab, ProblemTabView):
    template_name = "problems/desk/tasks.html"
    task_model = ProblemTask


class TaskActionView(TaskActionTab, TasksView):
    """Start, close or cancel one of the problem's tasks."""


# --- Timeline -----------------------------------------------------------------------------


class TimelineView(ProblemTabView):
    """The problem's journal as the user may see it (``itsm.timeline.entries_for``: labelled), oldest first."""

    tab = "timeline"
    template_name = "problems/desk/timeline.html"

    def tab_context(self, problem, forms):
        return {"entries": timeline.entries_for(self.request.user, problem)}


class NotesView(ProblemTabView):
    """The problem's work notes, oldest first, and the form to add one (problems.manage)."""

    tab = "notes"
    template_name = "problems/desk/notes.html"

    def tab_context(self, problem, forms):
        note_form = forms.get("note_form")
        if note_form is None and policy.can(self.request.user, "note", problem):
            note_form = NoteForm()
        user = self.request.user
        notes = [
            {"note": note, "author": policy.person_name(user, note.author, problem, nobody=policy.DESK_NAME)}
            for note in problem.notes.select_related("author")
        ]
        return {"notes": notes, "note_form": note_form}

    def post(self, request, pk):
        problem = self.load(pk)
        form = NoteForm(request.POST)

        def add(data) -> str:
            problem_services.problem_note_add(problem=problem, actor=request.user, body=data["body"])
            return "Your work note has been added."

        return self.write(problem, form, "note_form", add, anchor="notes")
