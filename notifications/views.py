"""The desk's notification page (/desk/notifications/): a person's own in-app notifications,
newest first, with "Mark read" for one and "Mark all read"; plain forms, no JavaScript.

Reading and marking go through the policy: each person reads only its own notifications and
may set only their ``read_at``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from itsm import policy
from itsm.pagination import paginate
from itsm.validators import is_possible_pk
from itsm.views.base import DeskMixin
from notifications import services
from notifications.context import unread
from notifications.models import Notification

PAGE_SIZE = 25


def own_notifications(user) -> QuerySet:
    return policy.readable(user, Notification)


def _back(request):
    """Back to the page the form was on (only a page of this list), else the list."""
    page = request.POST.get("page", "")
    url = reverse("desk:notifications")
    return redirect(f"{url}?page={page}" if page.isdigit() else url)


def _desk_link(kind: str, pk: int, paths: dict) -> str | None:
    """The record's desk page, as its kind's lifecycle names it; None for a kind without one."""
    return services.page_link(kind, pk, desk=True, paths=paths) or None


class NotificationListView(DeskMixin, TemplateView):
    template_name = "notifications/desk/list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        queryset = own_notifications(user).select_related("work").order_by("-created_at", "-id")
        page = paginate(self.request, queryset, PAGE_SIZE)  # counted up to 1,000, then cursors
        rows = []
        paths: dict = {}  # each kind's desk page, reversed once
        for notification in page.object_list:
            work = notification.work
            link = _desk_link(work.kind, work.pk, paths) if work is not None else None
            listed = [
                {
                    "subject": item.get("subject", ""),
                    # Items stored before they carried their kind are incidents'.
                    "link": _desk_link(item.get("kind", "incident"), item["work"], paths)
                    if isinstance(item.get("work"), int)
                    else None,
                }
                for item in notification.items or ()
                if isinstance(item, dict)
            ]
            rows.append(
                {
                    "notification": notification,
                    "link": link,
                    "listed": listed,
                    "unread": notification.read_at is None,
                }
            )
        context.update(page=page, rows=rows)
        return context


class MarkReadView(DeskMixin, View):
    """POST: mark one of one's own notifications read (another person's is not found)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        if not is_possible_pk(Notification, pk):
            raise Http404("No such notification.")
        mine = own_notifications(request.user).filter(pk=pk)
        if not mine.exists():
            raise Http404("No such notification.")
        services.mark_read(actor=request.user, notifications=mine)
        return _back(request)


class MarkAllReadView(DeskMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        done = services.mark_read(actor=request.user)
        if done:
            messages.success(request, f"Marked {done} notification{'s' if done != 1 else ''} read.")
        else:
            messages.info(request, "You have no unread notifications.")
        return _back(request)


class UnreadBadgeView(LoginRequiredMixin, View):
    """GET: the navigation's unread count alone (the badge's markup, or nothing), which desk
    pages re-fetch every so often. The same count as the page's: one's own unread notifications,
    counted only for desk users."""

    http_method_names = ["get"]

    def get(self, request):
        # No request context: the page chrome's other context processors are not needed here.
        response = HttpResponse(render_to_string("itsm/includes/unread_badge.html", unread(request)))
        response["Cache-Control"] = "no-store"
        return response
