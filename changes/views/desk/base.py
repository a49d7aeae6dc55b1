"""What every tab of the desk's change page shares: the change if the user may read it, the tabs
and which of them the user sees, and the change's action table.

``action_table`` is ``changes.actions.ACTIONS``: the overview's action panel, the CAB panel's
approve and reject forms, the gates card's "complete" forms and the PIR form all come from it,
and so does the action URL. Without a table the page shows no actions and every action URL is
404.
"""

from __future__ import annotations

from changes.actions import ACTIONS
from changes.forms import NoInputForm
from changes.models import Change, ChangeTask
from itsm import policy
from itsm.actions import ActionTable
from itsm.errors import ItsmError
from itsm.views.base import submit
from itsm.views.tabs import RecordTabView, Tab

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


def worded(exc: ItsmError, form) -> str:
    """A refusal as the page says it at the top: the service's message, then what it said about
    fields the form does not have (the approval's missing gates and notice, the requester…), which
    would otherwise be lost; the form's own fields carry their messages themselves."""
    extra = [text for name, texts in exc.fields.items() if name not in form.fields for text in texts]
    return " ".join([exc.message, *dict.fromkeys(str(text) for text in extra)])


class ChangeTabView(RecordTabView):
    """One tab of the change page."""

    model = Change
    context_name = "change"
    tabs = TABS
    related = PAGE_RELATED
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

    def available(self, change) -> list:
        """The actions the user may take on the change now (none without an action table)."""
        if self.action_table is None:
            return []
        return self.action_table.available(self.request.user, change)

    def action_form(self, name: str, change, data=None):
        """The action's desk form (a plain button when the table names none)."""
        form = self.action_table[name].form or NoInputForm
        return form(data, prefix=name, user=self.request.user, record=change)

    def action_forms(self, change, forms: dict, names=None, *, exclude=()) -> list[dict]:
        """Each available action (of ``names``, if given; not of ``exclude``) with its form: the
        one just posted if it came back with errors, else a fresh one."""
        return [
            {
                "name": entry.name,
                "label": entry.label,
                "danger": entry.danger,
                "form": forms.get(f"{entry.name}_form") or self.action_form(entry.name, change),
            }
            for entry in self.available(change)
            if (names is None or entry.name in names) and entry.name not in exclude
        ]

    def write(self, record, form, form_name: str, call, *, anchor="", tab: str = ""):
        """As ``RecordTabView.write``, with the refusal worded by ``worded``."""
        return submit(
            self.request, form, call, then=self.tab_url(tab or self.tab, record, anchor),
            page=lambda status: self.page(record, status=status, **{form_name: form}),
            refusal=lambda exc: worded(exc, form),
        )  # fmt: skip

    def act(self, pk, action: str):
        """Take ``action`` with the posted form, then back to this tab with what happened; the
        workflow refuses what the state or the policy does not allow."""
        table = self.action_table
        change = self.load(pk)
        user = self.request.user
        form = self.action_form(action, change, self.request.POST)
        anchor = {GATE_ACTION: "gates", IMPACT_ACTION: "impact", PIR_ACTION: "pir"}.get(action, "")
        if action in CAB_ACTIONS:
            anchor = "cab"
        return self.write(
            change, form, f"{action}_form",
            lambda data: table[action].message(table.run(action, change, user, **data)), anchor=anchor,
        )  # fmt: skip
