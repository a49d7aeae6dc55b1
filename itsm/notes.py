"""Work notes on a record (a problem's, a change's): the body rule, and editing or deleting one —
only its author or an ITSM administrator (``policy.can_edit_note``), on a record the editor may
read and note, the old text kept in the record's journal. A domain's notes service names its note
model and the note's parent field and calls these, inside its own transaction."""

from __future__ import annotations

from typing import Any

from itsm import attachments, audit, policy
from itsm.errors import InvalidInput, NotAllowed, NotFound

NOTE_MAX = 8000  # characters of a note (incident comments and work notes too)


def note_body(body: Any) -> str:
    """The note's text, stripped; a 400 naming ``body`` when it is empty, not text or too long."""
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        raise InvalidInput("The note is empty.", fields={"body": ["Write something."]})
    if len(text) > NOTE_MAX:
        raise InvalidInput(
            "The note is too long.",
            fields={"body": [f"Ensure this field has no more than {NOTE_MAX} characters (it has {len(text)})."]},
        )
    return text


def note_for_edit(note, actor, *, parent: str, action: str = "note"):
    """The note, locked, if ``actor`` may change it: 404 when it is gone or its record is not the
    actor's to read and note (``action``: the policy action that adds such a note, e.g. a
    request's ``comment`` or ``work_note``); 403 when it is someone else's note."""
    model = type(note)
    note = model.objects.select_for_update().select_related(parent).filter(pk=note.pk).first()
    record = getattr(note, parent, None)
    if note is None or not policy.is_readable(actor, record) or not policy.can(actor, action, record):
        raise NotFound()
    if not policy.can_edit_note(actor, note):
        raise NotAllowed("Only the note's author or an ITSM administrator can change it.")
    return note


def note_edit(
    note, actor, body: str, *, parent: str, action: str = "note", journal: str = "notes", label: str = "Note"
):
    """Change a note's text; the record's journal keeps the old one under ``journal`` (a field
    whose readers may read the note: a work note's is the work journal) as "<label> #id
    edited" (call inside a transaction)."""
    text = note_body(body)
    note = note_for_edit(note, actor, parent=parent, action=action)
    if note.body != text:
        audit.change_entry(
            getattr(note, parent), actor, journal, note.body, text, note=f"{label} #{note.pk} edited."
        ).save()
        note.body = text
        note.save(update_fields=["body", "updated_at"])
    return note


def note_delete(
    note, actor, *, parent: str, action: str = "note", journal: str = "notes", label: str = "Note"
) -> None:
    """Remove a note and its files (``attachments.note_files_remove``); the record's journal keeps
    its text and says which files went (call inside a transaction)."""
    note = note_for_edit(note, actor, parent=parent, action=action)
    record = getattr(note, parent)
    audit.change_entry(record, actor, journal, note.body, "", note=f"{label} #{note.pk} deleted.").save()
    attachments.note_files_remove(record=record, note=note, actor=actor)
    note.delete()
