"""A change's timeline: its work notes and journal (transitions, field changes, gates, impact),
as far as the reader may see them."""

from __future__ import annotations

from changes.models import Change
from itsm import audit, policy


def change_timeline(user, change: Change) -> list[dict]:
    """Everything that happened, oldest first; empty for a reader who may not read the change."""
    if not policy.is_readable(user, change):
        return []
    items = [
        {
            "at": note.created_at, "type": "note", "actor": policy.person_name(user, note.author, change),
            "text": note.body, "field": "", "old_value": "", "new_value": "",
        }
        for note in change.notes.select_related("author")
    ]  # fmt: skip
    for entry in audit.entries_for(user, change):
        items.append({
            "at": entry.at, "type": entry.action, "actor": entry.actor_label,
            "text": entry.transition or entry.note, "field": entry.field, "old_value": entry.old_value,
            "new_value": entry.new_value,
        })  # fmt: skip
    items.sort(key=lambda item: item["at"])
    return items
