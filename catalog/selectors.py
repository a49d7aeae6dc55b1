"""Reads of the catalog that more than one door needs: a customer's requests and their summary,
the approvals awaiting someone, a request's notes, approvals and timeline. Each answers in a
fixed number of queries and only with what the reader may see."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q

from catalog import formdef
from catalog.models import (
    CatalogCategory,
    CatalogItem,
    Decision,
    Request,
    RequestApproval,
    RequestNote,
    RequestState,
)
from itsm import audit, policy

MANAGE_REQUESTS = "service_requests.manage"


def my_requests(user):
    """The requests ``user`` raised, newest first (the portal's My Requests; ``?mine=true``)."""
    return (
        policy.readable(user, Request, Request.objects.filter(requester=user))
        .select_related("catalog_item")
        .order_by("-opened_at", "-pk")
    )


def summary(user) -> dict:
    """How many of the requests ``user`` raised are in each state, and in all (one query)."""
    counts = {state: 0 for state in RequestState.values}
    rows = Request.objects.filter(requester=user).order_by().values("state").annotate(n=Count("pk"))
    for row in rows:
        counts[row["state"]] = row["n"]
    return {"total": sum(counts.values()), "by_state": counts}


def _awaiting_me(user):
    return RequestApproval.objects.filter(
        request=OuterRef("pk"), approver=user, decision=Decision.PENDING, level=OuterRef("approval_level")
    )


def approvals_awaiting(user):
    """Requests waiting for ``user``'s decision, oldest first: for holders of
    ``service_requests.manage`` every request pending approval they did not raise; for anyone
    else those whose current level has a pending approval of theirs. One query."""
    pending = Request.objects.filter(state=RequestState.PENDING_APPROVAL)
    if policy.has_permission(user, MANAGE_REQUESTS):
        queryset = policy.readable(user, Request, pending).exclude(requester=user)
    else:
        queryset = pending.filter(Exists(_awaiting_me(user)))
    return queryset.select_related("catalog_item", "requester").order_by("opened_at", "pk")


def has_approvals_awaiting(user) -> bool:
    """Whether the Approval Queue has anything for a customer (agents always see the tab)."""
    return Request.objects.filter(state=RequestState.PENDING_APPROVAL).filter(Exists(_awaiting_me(user))).exists()


def awaits_decision(user, request: Request) -> bool:
    """Whether ``user`` may approve or reject ``request`` now: it is pending approval, not
    raised by them, and they are a pending approver of its current level or hold
    ``service_requests.manage``."""
    if request.state != RequestState.PENDING_APPROVAL or request.requester_id == user.pk:
        return False
    if not policy.can(user, "approve", request):
        return False
    if policy.has_permission(user, MANAGE_REQUESTS):
        return True
    return RequestApproval.objects.filter(
        request=request, approver=user, decision=Decision.PENDING, level=request.approval_level
    ).exists()


def approvals_for(user, request: Request):
    """The request's approval decisions ``user`` may read (agents: all; an approver: its own)."""
    if not policy.is_readable(user, request):
        return RequestApproval.objects.none()
    return (
        policy.readable(user, RequestApproval, RequestApproval.objects.filter(request=request))
        .select_related("approver", "decided_by")
        .order_by("level", "id")
    )


def notes_for(user, request: Request, kind: str):
    """Comments for every reader of the request; work notes only for readers of the work journal."""
    if not policy.is_readable(user, request):
        return RequestNote.objects.none()
    if kind == RequestNote.Kind.WORK_NOTE and "work_journal" in policy.hidden_fields(user, Request):
        return RequestNote.objects.none()
    return request.notes.filter(kind=kind).select_related("author")


def request_timeline(user, request: Request) -> list[dict]:
    """Everything that happened, oldest first, each item only if the reader may see it:
    comments, work notes (agents), transitions (with their notes: a rejection's reason) and
    field changes (not of hidden fields); who acted is named as ``policy.person_name`` names it
    to the reader. Empty for a reader who may not read the request."""
    if not policy.is_readable(user, request):
        return []
    hidden = policy.hidden_fields(user, Request)
    items = []
    for note in request.notes.select_related("author"):
        if note.kind == RequestNote.Kind.WORK_NOTE and "work_journal" in hidden:
            continue
        items.append({
            "at": note.created_at, "type": note.kind, "actor": policy.person_name(user, note.author, request),
            "text": note.body, "field": "", "old_value": "", "new_value": "",
        })  # fmt: skip
    for entry in audit.entries_for(user, request):
        items.append({
            "at": entry.at, "type": entry.action, "actor": entry.actor_label,
            "text": entry.transition or entry.note, "field": entry.field, "old_value": entry.old_value,
            "new_value": entry.new_value, "note": entry.note,
        })  # fmt: skip
    items.sort(key=lambda item: item["at"])
    return items


def browse(user, *, q: str = "", category: CatalogCategory | int | None = None):
    """The active items of active categories ``user`` may read, by category then name, with an
    optional search on name and description (the portal's Browse)."""
    items = policy.readable(user, CatalogItem).filter(active=True, category__active=True)
    if category is not None:
        items = items.filter(category_id=getattr(category, "pk", category))
    if q.strip():
        words = q.split()
        for word in words[:10]:
            items = items.filter(Q(name__icontains=word) | Q(description__icontains=word))
    return items.select_related("category").order_by("category__position", "category__name", "name", "pk")


def sees_hidden_answers(user) -> bool:
    """Whether ``user`` reads hidden-type form fields and their answers (the policy's
    ``read_hidden_answers``: agents)."""
    return policy.can(user, "read_hidden_answers", Request)


def answers(user, request: Request) -> dict:
    """The answers (``form_data``) this reader may see: all of them for agents; without the
    hidden-type fields' (by the form the request answered: select_related ``form_version``) for
    everyone else. Every door (API, portal, desk) shows these."""
    data = request.form_data or {}
    if sees_hidden_answers(user):
        return data
    hidden = formdef.hidden_names(request.form_snapshot)
    return {name: value for name, value in data.items() if name not in hidden}


def form_for(user, definition: list[dict] | None) -> list[dict]:
    """An item's form as this reader may see it: customers never get its hidden-type fields (nor
    their defaults)."""
    return list(definition or []) if sees_hidden_answers(user) else formdef.without_hidden(definition)


def form_rows(user, request: Request) -> list[dict]:
    """The answers the reader may see (``answers``) as the form it answered labels them (its
    snapshot), in order: ``[{"name", "label", "type", "value"}]``; answers the form no longer
    names come last."""
    rows = []
    data = answers(user, request)
    known = set()
    for field in request.form_snapshot or []:
        known.add(field.get("name"))
        if field.get("name") in data:
            value = data[field["name"]]
            if isinstance(value, bool):
                value = "Yes" if value else "No"
            rows.append({"name": field["name"], "label": field.get("label") or field["name"], "type": field.get("type", ""), "value": value})
    for name, value in data.items():
        if name not in known:
            rows.append({"name": name, "label": name, "type": "", "value": value})
    return rows


__all__ = [
    "answers", "approvals_awaiting", "approvals_for", "awaits_decision", "browse", "form_for", "form_rows",
    "has_approvals_awaiting", "my_requests", "notes_for", "request_timeline", "sees_hidden_answers", "summary",
]  # fmt: skip
