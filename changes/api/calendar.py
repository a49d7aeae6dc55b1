"""``/api/v1/change-calendar/``: changes (planned windows), maintenance windows and freezes
between two moments, and the link of one's own iCalendar feed of them.

Reads only, through ``changes.schedule.calendar`` (which refuses a range over 366 days) and
``changes.feeds``. Self-service users read no change: every URL here answers them 404.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from changes import feeds, schedule
from changes.api.views import NotThereForNonReaders, NotThereSchema
from changes.models import Change
from itsm.validators import validate_date

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@extend_schema_field(OpenApiTypes.STR)
class MomentField(serializers.DateTimeField):
    """An ISO 8601 date (midnight UTC) or date and time (without an offset: UTC)."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 date (2026-03-01) or date and time (2026-03-01T08:00:00Z)."
    }

    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, validators=[validate_date], **kwargs)

    def to_internal_value(self, value):
        if isinstance(value, str) and DATE_ONLY.match(value.strip()):
            try:
                day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
            except ValueError:
                self.fail("invalid")
            return datetime.combine(day, time(0), tzinfo=UTC)
        moment = super().to_internal_value(value)
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError):
            self.fail("invalid")


class CalendarQuery(serializers.Serializer):
    start = MomentField(help_text="From (included): a date (midnight UTC) or a date and time.")
    end = MomentField(
        help_text="To (excluded): a date (midnight UTC) or a date and time; at most 366 days after start."
    )


class CalendarEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["change", "maintenance", "freeze"], help_text="change, maintenance or freeze."
    )
    id = serializers.IntegerField()
    title = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    colour = serializers.CharField(help_text="blue (changes), green (maintenance) or red (freezes).")
    label = serializers.CharField(help_text="What the entry is, in words (colour is not the only cue).")
    number = serializers.CharField(required=False, help_text="Changes only: the change's number.")
    state = serializers.CharField(required=False, help_text="Changes only.")
    change_type = serializers.CharField(required=False, help_text="Changes only.")
    risk_level = serializers.CharField(required=False, allow_blank=True, help_text="Changes only.")


class CalendarSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    results = CalendarEntrySerializer(many=True)


class ChangeFeedLinkSerializer(serializers.Serializer):
    feed_url = serializers.CharField(help_text="Your change calendar as an iCalendar feed (a secret link).")


class CalendarSchema(NotThereSchema):
    """One object (the range and its entries), not a list; 404 for self-service users."""

    def _is_list_view(self, serializer=None):
        return False


def _feed_link(request, token) -> Response:
    return Response({"feed_url": request.build_absolute_uri(feeds.feed_path(token))})


class ChangeCalendarViewSet(NotThereForNonReaders, viewsets.GenericViewSet):
    """The change calendar: what is planned between ``start`` and ``end``, in start order."""

    schema = CalendarSchema()
    pagination_class = None
    filter_backends = []
    serializer_class = CalendarSerializer

    def get_policy_model(self):
        return Change

    def get_queryset(self):
        return Change.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.STR, required=True, description=CalendarQuery().fields["start"].help_text),
            OpenApiParameter("end", OpenApiTypes.STR, required=True, description=CalendarQuery().fields["end"].help_text),
        ],
        responses=CalendarSerializer,
    )
    def list(self, request):
        query = CalendarQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = query.validated_data["start"], query.validated_data["end"]
        entries = schedule.calendar(start, end, user=request.user)
        return Response(CalendarSerializer({"start": start, "end": end, "results": entries}).data)

    @extend_schema(responses=ChangeFeedLinkSerializer)
    @action(detail=False, methods=["get"], url_path="feed")
    def feed(self, request):
        """The link of your change calendar's iCalendar feed (made on first use)."""
        return _feed_link(request, feeds.feed_token(user=request.user))

    @extend_schema(request=None, responses=ChangeFeedLinkSerializer)
    @action(detail=False, methods=["post"], url_path="feed/reset")
    def feed_reset(self, request):
        """A new secret link for your feed; the old link stops working at once."""
        return _feed_link(request, feeds.feed_reset(actor=request.user))

