"""A record's conversation on its desk overview, and the one composer under it, for any kind of
work: whose notes are comments (the customer reads them) and work notes (the desk only), or
whose notes have no kind and are all work notes (problems and changes, the desk's own records).

``conversation`` reads the latest notes in one query whatever their number (with whether each
author works on the desk, to tell a customer's comment from an agent's public reply); the page links to the
full notes tab for the rest. ``composer`` is the domain's own note form (so whatever that form
gains — attachments — the composer has too), posting to the domain's note-create view with a
``next`` that brings the writer back; ``return_url`` is how that view reads it safely.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from itsm import policy
from itsm.dates import day_month_year_time, month_names
from itsm.models.users import UserRole

CONVERSATION_SIZE = 10  # notes shown on the overview; the notes tab has them all
COMMENT, WORK_NOTE = "comment", "work_note"

# How each note is marked, so nobody mistakes a reply the customer reads for an internal note.
MARKS = {
    "customer": "Customer comment",
    "public": "Public reply — the customer sees this",
    "internal": "Internal note — the service desk only",
}


def readable_kinds(hidden) -> list[str]:
    """The kinds of note a reader may read: work notes only with the work journal."""
    return [COMMENT] if "work_journal" in hidden else [COMMENT, WORK_NOTE]


def has_kinds(notes) -> bool:
    """Whether the notes are of two kinds (comments and work notes); if not, all are work notes."""
    return any(field.name == "kind" for field in notes.model._meta.concrete_fields)


def conversation(user, record, notes, *, hidden, size: int = CONVERSATION_SIZE, links=()) -> dict:
    """The latest ``size`` notes of ``notes`` (the record's note queryset) the reader may read,
    oldest first, each marked as a customer's comment, a public reply or an internal note and
    its author named as ``policy.person_name`` names them; ``more`` when older ones exist (then
    ``links`` — (label, url) — lead to them). One query."""
    kinded = has_kinds(notes)
    if kinded:
        # Whether the author works the desk, asked of the author's own role rows (an index
        # look-up per note), not of the set of every desk user.
        # (A superuser works the desk too: read from the author's row, which the query joins.)
        desk_roles = UserRole.objects.filter(
            user_id=OuterRef("author_id"), role__in=policy.roles_with_permission("desk.access")
        )
        latest = notes.filter(kind__in=readable_kinds(hidden)).annotate(desk_role=Exists(desk_roles))
    else:
        latest = notes if WORK_NOTE in readable_kinds(hidden) else notes.none()
    rows = list(latest.select_related("author").order_by("-created_at", "-pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size][::-1]
    items = []
    tz, months = timezone.get_current_timezone(), month_names()
    for note in rows:
        kind = note.kind if kinded else WORK_NOTE
        if kind == WORK_NOTE:
            audience = "internal"
        elif note.desk_role or (note.author is not None and note.author.is_superuser):
            audience = "public"
        else:
            audience = "customer"
        at = note.created_at.astimezone(tz)
        items.append({
            "note": note, "kind": kind, "audience": audience, "mark": MARKS[audience],
            "author": policy.person_name(user, note.author, record, nobody=policy.DESK_NAME),
            # As ``date:"c"`` and ``date:"j M Y H:i"`` write it, without parsing the format per note.
            "at_iso": at.isoformat(),
            "at": day_month_year_time(at, months),
        })  # fmt: skip
    title, empty = ("Conversation", "No comments or notes yet.")
    if not kinded:
        title, empty = ("Work notes", "No work notes yet.")
    return {"title": title, "items": items, "more": more, "links": list(links), "size": size, "empty": empty}


def composer(form, *, action: str, back: str) -> dict | None:
    """The composer's context: the domain's note form, where it posts and where the writer comes
    back to; None when the reader may add no note. A form with a ``kind`` choice says who reads
    the note; one without writes a work note only, and the composer is marked as internal."""
    if form is None:
        return None
    internal_only = "kind" not in form.fields
    return {
        "form": form, "action": action, "next": back,
        "mark": MARKS["internal"] if internal_only else "",
        "submit": "Add work note" if internal_only else "Send",
    }  # fmt: skip


def return_url(request, default: str) -> str:
    """Where a form asked to go back to (its ``next``), if that is a path on this site; else
    ``default``."""
    target = request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
