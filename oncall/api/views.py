"""``/api/v1/oncall-schedules/``: schedules, who is on call, blocks, overrides, feed links.

Views only parse input and call a selector or a service; the rules live there and in the policy.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm.api.views import JournalMixin, PolicyViewSet
from itsm.validators import is_possible_pk
from oncall import feeds, selectors, services
from oncall.api import serializers as s
from oncall.models import Override, Schedule

DEFAULT_SPAN = timedelta(days=14)


def _feed_link(request, token) -> Response:
    return Response({"feed_url": request.build_absolute_uri(feeds.feed_path(token))})


class ScheduleViewSet(JournalMixin, PolicyViewSet):
    """On-call schedules: agents read them; managing them (and their overrides) takes
    incidents.manage. Rotation rules: see ``oncall/rotation.py``."""

    queryset = Schedule.objects.all()
    serializer_class = s.ScheduleSerializer
    filterset_fields = ["rotation", "time_zone"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return selectors.with_rotation(super().get_queryset())

    def perform_destroy(self, instance):
        services.schedule_delete(schedule=instance, actor=self.request.user)

    # --- who and when --------------------------------------------------------------------

    @extend_schema(parameters=[s.WhoInput], responses=s.WhoSerializer)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def who(self, request, pk=None):
        """Who is on call at ``at`` (default now): the user, the source (rotation, override, or
        none) and the block's start and end."""
        schedule = self.get_object()
        data = s.WhoInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        at = data.validated_data.get("at") or timezone.now()
        block = selectors.who_is_on_call(schedule=schedule, at=at)
        return Response(s.WhoSerializer(SimpleNamespace(at=at, **vars(block))).data)

    @extend_schema(parameters=[s.RangeInput], responses=s.BlockSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def blocks(self, request, pk=None):
        """The blocks covering ``[start, end)`` — at most 90 days — without gaps or overlaps.
        Overrides win over the rotation; among overlapping overrides the newest wins."""
        schedule = self.get_object()
        data = s.RangeInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        start = data.validated_data.get("start") or timezone.now()
        end = data.validated_data.get("end") or start + DEFAULT_SPAN
        blocks = selectors.schedule_blocks(schedule=schedule, start=start, end=end)
        return Response(s.BlockSerializer(blocks, many=True).data)

    # --- overrides -----------------------------------------------------------------------

    @extend_schema(methods=["get"], parameters=[s.RangeInput], responses=s.OverrideSerializer(many=True))
    @extend_schema(methods=["post"], request=s.OverrideSerializer, responses={201: s.OverrideSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def overrides(self, request, pk=None):
        """The schedule's overrides, by start (``start``/``end``: only those overlapping the
        range); POST puts someone on call over the rotation (incidents.manage)."""
        schedule = self.get_object()
        if request.method == "POST":
            data = s.OverrideSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            override = services.override_create(
                schedule=schedule, actor=request.user, data=data.validated_data
            )
            return Response(s.OverrideSerializer(override).data, status=status.HTTP_201_CREATED)
        params = s.RangeInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        overrides = schedule.overrides.order_by("start", "pk")
        if "start" in params.validated_data:
            overrides = overrides.filter(end__gt=params.validated_data["start"])
        if "end" in params.validated_data:
            overrides = overrides.filter(start__lt=params.validated_data["end"])
        page = self.paginate_queryset(overrides)
        return self.get_paginated_response(s.OverrideSerializer(page, many=True).data)

    @extend_schema(request=None, responses={204: None})
    @action(
        detail=True, methods=["delete"], url_path=r"overrides/(?P<override_id>[0-9]+)", filter_backends=[]
    )
    def override(self, request, pk=None, override_id=None):
        """Remove an override (incidents.manage): the rotation applies again."""
        schedule = self.get_object()
        if not is_possible_pk(Override, override_id):
            raise Http404
        override = schedule.overrides.filter(pk=override_id).first()
        if override is None:
            raise Http404
        services.override_delete(override=override, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- calendar feeds ------------------------------------------------------------------

    @extend_schema(request=None, responses=s.FeedLinkSerializer)
    @action(detail=True, methods=["post"], url_path="feed-token/reset", filter_backends=[])
    def feed_token_reset(self, request, pk=None):
        """A new secret link for the schedule's calendar feed; the old link stops working."""
        schedule = self.get_object()
        return _feed_link(request, services.feed_reset(actor=request.user, schedule=schedule))

    @extend_schema(responses=s.FeedLinkSerializer)
    @action(detail=False, methods=["get"], url_path="my-feed", pagination_class=None, filter_backends=[])
    def my_feed(self, request):
        """The link of your own shifts' calendar feed, across every schedule."""
        return _feed_link(request, services.person_feed(user=request.user))

    @extend_schema(request=s.FeedResetInput, responses=s.FeedLinkSerializer)
    @action(
        detail=False, methods=["post"], url_path="my-feed/reset", pagination_class=None, filter_backends=[]
    )
    def my_feed_reset(self, request):
        """A new secret link for your own feed; a manager may reset someone else's (answered
        without the new link, which is that person's alone)."""
        data = s.FeedResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        person = data.validated_data.get("user") or request.user
        token = services.feed_reset(actor=request.user, person=person)
        if person.pk != request.user.pk:
            return Response({"feed_url": None})  # someone else's secret is theirs alone
        return _feed_link(request, token)
