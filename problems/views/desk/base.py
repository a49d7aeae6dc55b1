"""What every tab of the desk's problem page shares: the problem if the user may read it, the
tabs and which of them the user sees, and the problem's action table.

``action_table`` is ``problems.actions.ACTIONS`` (set where the domain's table is wired in):
the overview's action panel, the linked-incidents tab's link and unlink forms and the action
URL all come from it. Without a table the page shows no actions and every action URL is 404.
"""

from __future__ import annotations

from itsm import policy
from itsm.actions import ActionTable
from itsm.views.tabs import ActionTabView, Tab
from problems.actions import ACTIONS
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


class ProblemTabView(ActionTabView):
    """One tab of the problem page."""

    model = Problem
    context_name = "problem"
    tabs = TABS
    related = PAGE_RELATED
    assign_table = ACTIONS
    assign_to_me = "desk:problem-assign-to-me"
    action_table: ActionTable | None = ACTIONS

    def tab_visible(self, problem, name, hidden) -> bool:
        if name == "tasks":
            return policy.can(self.request.user, "read", ProblemTask)
        return True
