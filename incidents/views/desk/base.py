"""What every tab of the desk's incident page shares: the incident if the user may read it, the
tabs and which of them the user sees, the tab base view (whose ``write`` is the one way a tab's
form reaches a service), and small helpers (durations, the SLA badge).

Thin views: the policy says what the user may read and do, a form shapes the input, a workflow
or service does the write (and checks again), and a refusal (``ItsmError``) comes back on the
page with its message and field errors.
"""

from __future__ import annotations

from django.urls import reverse

from incidents.actions import ACTIONS
from incidents.models import Incident, IncidentNote, IncidentTask
from itsm import policy
from itsm.views.base import record_or_404
from itsm.views.tabs import RecordTabView, Tab
from sla.badge import sla_badge, sla_label  # noqa: F401 — the incident pages' names for the shared badge

PAGE_RELATED = (
    "assignee", "assignment_group", "requester", "requested_for", "organisation", "major_incident_manager",
)  # fmt: skip
# The SLA tab's own: each table joined costs the planner more than the row costs to read.
SLA_RELATED = ("escalation_policy", "sla_definition")


def incident_or_404(user, pk, *, prefetch=()) -> Incident:
    """The incident if the user may read it, with the page's related rows in the same query."""
    queryset = Incident.objects.select_related(*PAGE_RELATED, *SLA_RELATED).prefetch_related(*prefetch)
    return record_or_404(user, Incident, pk, queryset=queryset)


def duration(minutes: int) -> str:
    hours, rest = divmod(minutes or 0, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


# --- The incident page ----------------------------------------------------------------------


TABS = (
    Tab("overview", "Overview", "desk:incident-detail"),
    Tab("sla", "SLA and escalation", "desk:incident-sla"),
    Tab("conversation", "Conversation", "desk:incident-conversation"),
    Tab("journal", "Work journal", "desk:incident-journal"),
    Tab("tasks", "Tasks", "desk:incident-tasks"),
    Tab("time", "Time", "desk:incident-time"),
    Tab("csat", "CSAT", "desk:incident-csat"),
    Tab("timeline", "Timeline", "desk:incident-timeline"),
)
TAB_URLS = {tab.name: tab.url_name for tab in TABS}


def tab_url(name: str, incident: Incident, anchor: str = "") -> str:
    url = reverse(TAB_URLS[name], args=[incident.pk])
    return f"{url}#{anchor}" if anchor else url


def tab_visible(user, incident: Incident, name: str, hidden) -> bool:
    """Tabs about things the policy hides from the user are not there at all."""
    if name == "sla":
        return policy.can(user, "view_sla", incident)
    if name == "journal":
        return "work_journal" not in hidden
    if name == "tasks":
        return "subtasks" not in hidden and policy.can(user, "read", IncidentTask)
    if name == "time":
        return policy.can(user, "read_time", incident)
    if name == "csat":
        return policy.can(user, "read_csat", incident)
    return True


def writable_kinds(user, incident: Incident, hidden) -> list[str]:
    """The kinds of note the user may add, internal first (the composer's default): a work note
    by those who read the work journal and may write one, a comment by those who may comment."""
    kinds = []
    if "work_journal" not in hidden and policy.can(user, "work_note", incident):
        kinds.append(IncidentNote.Kind.WORK_NOTE)
    if policy.can(user, "comment", incident):
        kinds.append(IncidentNote.Kind.COMMENT)
    return kinds


class IncidentTabView(RecordTabView):
    """One tab of the incident page. ``write`` is the one way a tab's form reaches a service."""

    model = Incident
    context_name = "incident"
    tabs = TABS
    related = PAGE_RELATED
    assign_table = ACTIONS
    assign_to_me = "desk:incident-assign-to-me"

    def tab_visible(self, incident, name, hidden) -> bool:
        return tab_visible(self.request.user, incident, name, hidden)

    def page_context(self, incident: Incident) -> dict:
        return {"sla_badge": sla_badge(self.request.user, incident, self.hidden)}
