"""The request page's other tabs — approvals, tasks, notes, timeline — editing and deleting a
note, and the URL its action forms post to (an action of the action table)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views import View

from catalog import services
from catalog.models import ApprovalLevel, RequestApproval, RequestNote, RequestTask
from catalog.views.desk.base import APPROVAL_ACTIONS, RequestTabView
from catalog.views.desk.forms import NoteEditForm, NoteForm
from catalog.views.desk.overview import OverviewView
from itsm import policy, timeline
from itsm.errors import ItsmError, NotFound
from itsm.validators import is_possible_pk
from itsm.views.base import DeskMixin
from itsm.views.tasks import TaskActionTab, TasksTab

# --- Approvals ----------------------------------------------------------------------------------

MODES = {"any": "Any one approver decides", "every": "Every approver must approve"}


def approval_levels(user, record) -> list[dict]:
    """Each approval level of the request — the item's rule for it (any one or every approver, the
    group) and each approver's decision, who took it, when and why — in level order. Levels the
    request has not reached yet are listed from the item, without approvers. Two or three
    queries."""
    rules = {
        level.position: level
        for level in ApprovalLevel.objects.filter(item_id=record.catalog_item_id).select_related("group")
    }
    decisions: dict[int, list] = {}
    # The decisions the reader may read (agents: all; an approver: its own), as
    # ``catalog.selectors.approvals_for``; the record itself was read through the policy already.
    readable = policy.readable(user, RequestApproval, RequestApproval.objects.filter(request=record))
    for row in readable.select_related("approver", "decided_by").order_by("level", "pk"):
        decisions.setdefault(row.level, []).append(row)
    if not decisions and record.state != "pending_approval" and not record.approvals.exists():
        return []  # no approval was asked for (levels added to the item since do not apply)
    levels = []
    for position in sorted(set(rules) | set(decisions)):
        rule = rules.get(position)
        rows = decisions.get(position, [])
        levels.append({
            "position": position,
            "mode": MODES.get(rule.mode, rule.mode) if rule else "",
            "group": rule.group.name if rule and rule.group else "",
            "current": record.state == "pending_approval" and record.approval_level == position,
            "approvers": [
                {
                    "approver": policy.person_name(user, row.approver, record),
                    "decision": row.decision,
                    "decision_label": row.get_decision_display(),
                    "decided_by": (
                        policy.person_name(user, row.decided_by, record)
                        if row.decided_by_id and row.decided_by_id != row.approver_id else ""
                    ),
                    "decided_at": row.decided_at,
                    "reason": row.reason,
                }
                for row in rows
            ],
        })  # fmt: skip
    return levels


class ApprovalsView(RequestTabView):
    """The approval levels and their decisions, and approve / reject for whoever may decide now."""

    tab = "approvals"
    template_name = "catalog/desk/approvals.html"

    def tab_context(self, record, forms):
        return {
            "levels": approval_levels(self.request.user, record),
            "approval_actions": self.action_forms(record, forms, APPROVAL_ACTIONS),
        }


# --- The action URL ---------------------------------------------------------------------------


class RequestActionView(DeskMixin, View):
    """One action on the request, from the action table: approve and reject come back to the
    approvals tab, the others to the overview."""

    http_method_names = ["post"]

    def post(self, request, pk, action):
        view = (ApprovalsView if action in APPROVAL_ACTIONS else OverviewView)()
        view.setup(request, pk=pk, action=action)
        if view.action_table is None or action not in view.action_table:
            raise Http404("No such action.")
        return view.act(pk, action)


# --- Tasks ------------------------------------------------------------------------------------


class TasksView(TasksTab, RequestTabView):
    template_name = "catalog/desk/tasks.html"
    task_model = RequestTask


class TaskActionView(TaskActionTab, TasksView):
    """Start, close or cancel one of the request's tasks."""


# --- Timeline ---------------------------------------------------------------------------------


class TimelineView(RequestTabView):
    """The request's journal as the user may see it (``itsm.timeline.entries_for``: labelled),
    oldest first."""

    tab = "timeline"
    template_name = "catalog/desk/timeline.html"

    def tab_context(self, record, forms):
        return {"entries": timeline.entries_for(self.request.user, record)}


# --- Notes ------------------------------------------------------------------------------------

NOTE_ADDED = {
    "comment": "Your comment has been added; the requester can see it.",
    "work_note": "Your work note has been added; only the service desk sees it.",
}


class NotesView(RequestTabView):
    """Comments (the requester sees them) and work notes (the service desk only), oldest first,
    and the composer: the writer picks "Public comment" or "Internal work note" each time."""

    tab = "notes"
    template_name = "catalog/desk/notes.html"

    def kinds(self, record) -> list[str]:
        """The kinds of note the user may read here (work notes: those who read the work journal)."""
        return ["comment"] if "work_journal" in self.hidden else ["comment", "work_note"]

    def writable_kinds(self, record) -> list[str]:
        """The kinds of note the user may add (the policy's ``comment`` and ``work_note``)."""
        user = self.request.user
        return [kind for kind in self.kinds(record) if policy.can(user, services.NOTE_ACTION[kind], record)]

    def tab_context(self, record, forms):
        user = self.request.user
        kinds = self.writable_kinds(record)
        note_form = forms.get("note_form")
        if note_form is None and kinds:
            note_form = NoteForm(kinds=kinds)
        notes = [
            {
                "note": note,
                "author": policy.person_name(user, note.author, record, nobody=policy.DESK_NAME),
                "can_edit": note.kind in kinds and policy.can_edit_note(user, note),
                "edited": (note.updated_at - note.created_at).total_seconds() > 1,
            }
            for note in record.notes.filter(kind__in=self.kinds(record))
            .select_related("author")
            .order_by("created_at", "pk")
        ]
        return {"notes": notes, "note_form": note_form}

    def post(self, request, pk):
        record = self.load(pk)
        kinds = self.writable_kinds(record)
        if not kinds:
            raise Http404("No such page.")
        form = NoteForm(request.POST, kinds=kinds)

        def add(data) -> str:
            services.request_note_add(
                request=record, actor=request.user, kind=data["kind"], body=data["body"]
            )
            return NOTE_ADDED[data["kind"]]

        return self.write(record, form, "note_form", add, anchor="notes")


class NoteMixin:
    """A note of the request, if the user may read its kind (else 404)."""

    def load_note(self, record, note_id) -> RequestNote:
        if not is_possible_pk(RequestNote, note_id):
            raise Http404("No such note.")
        note = record.notes.select_related("author").filter(pk=note_id, kind__in=self.kinds(record)).first()
        if note is None:
            raise Http404("No such note.")
        return note


class NoteEditView(NoteMixin, NotesView):
    """Edit a note: its author, or an ITSM administrator (``policy.can_edit_note``)."""

    template_name = "catalog/desk/note_edit.html"

    def tab_context(self, record, forms):
        form = forms.get("note_form") or NoteEditForm(initial={"body": self.note.body})
        return {"note": self.note, "note_form": form}

    def get(self, request, pk, note_id):
        record = self.load(pk)
        self.note = self.load_note(record, note_id)
        if not policy.can_edit_note(request.user, self.note):
            messages.error(request, "Only the note's author or an ITSM administrator can change it.")
            return redirect(self.tab_url("notes", record))
        return self.page(record)

    def post(self, request, pk, note_id):
        record = self.load(pk)
        self.note = self.load_note(record, note_id)
        form = NoteEditForm(request.POST)

        def save(data) -> str:
            services.request_note_edit(note=self.note, actor=request.user, body=data["body"])
            return "The note has been changed."

        return self.write(record, form, "note_form", save, anchor=f"note-{self.note.pk}")


class NoteDeleteView(NoteMixin, NotesView):
    http_method_names = ["post"]

    def post(self, request, pk, note_id):
        record = self.load(pk)
        note = self.load_note(record, note_id)
        try:
            services.request_note_delete(note=note, actor=request.user)
        except NotFound:
            raise Http404("No such note.") from None
        except ItsmError as exc:
            messages.error(request, exc.message)
            return self.page(record, status=exc.status)
        messages.success(request, "The note has been deleted.")
        return redirect(self.tab_url("notes", record))
