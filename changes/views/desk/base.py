"""What every tab of the desk's change page shares: the change if the user may read it, the tabs
and which of them the user sees, and the change's action table.

``action_table`` is ``changes.actions.ACTIONS``: the overview's action panel, the CAB panel's
approve and reject forms, the gates card's "complete" forms and the PIR form all come from it,
and so does the action URL. Without a table the page shows no actions and every action URL is
404.
"""

from __future__ import annotations

from changes.actions import ACTIONS
from changes.models import Change, ChangeTask
from itsm import policy
from itsm.actions import ActionTable
from itsm.views.tabs import ActionTabView, Tab

PAGE_RELATED = ("assignee", "assignment_group", "requester", "governance_template", "decided_by", "incident", "problem")

# Where the actions are offered on the overview: the CAB's decision in the CAB panel, a gate in
# the gates card, the PIR in the PIR card; the rest in the side panel.
CAB_ACTIONS = ("approve", "reject")
GATE_ACTION = "complete-gate"
PIR_ACTION = "pir"
# "Analyse impact" is on the risk and impact tab.
IMPACT_ACTION = "impact"
PLACED = frozenset({*CAB_ACTIONS, GATE_ACTION, PIR_ACTION, IMPACT_ACTION})

TABS = (
    Tab("overview", "Overview", "desk:change-detail"),
    Tab("risk", "Risk and impact", "desk:change-risk"),
    Tab("notes", "Work notes", "desk:change-notes"),
    Tab("tasks", "Tasks", "desk:change-tasks"),
    Tab("timeline", "Timeline", "desk:change-timeline"),
)


class ChangeTabView(ActionTabView):
    """One tab of the change page."""

    model = Change
    context_name = "change"
    tabs = TABS
    related = PAGE_RELATED
    assign_table = ACTIONS
    assign_to_me = "desk:change-assign-to-me"
    action_table: ActionTable | None = ACTIONS

    def record_or_404(self, pk, hidden):
        self.related = tuple(name for name in PAGE_RELATED if name not in hidden)
        return super().record_or_404(pk, hidden)

    def tab_visible(self, change, name, hidden) -> bool:
        if name == "tasks":
            return policy.can(self.request.user, "read", ChangeTask)
        return True

    def page_context(self, change) -> dict:
        return {"pir_overdue": "pir_due_at" not in self.hidden and change.pir_overdue}

    def action_anchor(self, action: str) -> str:
        if action in CAB_ACTIONS:
            return "cab"
        return {GATE_ACTION: "gates", IMPACT_ACTION: "impact", PIR_ACTION: "pir"}.get(action, "")
