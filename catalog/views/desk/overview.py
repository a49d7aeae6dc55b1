"""The request page's overview: the fields the user may read, the submitted form data labelled
from the form as it was when the request was raised (``form_snapshot``), and a form for each
action the user may take now; the edit form."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.http import Http404
from django.urls import reverse
from django.utils.text import capfirst

from catalog import selectors, services, workflows
from catalog.models import Request, RequestTask
from catalog.views.desk.base import APPROVAL_ACTIONS, RequestTabView
from catalog.views.desk.forms import EDIT_FIELDS, NoteForm, RequestEditForm
from itsm import policy
from itsm.forms import Unopened, opened
from itsm.templatetags.itsm_ui import state_label
from itsm.views import attachments as attachment_views
from itsm.views.attachments import AttachTabMixin
from itsm.views.conversation import composer, conversation, readable_kinds

# What the details card lists, in order, of the fields the user may read.
OVERVIEW_FIELDS = (
    "state", "catalog_item", "priority", "assignment_group", "assignee", "requester", "requested_for",
    "organisation", "approval_level", "classification", "service", "opened_at", "updated_at", "closed_at",
)  # fmt: skip
LABELS = {"catalog_item": "Item", "assignment_group": "Group", "approval_level": "Approval level"}
LONG = frozenset({"completion_notes"})
TEXT_FIELDS = ("description", "completion_notes")
TYPE_LABELS = {
    "text": "Text",
    "textarea": "Long text",
    "number": "Number",
    "dropdown": "Dropdown",
    "radio": "Choice",
    "checkbox": "Checkbox",
    "hidden": "Hidden",
    "date": "Date",
    "email": "E-mail",
}


def field_rows(user, record: Request, names) -> list[dict]:
    """Label and value of each field, as the page shows them (people as the policy names them
    for this reader: ``policy.person_name``)."""
    rows = []
    for name in names:
        field = Request._meta.get_field(name)
        value = getattr(record, name)
        kind = "text"
        if name == "state":
            value = state_label(value)
        elif name == "catalog_item":
            value = value.name if value is not None else ""
        elif getattr(field, "choices", None):
            value = getattr(record, f"get_{name}_display")() if value not in ("", None) else ""
        elif isinstance(value, bool):
            value = "Yes" if value else "No"
        elif isinstance(value, datetime):
            kind = "datetime"
        elif field.is_relation and value is not None and field.related_model is get_user_model():
            value = policy.person_name(user, value, record, nobody="")
        elif field.is_relation and value is not None:
            value = str(value)
        label = LABELS.get(name) or capfirst(field.verbose_name)
        rows.append({"name": name, "label": label, "value": value, "kind": kind, "long": name in LONG})
    return rows


def shown_value(value) -> str:
    """A submitted value as the agent reads it."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)


def form_rows(user, record: Request) -> list[dict]:
    """The answers as the form labelled them when the request was raised
    (``catalog.selectors.form_rows``), each with its type. Hidden-type fields (a cost centre, a
    routing code) are the desk's own: shown, marked, to those who manage requests, as on the
    portal (``selectors.form_rows``: the answers the reader may see)."""
    return [
        {
            **row,
            "value": shown_value(row["value"]),
            "type_label": TYPE_LABELS.get(row["type"], row["type"]),
            "hidden_type": row["type"] == "hidden",
            "long": row["type"] == "textarea",
        }
        for row in selectors.form_rows(user, record)
    ]


def fulfilment(user, record: Request, hidden) -> dict | None:
    """While in fulfilment: how many of its tasks are done, and which are still open (what
    "Mark complete" waits for). One query."""
    if record.state != "in_fulfilment" or "subtasks" in hidden or not policy.can(user, "read", RequestTask):
        return None
    tasks = list(
        policy.readable(user, RequestTask)
        .filter(request=record)
        .order_by("opened_at", "pk")
        .values_list("number", "state")
    )
    still_open = [number for number, state in tasks if state not in workflows.DONE_TASK]
    return {"total": len(tasks), "done": len(tasks) - len(still_open), "open": still_open}


class OverviewView(RequestTabView):
    tab = "overview"
    template_name = "catalog/desk/overview.html"

    def tab_context(self, record, forms):
        user = self.request.user
        readable = policy.readable_fields(user, record)
        edit_form = forms.get("edit_form")
        writable = policy.writable_fields(user, record)
        if edit_form is None and writable & set(EDIT_FIELDS):
            edit_form = (  # closed unless asked to open it (itsm.forms.Unopened)
                RequestEditForm(record=record, writable=writable, user=user)
                if opened(self.request, "edit")
                else Unopened(RequestEditForm)
            )
        # The decisions are written out in their own card; the other actions in the closed cards.
        actions = self.action_forms(record, forms, exclude=APPROVAL_ACTIONS, lazy=True)
        kinds = [k for k in readable_kinds(self.hidden) if policy.can(user, services.NOTE_ACTION[k], record)]
        notes_url = reverse("desk:request-notes", args=[record.pk])
        # The composer chooses the internal work note unless the writer picks the public comment.
        note_form = forms.get("note_form") or (
            NoteForm(kinds=kinds, initial={"kind": "work_note" if "work_note" in kinds else "comment"})
            if kinds
            else None
        )
        return {
            "conversation": conversation(
                user, record, record.notes.all(), hidden=self.hidden, links=[("All notes", notes_url)]
            ),
            "composer": composer(
                note_form, action=notes_url, back=self.tab_url("overview", record, "conversation")
            ),
            "rows": field_rows(user, record, [name for name in OVERVIEW_FIELDS if name in readable]),
            "texts": field_rows(user, record, [name for name in TEXT_FIELDS if name in readable]),
            "form_rows": form_rows(user, record) if "form_data" in readable else [],
            "form_shown": "form_data" in readable,
            "edit_form": edit_form,
            "fulfilment": fulfilment(user, record, self.hidden),
            "actions": actions,
            "approval_actions": self.action_forms(record, forms, APPROVAL_ACTIONS),
            "attachments": attachment_views.card(
                self.request, record, upload_url=reverse("desk:request-attach", args=[record.pk]), door="desk"
            ),
        }


class RequestAttachView(AttachTabMixin, OverviewView):
    """Upload files to the request; a refusal comes back on the overview with the card's errors."""


class RequestEditView(OverviewView):
    """Save the overview's edit form through ``services.request_update``; a change someone made
    meanwhile is refused (409), not overwritten."""

    http_method_names = ["post"]

    def post(self, request, pk):
        record = self.load(pk)
        writable = policy.writable_fields(request.user, record)
        if not writable & set(EDIT_FIELDS):
            raise Http404("No such page.")
        form = RequestEditForm(request.POST, record=record, writable=writable, user=request.user)

        def save(data) -> str:
            changes = form.changes()
            if not changes:
                return "You did not change anything."
            services.request_update(
                request=record, actor=request.user, data=changes, expected_version=form.expected_version()
            )
            return f"Your changes to {record.number} have been saved."

        return self.write(record, form, "edit_form", save)
