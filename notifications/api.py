"""``/api/v1/notifications/``: your own in-app notifications (SLA warnings and breaches,
escalations), newest first; mark one or all read.

Each person reads only its own (the policy's read rule is "recipient is you"): anyone else's is
404, as if it did not exist.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm import policy
from itsm.api.filters import PolicyFilterSet
from itsm.api.serializers import PolicySerializer
from itsm.api.views import PolicyViewSetMixin
from itsm.errors import NotAllowed
from notifications.models import Notification

# --- Marking read (the only change anyone makes to a notification) ----------------------------


def notification_mark_read(*, notification: Notification, actor, at: datetime | None = None) -> Notification:
    """Mark one of your notifications read (again is a no-op: the first time is kept)."""
    if not policy.can(actor, "update", notification):
        raise NotAllowed("You may only mark your own notifications read.")
    if notification.read_at is None:
        at = at or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=at)
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, actor, at: datetime | None = None) -> int:
    """Mark every unread notification of yours read; answers how many were unread."""
    if not policy.can(actor, "update", Notification):
        raise NotAllowed("You may only mark your own notifications read.")
    unread = policy.readable(actor, Notification).filter(read_at__isnull=True)
    return unread.update(read_at=at or timezone.now())


# --- The door ---------------------------------------------------------------------------------


class NotificationSerializer(PolicySerializer):
    work_number = serializers.CharField(
        source="work.number", read_only=True, allow_null=True, default=None, help_text="INC0000001…"
    )

    class Meta:
        model = Notification
        fields = ["id", "kind", "work", "work_number", "subject", "body", "created_at", "read_at"]


class NotificationFilter(PolicyFilterSet):
    unread = filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="Unread only")

    class Meta:
        model = Notification
        fields = {"kind": ["exact"], "work": ["exact"], "created_at": ["gte", "lte"]}


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread.")


class NotificationViewSet(
    PolicyViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your notifications, newest first (``?unread=true`` for the unread ones)."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    select_related = ("work",)
    search_fields = ["subject"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def read(self, request, pk=None):
        """Mark this notification read."""
        notification = notification_mark_read(notification=self.get_object(), actor=request.user)
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all", filter_backends=[], pagination_class=None)
    def read_all(self, request):
        """Mark all your notifications read."""
        return Response({"marked": notifications_mark_all_read(actor=request.user)})
