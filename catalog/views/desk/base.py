"""What every tab of the desk's request page shares: the request if the user may read it, the
tabs and which of them the user sees, and the request's action table.

``action_table`` is ``catalog.actions.ACTIONS``: the overview's action panel, the approvals
tab's approve and reject forms and the action URL all come from it. Without a table the page
shows no actions and every action URL is 404.
"""

from __future__ import annotations

from catalog.actions import ACTIONS
from catalog.models import Request, RequestTask
from itsm import policy
from itsm.actions import ActionTable
from itsm.views.tabs import ActionTabView, Tab
from sla.badge import sla_badge

PAGE_RELATED = (
    "assignee", "assignment_group", "requester", "requested_for", "organisation", "catalog_item", "form_version",
)  # fmt: skip

# The approvers' decisions are taken on the approvals tab; the rest in the overview's side panel.
APPROVAL_ACTIONS = ("approve", "reject")

TABS = (
    Tab("overview", "Overview", "desk:request-detail"),
    Tab("approvals", "Approvals", "desk:request-approvals"),
    Tab("tasks", "Tasks", "desk:request-tasks"),
    Tab("notes", "Notes", "desk:request-notes"),
    Tab("timeline", "Timeline", "desk:request-timeline"),
)


class RequestTabView(ActionTabView):
    """One tab of the request page."""

    model = Request
    context_name = "record"
    tabs = TABS
    related = PAGE_RELATED
    assign_table = ACTIONS
    assign_to_me = "desk:request-assign-to-me"
    action_table: ActionTable | None = ACTIONS

    def record_or_404(self, pk, hidden):
        self.related = tuple(name for name in PAGE_RELATED if name not in hidden)
        return super().record_or_404(pk, hidden)

    def tab_visible(self, record, name, hidden) -> bool:
        if name == "tasks":
            return "subtasks" not in hidden and policy.can(self.request.user, "read", RequestTask)
        return True

    def page_context(self, record) -> dict:
        return {"sla_badge": sla_badge(self.request.user, record, self.hidden)}
