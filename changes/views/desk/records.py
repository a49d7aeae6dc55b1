"""The change page's other tabs — risk and impact, work notes, tasks, timeline — and the URL its
action forms post to (an action of the action table)."""

from __future__ import annotations

from django.http import Http404
from django.utils.dateparse import parse_datetime
from django.views import View

from changes import services
from changes.models import ChangeTask, RiskLevel
from changes.page_forms import NoteForm
from changes.views.desk.base import IMPACT_ACTION, ChangeTabView
from changes.views.desk.overview import OverviewView
from itsm import policy, timeline
from itsm.views.base import DeskMixin
from itsm.views.tasks import TaskActionTab, TasksTab

# --- Risk and impact ------------------------------------------------------------------------

LEVELS = dict(RiskLevel.choices)

# The risk factors (changes.risk) in words: impact ones, then likelihood ones.
FACTOR_LABELS = {
    "affected_hosts": "Affected hosts (its hosts and its groups' hosts)",
    "service_tier": "Worst service tier among its groups",
    "business_hours": "Planned start in business hours (weekdays 08:00–18:00 UTC)",
    "impact": "Impact, 1 to 5",
    "change_type": "Change type",
    "repeat": "A change of the same source and type was closed before",
    "likelihood": "Likelihood, 1 to 5",
}
TOTALS = frozenset({"impact", "likelihood"})


def _shown(value) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value in (None, ""):
        return "none"
    return str(value).replace("_", " ")


def factor_rows(factors) -> list[dict]:
    """Each stored risk factor (``{factor, value, contribution}``) as the breakdown shows it:
    the sums (impact, likelihood) marked as such."""
    if isinstance(factors, dict):
        factors = [{"factor": name, **(item if isinstance(item, dict) else {"contribution": item})}
                   for name, item in factors.items()]  # fmt: skip
    rows = []
    for item in factors or []:
        if not isinstance(item, dict):
            continue
        name = str(item.get("factor", ""))
        contribution = item.get("contribution", "")
        if name in TOTALS:
            shown = f"{contribution}"
        elif isinstance(contribution, int) and contribution > 0:
            shown = f"+{contribution}"
        else:
            shown = str(contribution)
        rows.append({
            "label": FACTOR_LABELS.get(name, name.replace("_", " ").capitalize()),
            "value": _shown(item.get("value")),
            "contribution": shown,
            "total": name in TOTALS,
        })  # fmt: skip
    return rows


def impact_view(summary: dict) -> dict | None:
    """The stored impact analysis (``changes.impact``: groups, hosts, chains, risk level) as the
    tab shows it; None before the first one."""
    if not summary:
        return None
    hosts = summary.get("hosts") or []
    return {
        "host_count": summary.get("host_count", len(hosts)),
        "hosts": [host.get("hostname", "") for host in hosts if isinstance(host, dict)],
        "hosts_truncated": bool(summary.get("hosts_truncated")),
        "group_count": summary.get("group_count", 0),
        "groups": [group for group in summary.get("groups") or [] if isinstance(group, dict)],
        "chains": [
            [str(step) for step in chain.get("path", [])] for chain in summary.get("chains") or [] if isinstance(chain, dict)
        ],
        "chains_truncated": bool(summary.get("chains_truncated")),
        "risk_level": summary.get("risk_level") or "",
        "risk_label": LEVELS.get(summary.get("risk_level") or "", ""),
    }


class RiskView(ChangeTabView):
    """The risk score and level with each factor and its contribution, and the impact analysis
    as last stored, with the "analyse impact" action (whoever may take it) to compute it again."""

    tab = "risk"
    template_name = "changes/desk/risk.html"

    def tab_context(self, change, forms):
        readable = policy.readable_fields(self.request.user, change)
        computed = change.impact_computed_at if "impact_computed_at" in readable else None
        return {
            "risk_shown": "risk_score" in readable,
            "factors": factor_rows(change.risk_factors) if "risk_factors" in readable else [],
            "impact": impact_view(change.impact_summary) if "impact_summary" in readable else None,
            "impact_shown": "impact_summary" in readable,
            "impact_computed_at": computed if not isinstance(computed, str) else parse_datetime(computed),
            "impact_action": next((a for a in self.action_forms(change, forms, (IMPACT_ACTION,))), None),
        }


# --- The action URL ---------------------------------------------------------------------------


class ChangeActionView(DeskMixin, View):
    """One action on the change, from the action table: "analyse impact" comes back to the risk
    and impact tab, the others to the overview."""

    http_method_names = ["post"]

    def post(self, request, pk, action):
        view = (RiskView if action == IMPACT_ACTION else OverviewView)()
        view.setup(request, pk=pk, action=action)
        if view.action_table is None or action not in view.action_table:
            raise Http404("No such action.")
        return view.act(pk, action)


# --- Tasks ------------------------------------------------------------------------------------


class TasksView(TasksTab, ChangeTabView):
    template_name = "changes/desk/tasks.html"
    task_model = ChangeTask


class TaskActionView(TaskActionTab, TasksView):
    """Start, close or cancel one of the change's tasks."""


# --- Timeline and work notes ------------------------------------------------------------------


class TimelineView(ChangeTabView):
    """The change's journal as the user may see it (``itsm.timeline.entries_for``: labelled), oldest first."""

    tab = "timeline"
    template_name = "changes/desk/timeline.html"

    def tab_context(self, change, forms):
        return {"entries": timeline.entries_for(self.request.user, change)}


class NotesView(ChangeTabView):
    """The change's work notes, oldest first, and the form to add one."""

    tab = "notes"
    template_name = "changes/desk/notes.html"

    def tab_context(self, change, forms):
        user = self.request.user
        note_form = forms.get("note_form")
        if note_form is None and policy.can(user, "note", change):
            note_form = NoteForm()
        notes = [
            {"note": note, "author": policy.person_name(user, note.author, change, nobody=policy.DESK_NAME)}
            for note in change.notes.select_related("author")
        ]
        return {"notes": notes, "note_form": note_form}

    def post(self, request, pk):
        change = self.load(pk)
        form = NoteForm(request.POST)

        def add(data) -> str:
            services.change_note_add(change=change, actor=request.user, body=data["body"])
            return "Your work note has been added."

        return self.write(change, form, "note_form", add, anchor="notes")
