"""The desk's saved-view forms: save the queue as it is as a view, and rename, update or delete
one's own. Plain form posts (they work without JavaScript); the writes are ``itsm.saved_views``'."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.views import View

from itsm import queues, saved_views
from itsm.errors import ItsmError, NotFound
from itsm.views.base import DeskMixin
from itsm.views.queue import page_size_of


def _layout(query: QueryDict) -> dict:
    """The layout a queue URL carries besides its filters: sort, columns and page size."""
    return {
        "sort": query.get("sort", ""),
        "columns": query.getlist("columns"),
        "page_size": page_size_of(query.get("page_size")),
    }


def _filters_only(queue: queues.Queue, user, query: QueryDict) -> str:
    """The queue's filters of ``query`` (other parameters are the page's, not the view's)."""
    kept = query.copy()
    for name in saved_views.NOT_FILTERS:
        kept.pop(name, None)
    cleaned, _ = saved_views.clean_query(queue, user, kept.urlencode())
    return cleaned


def _group(value: str):
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _refused(request, exc: ItsmError) -> None:
    details = "; ".join(
        f"{name.replace('_', ' ')}: {' '.join(problems)}" for name, problems in exc.fields.items()
    )
    messages.error(request, f"{exc.message} {details}".strip())


class SavedViewCreateView(DeskMixin, View):
    """Save the queue's current filters, columns, sort and page size under a name."""

    def post(self, request):
        queue = queues.get(request.POST.get("kind", ""))
        if queue is None:
            raise Http404("No such queue.")
        query = QueryDict(request.POST.get("query", "")[:4000])
        back = f"{queue.url}?{query.urlencode()}" if query else queue.url
        columns = query.getlist("columns")
        try:
            view = saved_views.saved_view_create(
                actor=request.user,
                kind=queue.kind,
                name=request.POST.get("name", ""),
                query=_filters_only(queue, request.user, query),
                columns=[
                    c for c in columns if c in {name for name, _, _ in queue.readable_columns(request.user)}
                ],
                sort=query.get("sort", "")
                if query.get("sort", "").lstrip("-") in queue.filterset.SORTS
                else "",
                page_size=_layout(query)["page_size"],
                shared_with=_group(request.POST.get("shared_with", "")),
            )
        except ItsmError as exc:
            _refused(request, exc)
            return redirect(back)
        shared = f", shared with {view.shared_with}" if view.shared_with_id else ""
        messages.success(request, f"Saved the view “{view.name}”{shared}.")
        return redirect(f"{queue.url}?view={view.pk}")


class SavedViewChangeView(DeskMixin, View):
    """Rename one's own view, save the current filters into it, or delete it."""

    def post(self, request, pk):
        try:
            view = saved_views.view_for(request.user, pk)
        except NotFound:
            raise Http404("No such saved view.") from None
        queue = queues.get(view.kind)
        if queue is None:
            raise Http404("No such queue.")
        action = request.POST.get("action")
        try:
            if action == "delete":
                saved_views.saved_view_delete(view=view, actor=request.user)
                messages.success(request, f"Deleted the view “{view.name}”.")
                return redirect(queue.url)
            if action == "rename":
                saved_views.saved_view_update(
                    view=view, actor=request.user, changes={"name": request.POST.get("name", "")}
                )
                messages.success(request, f"Renamed the view to “{view.name}”.")
            elif action == "update":
                query = QueryDict(request.POST.get("query", "")[:4000])
                layout = _layout(query)
                changes = {
                    "query": _filters_only(queue, request.user, query),
                    "page_size": layout["page_size"],
                }
                if layout["sort"].lstrip("-") in queue.filterset.SORTS:
                    changes["sort"] = layout["sort"]
                if layout["columns"]:
                    readable = {name for name, _, _ in queue.readable_columns(request.user)}
                    changes["columns"] = [c for c in layout["columns"] if c in readable]
                saved_views.saved_view_update(view=view, actor=request.user, changes=changes)
                messages.success(request, f"Saved the current filters into “{view.name}”.")
            else:
                messages.error(request, "Choose rename, update or delete.")
        except NotFound:
            raise Http404("No such saved view.") from None
        except ItsmError as exc:
            _refused(request, exc)
        return redirect(f"{queue.url}?view={view.pk}")
