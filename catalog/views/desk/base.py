"""What every tab of the desk's request page shares: the request if the user may read it, the
tabs and which of them the user sees, and the request's action table.

``action_table`` is ``catalog.actions.ACTIONS``: the overview's action panel, the approvals
tab's approve and reject forms and the action URL all come from it. Without a table the page
shows no actions and every action URL is 404.
"""

from __future__ import annotations

from catalog.actions import ACTIONS
from catalog.models import Request, RequestTask
from catalog.views.desk.forms import NoInputForm
from itsm import policy
from itsm.actions import ActionTable
from itsm.errors import ItsmError
from itsm.views.base import submit
from itsm.views.tabs import RecordTabView, Tab
from sla.clocks import live_status
from sla.models import SlaStatus

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


def worded(exc: ItsmError, form) -> str:
    """A refusal as the page says it at the top: the service's message, then what it said about
    fields the form does not have (the form's own fields carry their messages themselves)."""
    extra = [text for name, texts in exc.fields.items() if name not in form.fields for text in texts]
    return " ".join([exc.message, *dict.fromkeys(str(text) for text in extra)])


def sla_badge(user, record, hidden) -> dict | None:
    """The request's SLA status now (and its next due time) for those who may see it."""
    if "sla_status" in hidden or not record.sla_status:
        return None
    status = live_status(record)
    label = SlaStatus(status).label if status in SlaStatus.values else ""
    return {
        "status": status,
        "label": label,
        "due_at": record.sla_due_at if "sla_due_at" not in hidden else None,
    }


class RequestTabView(RecordTabView):
    """One tab of the request page."""

    model = Request
    context_name = "record"
    tabs = TABS
    related = PAGE_RELATED
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

    def available(self, record) -> list:
        """The actions the user may take on the request now (none without an action table)."""
        if self.action_table is None:
            return []
        return self.action_table.available(self.request.user, record)

    def action_form(self, name: str, record, data=None):
        """The action's desk form (a plain button when the table names none)."""
        form = self.action_table[name].form or NoInputForm
        return form(data, prefix=name, user=self.request.user, record=record)

    def action_forms(self, record, forms: dict, names=None, *, exclude=()) -> list[dict]:
        """Each available action (of ``names``, if given; not of ``exclude``) with its form: the
        one just posted if it came back with errors, else a fresh one."""
        return [
            {
                "name": entry.name,
                "label": entry.label,
                "danger": entry.danger,
                "form": forms.get(f"{entry.name}_form") or self.action_form(entry.name, record),
            }
            for entry in self.available(record)
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
        record = self.load(pk)
        user = self.request.user
        form = self.action_form(action, record, self.request.POST)
        return self.write(
            record, form, f"{action}_form",
            lambda data: table[action].message(table.run(action, record, user, **data)),
        )  # fmt: skip
