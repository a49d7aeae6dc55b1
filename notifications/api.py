"""``/api/v1/notifications/``: your own in-app notifications (SLA warnings and breaches,
escalations), newest first; mark one or all read.

Each person reads only its own (the policy's read rule is "recipient is you"): anyone else's is
404, as if it did not exist.
"""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.api.filters import PolicyFilterSet
from itsm.api.serializers import PolicySerializer
from itsm.api.views import PolicyViewSetMixin
from notifications import services
from notifications.models import Notification

# --- The door ---------------------------------------------------------------------------------


class NotificationSerializer(PolicySerializer):
    work_number = serializers.CharField(
        source="work.number", read_only=True, allow_null=True, default=None, help_text="INC0000001…"
    )

    class Meta:
        model = Notification
        fields = ["id", "kind", "work", "work_number", "subject", "body", "items", "created_at", "read_at"]


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
        notification = self.get_object()
        services.mark_read(actor=request.user, notifications=Notification.objects.filter(pk=notification.pk))
        notification.refresh_from_db(fields=["read_at"])
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all", filter_backends=[], pagination_class=None)
    def read_all(self, request):
        """Mark all your notifications read."""
        return Response({"marked": services.mark_read(actor=request.user)})
