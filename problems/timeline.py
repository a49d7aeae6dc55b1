"""A problem's timeline: its work notes and journal (transitions, field changes, links), as far
as the reader may see them. (A read of its own module: problems/selectors.py holds the known-error
search and auto-match.)"""

from __future__ import annotations

from itsm import audit, policy
from problems.models import Problem


def problem_timeline(user, problem: Problem) -> list[dict]:
    """Everything that happened, oldest first; empty for a reader who may not read the problem."""
    if not policy.is_readable(user, problem):
        return []
    items = [
        {
            "at": note.created_at, "type": "note", "actor": policy.person_name(user, note.author, problem),
            "text": note.body, "field": "", "old_value": "", "new_value": "",
        }
        for note in problem.notes.select_related("author")
    ]  # fmt: skip
    for entry in audit.entries_for(user, problem):
        items.append({
            "at": entry.at, "type": entry.action, "actor": entry.actor_label,
            "text": entry.transition or entry.note, "field": entry.field, "old_value": entry.old_value,
            "new_value": entry.new_value,
        })  # fmt: skip
    items.sort(key=lambda item: item["at"])
    return items
