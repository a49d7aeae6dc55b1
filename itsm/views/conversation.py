"""A record's conversation on its desk overview, and the one composer under it, for any kind of
work whose notes are comments (the customer reads them) and work notes (the desk only).

``conversation`` reads the latest notes in one query whatever their number (with whether each
author works on the desk, to tell a customer's comment from an agent's public reply); the page links to the
full notes tab for the rest. ``composer`` is the domain's own note form (so whatever that form
gains — attachments — the composer has too), posting to the domain's note-create view with a
``next`` that brings the writer back; ``return_url`` is how that view reads it safely.
"""

from __future__ import annotations

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.utils.http import url_has_allowed_host_and_scheme

from itsm import policy
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


def conversation(user, record, notes, *, hidden, size: int = CONVERSATION_SIZE, links=()) -> dict:
    """The latest ``size`` notes of ``notes`` (the record's note queryset) the reader may read,
    oldest first, each marked as a customer's comment, a public reply or an internal note and
    its author named as ``policy.person_name`` names them; ``more`` when older ones exist (then
    ``links`` — (label, url) — lead to them). One query."""
    # Whether the author works the desk, asked of the author's own role rows (an index look-up
    # per note), not of the set of every desk user.
    desk_roles = UserRole.objects.filter(
        user_id=OuterRef("author_id"), role__in=policy.roles_with_permission("desk.access")
    )
    by_desk = ExpressionWrapper(Q(author__is_superuser=True) | Q(Exists(desk_roles)), output_field=BooleanField())
    latest = (
        notes.filter(kind__in=readable_kinds(hidden))
        .select_related("author")
        .annotate(by_desk=by_desk)
        .order_by("-created_at", "-pk")
    )
    rows = list(latest[: size + 1])
    more = len(rows) > size
    rows = rows[:size][::-1]
    items = []
    for note in rows:
        if note.kind == WORK_NOTE:
            audience = "internal"
        elif note.by_desk:
            audience = "public"
        else:
            audience = "customer"
        items.append({
            "note": note, "audience": audience, "mark": MARKS[audience],
            "author": policy.person_name(user, note.author, record, nobody=policy.DESK_NAME),
        })  # fmt: skip
    return {"items": items, "more": more, "links": list(links), "size": size}


def composer(form, *, action: str, back: str) -> dict | None:
    """The composer's context: the domain's note form (with its ``kind`` choice), where it posts
    and where the writer comes back to; None when the reader may add no note."""
    if form is None:
        return None
    return {"form": form, "action": action, "next": back}


def return_url(request, default: str) -> str:
    """Where a form asked to go back to (its ``next``), if that is a path on this site; else
    ``default``."""
    target = request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
