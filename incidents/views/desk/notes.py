"""The incident page's conversation (comments, which the customer sees) and work journal (agents)
tabs, and editing or deleting a note.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect

from incidents import attachments as incident_files
from incidents import selectors, services
from incidents.attachments import NoteFilesForm
from incidents.forms import NoteForm
from incidents.models import Incident, IncidentNote
from incidents.views.desk.base import IncidentTabView, tab_url, tab_visible, writable_kinds
from itsm import attachments, policy
from itsm.errors import ItsmError, NotFound
from itsm.validators import is_possible_pk
from itsm.views import attachments as attachment_views


class NotesView(IncidentTabView):
    """The conversation (comments, which the customer sees) or the work journal (agents)."""

    template_name = "incidents/desk/notes.html"
    kind = IncidentNote.Kind.COMMENT

    def tab_context(self, incident, forms):
        user = self.request.user
        may_write = policy.can(user, services.NOTE_ACTION[self.kind], incident)
        files = attachment_views.by_note(
            user, incident, attachments.attachments_of(user, incident), door="desk"
        )
        notes = [
            {
                "note": note,
                "can_edit": may_write and policy.can_edit_note(user, note),
                "edited": (note.updated_at - note.created_at).total_seconds() > 1,
                "files": files.get(note.pk, []),
            }
            for note in selectors.notes_for(user, incident, self.kind)
        ]
        note_form = forms.get("note_form") or (NoteFilesForm(kind=self.kind) if may_write else None)
        return {"notes": notes, "note_form": note_form, "kind": self.kind}

    def post(self, request, pk):
        """Add a note of this tab's kind, or of the kind the overview's composer chose (its form
        sends ``kind``, and ``next`` to come back to the overview)."""
        incident = self.load(pk)
        kinds = writable_kinds(request.user, incident, self.hidden) if "kind" in request.POST else None
        form = NoteFilesForm(request.POST, request.FILES, kind=self.kind, kinds=kinds)

        def add(data) -> str:
            kind = data.get("kind") or self.kind
            incident_files.note_add_with_files(
                incident=incident, actor=request.user, kind=kind, body=data["body"], files=data["attachments"]
            )
            if kind == IncidentNote.Kind.COMMENT:
                return "Your comment has been added; the customer can see it."
            return "Your work note has been added to the journal."

        return self.write(incident, form, "note_form", add, anchor="add-note")


class ConversationView(NotesView):
    tab = "conversation"
    kind = IncidentNote.Kind.COMMENT


class JournalView(NotesView):
    tab = "journal"
    kind = IncidentNote.Kind.WORK_NOTE


NOTE_TABS = {IncidentNote.Kind.COMMENT: "conversation", IncidentNote.Kind.WORK_NOTE: "journal"}


class NoteMixin:
    """A note of the incident, if the user may read its kind (else 404)."""

    def load_note(self, incident: Incident, note_id) -> IncidentNote:
        if not is_possible_pk(IncidentNote, note_id):
            raise Http404("No such note.")
        note = incident.notes.select_related("author").filter(pk=note_id).first()
        if note is None or not tab_visible(self.request.user, incident, NOTE_TABS[note.kind], self.hidden):
            raise Http404("No such note.")
        self.tab = NOTE_TABS[note.kind]
        self.kind = note.kind
        return note


class NoteEditView(NoteMixin, IncidentTabView):
    """Edit a note: its author, or an ITSM administrator (``policy.can_edit_note``)."""

    template_name = "incidents/desk/note_edit.html"

    def tab_context(self, incident, forms):
        note = self.note
        may_edit = policy.can(self.request.user, services.NOTE_ACTION[note.kind], incident) and (
            policy.can_edit_note(self.request.user, note)
        )
        form = forms.get("note_form") or (
            NoteForm(initial={"body": note.body}, kind=note.kind) if may_edit else None
        )
        return {"note": note, "note_form": form, "may_edit": may_edit}

    def get(self, request, pk, note_id):
        incident = self.load(pk)
        self.note = self.load_note(incident, note_id)
        if not policy.can_edit_note(request.user, self.note):
            messages.error(request, "Only the note's author or an ITSM administrator can change it.")
            return self.page(incident, status=403)
        return self.page(incident)

    def post(self, request, pk, note_id):
        incident = self.load(pk)
        self.note = self.load_note(incident, note_id)

        def save(data) -> str:
            services.note_edit(note=self.note, actor=request.user, body=data["body"])
            return "The note has been changed."

        form = NoteForm(request.POST, kind=self.note.kind)
        return self.write(incident, form, "note_form", save, anchor=f"note-{self.note.pk}")


class NoteDeleteView(NoteMixin, NotesView):
    http_method_names = ["post"]

    def post(self, request, pk, note_id):
        incident = self.load(pk)
        note = self.load_note(incident, note_id)
        try:
            services.note_delete(note=note, actor=request.user)
        except NotFound:
            raise Http404("No such note.") from None
        except ItsmError as exc:
            messages.error(request, exc.message)
            return self.page(incident, status=exc.status)
        messages.success(request, "The note has been deleted.")
        return redirect(tab_url(self.tab, incident))
