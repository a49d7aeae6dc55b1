"""What every tab of the desk's problem page shares: the problem if the user may read it, the
tabs and which of them the user sees, and the problem's action table.

``action_table`` is ``problems.actions.ACTIONS`` (set where the domain's table is wired in):
the overview's action panel, the linked-incidents tab's link and unlink forms and the action
URL all come from it. Without a table the page shows no actions and every action URL is 404.
"""

from __future__ import annotations

from itsm import policy
from itsm.actions import ActionTable
from itsm.views.tabs import RecordTabView, Tab
from problems.actions import ACTIONS
from problems.forms import NoInputForm
from problems.models import Problem, ProblemTask

PAGE_RELATED = ("assignee", "assignment_group", "requester", "rca_submitted_by", "rca_reviewed_by")
# The actions the linked-incidents tab offers (the others are on the overview).
LINK_ACTIONS = ("link-incidents", "unlink-incidents")

TABS = (
    Tab("overview", "Overview", "desk:problem-detail"),
    Tab("incidents", "Linked incidents and changes", "desk:problem-incidents"),
    Tab("notes", "Work notes", "desk:problem-notes"),
    Tab("tasks", "Tasks", "desk:problem-tasks"),
    Tab("timeline", "Timeline", "desk:problem-timeline"),
)


class ProblemTabView(RecordTabView):
    """One tab of the problem page."""

    model = Problem
    context_name = "problem"
    tabs = TABS
    related = PAGE_RELATED
    action_table: ActionTable | None = ACTIONS

    def tab_visible(self, problem, name, hidden) -> bool:
        if name == "tasks":
            return policy.can(self.request.user, "read", ProblemTask)
        return True

    def available(self, problem) -> list:
        """The actions the user may take on the problem now (none without an action table)."""
        if self.action_table is None:
            return []
        return self.action_table.available(self.request.user, problem)

    def action_form(self, name: str, problem, data=None):
        """The action's desk form (a plain button when the table names none)."""
        form = self.action_table[name].form or NoInputForm
        return form(data, prefix=name, user=self.request.user, record=problem)

    def action_forms(self, problem, forms: dict, names=None) -> list[dict]:
        """Each available action (of ``names``, if given) with its form: the one just posted if
        it came back with errors, else a fresh one."""
        return [
            {
                "name": entry.name,
                "label": entry.label,
                "danger": entry.danger,
                "form": forms.get(f"{entry.name}_form") or self.action_form(entry.name, problem),
            }
            for entry in self.available(problem)
            if names is None or entry.name in names
        ]

    def act(self, pk, action: str):
        """Take ``action`` with the posted form, then back to this tab with what happened; the
        workflow refuses what the state or the policy does not allow."""
        table = self.action_table
        problem = self.load(pk)
        user = self.request.user
        form = self.action_form(action, problem, self.request.POST)
        return self.write(
            problem, form, f"{action}_form",
            lambda data: table[action].message(table.run(action, problem, user, **data)),
        )  # fmt: skip
