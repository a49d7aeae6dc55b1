"""The incident page's overview tab: the fields the user may read, the edit form, and a form for
each action (start, acknowledge, assign, hold, resume, resolve, reopen, close, cancel, escalate).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.urls import reverse
from django.utils.text import capfirst

from incidents import selectors, services
from incidents.actions import ACTIONS
from incidents.attachments import NoteFilesForm
from incidents.forms import (
    EDIT_FIELDS,
    IncidentEditForm,
    NoteForm,
)
from incidents.models import Incident
from incidents.views.desk.base import IncidentTabView, tab_url, tab_visible, writable_kinds
from itsm import policy
from itsm.forms import NoInputForm, Unopened, opened
from itsm.templatetags.itsm_ui import state_label
from itsm.views import panels
from itsm.views.conversation import composer, conversation

# What the overview lists, in order, of the fields the user may read.
OVERVIEW_FIELDS = (
    "state", "priority", "impact", "urgency", "assignment_group", "assignee", "requester",
    "requested_for", "organisation", "source", "category", "subcategory", "classification", "service",
    "escalation_level", "opened_at", "acknowledged_at", "updated_at", "resolved_at", "closed_at",
    "resolution_code", "resolution_notes", "resolution_message", "major_incident", "major_incident_manager",
    "major_incident_review", "collaborators", "hosts", "related_configuration_items",
    "related_incidents", "related_problems", "changes_required",
)  # fmt: skip
OVERVIEW_M2M = frozenset(f.name for f in Incident._meta.many_to_many) & frozenset(OVERVIEW_FIELDS)
# The columns each relation's ``str`` reads (Work: number and title; a person: the name; a host).
NAMED_BY = {
    "collaborators": ("first_name", "last_name", "username"),
    "hosts": ("hostname",),
    "related_configuration_items": ("hostname",),
    "related_incidents": ("number", "short_description"),
    "changes_required": ("number", "short_description"),
}


def action_form(name: str, user, incident: Incident, data=None):
    return ACTIONS[name].form(data, prefix=name, user=user, record=incident)


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
        long = name in ("resolution_notes", "resolution_message", "major_incident_review")
        rows.append(
            {"name": name, "label": capfirst(field.verbose_name), "value": value, "kind": kind, "long": long}
        )
    return rows


class OverviewView(IncidentTabView):
    tab = "overview"
    template_name = "incidents/desk/overview.html"
    SIDE, MAIN = "desk:incident:side", "desk:incident:main"  # the slots of other apps' panels
    panel_slots = (SIDE, MAIN)

    def prefetch(self, hidden):
        # The overview shows these relations' items by name only (``field_rows``): read just the
        # columns their ``str`` needs, not whole Work, change and user rows. The problems' rows
        # stay whole: their workarounds and their policy are read from them.
        return tuple(
            Prefetch(name, queryset=field.related_model._default_manager.only(*NAMED_BY[name]))
            if name in NAMED_BY
            else name
            for name, field in sorted((n, Incident._meta.get_field(n)) for n in OVERVIEW_M2M - hidden)
        )

    def composer_form(self, incident, kinds):
        """The composer: the note kinds the writer may post, and files when it may attach them
        (the notes view it posts to takes both)."""
        if policy.can(self.request.user, "attach", incident):
            return NoteFilesForm(kinds=kinds)
        return NoteForm(kinds=kinds)

    def tab_context(self, incident, forms):
        user = self.request.user
        readable = policy.readable_fields(user, incident)
        edit_form = forms.get("edit_form")
        writable = policy.writable_fields(user, incident)
        if edit_form is None and writable & set(EDIT_FIELDS):
            edit_form = (
                IncidentEditForm(incident=incident, user=user, writable=writable)
                if opened(self.request, "edit")
                else Unopened(IncidentEditForm)
            )
        actions = []
        for entry in ACTIONS.available(user, incident):
            form = forms.get(f"{entry.name}_form")
            if form is None:  # the card shows it closed unless asked to open it
                form = (
                    action_form(entry.name, user, incident)
                    if opened(self.request, entry.name)
                    else Unopened(entry.form or NoInputForm)
                )
            actions.append({"name": entry.name, "label": entry.label, "form": form, "danger": entry.danger})
        workarounds = []
        if "workarounds" not in self.hidden and "related_problems" in readable:
            workarounds = selectors.problem_workarounds(user, incident)
        # Problems are known here only through the incident's relation (incidents import no
        # problems module): the links go to the problem pages by URL name.
        problem_model = Incident._meta.get_field("related_problems").related_model
        links = [("All comments", tab_url("conversation", incident))]
        if tab_visible(user, incident, "journal", self.hidden):
            links.append(("Work journal", tab_url("journal", incident)))
        kinds = writable_kinds(user, incident, self.hidden)
        return {
            "conversation": conversation(
                user, incident, incident.notes.all(), hidden=self.hidden, links=links
            ),
            "composer": composer(
                forms.get("note_form") or (self.composer_form(incident, kinds) if kinds else None),
                action=reverse("desk:incident-conversation", args=[incident.pk]),
                back=tab_url("overview", incident, "conversation"),
            ),
            "workarounds": workarounds,
            "may_raise_problem": policy.can(user, "create", problem_model),
            "may_read_problems": "related_problems" in readable and policy.can(user, "read", problem_model),
            "side_panels": panels.render(self.request, self.SIDE, incident),
            "main_panels": panels.render(self.request, self.MAIN, incident),
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
        form = action_form(action, request.user, incident, request.POST)
        return self.write(
            incident, form, f"{action}_form",
            lambda data: ACTIONS[action].message(ACTIONS.run(action, incident, request.user, **data)),
        )  # fmt: skip
