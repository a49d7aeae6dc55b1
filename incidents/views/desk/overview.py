"""The incident page's overview tab: the fields the user may read, the edit form, and a form for
each action (start, acknowledge, assign, hold, resume, resolve, reopen, close, cancel, escalate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.http import Http404
from django.utils.text import capfirst

from incidents import services, workflows
from incidents.forms import (
    EDIT_FIELDS,
    AcknowledgeForm,
    AssignForm,
    EscalateForm,
    IncidentEditForm,
    NoInputForm,
    ReasonForm,
    ReopenForm,
    ResolveForm,
)
from incidents.models import Incident
from incidents.views.desk.base import IncidentTabView
from itsm import policy
from itsm.templatetags.itsm_ui import state_label
from itsm.workflow import allowed_from

# What the overview lists, in order, of the fields the user may read.
OVERVIEW_FIELDS = (
    "state", "priority", "impact", "urgency", "assignment_group", "assignee", "requester",
    "requested_for", "organisation", "source", "category", "subcategory", "classification", "service",
    "escalation_level", "opened_at", "acknowledged_at", "updated_at", "resolved_at", "closed_at",
    "resolution_code", "resolution_notes", "major_incident", "major_incident_manager",
    "major_incident_review", "collaborators", "hosts", "related_configuration_items",
    "related_incidents", "related_problems", "changes_required",
)  # fmt: skip
OVERVIEW_M2M = frozenset(f.name for f in Incident._meta.many_to_many) & frozenset(OVERVIEW_FIELDS)


@dataclass(frozen=True)
class Action:
    label: str
    form_class: type
    run: Callable[[Incident, object, dict], Incident]
    done: Callable[[Incident], str]


def _assigned(incident: Incident) -> str:
    if incident.assignee is None and incident.assignment_group is None:
        return f"{incident.number} is unassigned."
    who = str(incident.assignee) if incident.assignee else "nobody in particular"
    group = f" in {incident.assignment_group}" if incident.assignment_group else ""
    return f"{incident.number} is assigned to {who}{group}."


w = workflows
ACTIONS: dict[str, Action] = {
    "start": Action(
        "Start work", NoInputForm, lambda i, u, d: w.incident_start(incident=i, actor=u),
        lambda i: f"{i.number} is now in progress.",
    ),
    "acknowledge": Action(
        "Acknowledge", AcknowledgeForm,
        lambda i, u, d: w.incident_acknowledge(incident=i, actor=u, comment=d["comment"]),
        lambda i: f"You acknowledged {i.number}: it is assigned to you.",
    ),
    "assign": Action(
        "Assign", AssignForm,
        lambda i, u, d: services.incident_assign(
            incident=i, actor=u, assignee=d["assignee"], assignment_group=d["assignment_group"]
        ),
        _assigned,
    ),
    "hold": Action(
        "Put on hold", ReasonForm, lambda i, u, d: w.incident_hold(incident=i, actor=u, reason=d["reason"]),
        lambda i: f"{i.number} is on hold.",
    ),
    "resume": Action(
        "Resume", NoInputForm, lambda i, u, d: w.incident_resume(incident=i, actor=u),
        lambda i: f"{i.number} is back in progress.",
    ),
    "resolve": Action(
        "Resolve", ResolveForm,
        lambda i, u, d: w.incident_resolve(
            incident=i, actor=u, resolution_code=d["resolution_code"], resolution_notes=d["resolution_notes"]
        ),
        lambda i: f"{i.number} is resolved.",
    ),
    "reopen": Action(
        "Reopen", ReopenForm, lambda i, u, d: w.incident_reopen(incident=i, actor=u, notes=d["notes"]),
        lambda i: f"{i.number} is reopened and back in progress.",
    ),
    "close": Action(
        "Close", NoInputForm, lambda i, u, d: w.incident_close(incident=i, actor=u),
        lambda i: f"{i.number} is closed.",
    ),
    "cancel": Action(
        "Cancel incident", ReasonForm, lambda i, u, d: w.incident_cancel(incident=i, actor=u, reason=d["reason"]),
        lambda i: f"{i.number} is cancelled.",
    ),
    "escalate": Action(
        "Escalate", EscalateForm, lambda i, u, d: w.incident_escalate(incident=i, actor=u, reason=d["reason"]),
        lambda i: f"{i.number} is escalated to level {i.escalation_level}; the assignee and group leads are told.",
    ),
}  # fmt: skip
# Actions that are transitions of workflows.TRANSITIONS (assign is not: it changes no state).
TRANSITION_ACTIONS = frozenset(workflows.TRANSITIONS) & frozenset(ACTIONS)


def available_actions(user, incident: Incident) -> list[str]:
    """The actions the user may take now: the policy allows it and the state allows it."""
    allowed = set(allowed_from(workflows.TRANSITIONS, incident.state))
    return [
        name
        for name in ACTIONS
        if (name not in TRANSITION_ACTIONS or name in allowed) and policy.can(user, name, incident)
    ]


def action_form(name: str, user, incident: Incident, data=None):
    form_class = ACTIONS[name].form_class
    extra = {"user": user, "incident": incident} if form_class is AssignForm else {}
    return form_class(data, prefix=name, **extra)


def field_rows(incident: Incident, names) -> list[dict]:
    """Label and value of each field, as the overview shows them."""
    rows = []
    for name in names:
        field = Incident._meta.get_field(name)
        value = getattr(incident, name)
        kind = "text"
        if field.many_to_many:
            value = ", ".join(str(item) for item in value.all())
        elif name == "state":
            value = state_label(value)
        elif getattr(field, "choices", None):
            value = getattr(incident, f"get_{name}_display")()
        elif isinstance(value, bool):
            value = "Yes" if value else "No"
        elif isinstance(value, datetime):
            kind = "datetime"
        elif field.is_relation and value is not None:
            value = str(value)
        long = name in ("resolution_notes", "major_incident_review")
        rows.append(
            {"name": name, "label": capfirst(field.verbose_name), "value": value, "kind": kind, "long": long}
        )
    return rows


class OverviewView(IncidentTabView):
    tab = "overview"
    template_name = "incidents/desk/overview.html"

    def prefetch(self, hidden):
        return tuple(sorted(OVERVIEW_M2M - hidden))

    def tab_context(self, incident, forms):
        user = self.request.user
        readable = policy.readable_fields(user, incident)
        edit_form = forms.get("edit_form")
        writable = policy.writable_fields(user, incident)
        if edit_form is None and writable & set(EDIT_FIELDS):
            edit_form = IncidentEditForm(incident=incident, user=user, writable=writable)
        actions = []
        for name in available_actions(user, incident):
            form = forms.get(f"{name}_form") or action_form(name, user, incident)
            actions.append({"name": name, "label": ACTIONS[name].label, "form": form})
        return {
            "rows": field_rows(incident, [name for name in OVERVIEW_FIELDS if name in readable]),
            "edit_form": edit_form,
            "actions": actions,
        }


class IncidentEditView(OverviewView):
    """Save the overview's edit form through ``services.incident_update``."""

    http_method_names = ["post"]

    def post(self, request, pk):
        incident = self.load(pk)
        user = request.user
        writable = policy.writable_fields(user, incident)
        if not writable & set(EDIT_FIELDS):
            messages.error(request, f"You may not change {incident.number}.")
            return self.page(incident, status=403)
        form = IncidentEditForm(request.POST, incident=incident, user=user, writable=writable)

        def save(data) -> str:
            changes = form.changes()
            if not changes:
                return "You did not change anything."
            services.incident_update(
                incident=incident, actor=user, data=changes, expected_version=form.expected_version()
            )
            return f"Your changes to {incident.number} have been saved."

        return self.write(incident, form, "edit_form", save)


class IncidentActionView(OverviewView):
    """One action from the overview: start, acknowledge, assign, hold, resume, resolve, reopen,
    close or cancel. The workflow refuses what the state or the policy does not allow."""

    http_method_names = ["post"]

    def post(self, request, pk, action):
        if action not in ACTIONS:
            raise Http404("No such action.")
        incident = self.load(pk)
        spec = ACTIONS[action]
        form = action_form(action, request.user, incident, request.POST)
        return self.write(
            incident, form, f"{action}_form", lambda data: spec.done(spec.run(incident, request.user, data))
        )
