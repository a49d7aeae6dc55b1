"""``/api/v1/business-calendars/`` and ``/api/v1/holidays/``: when SLA clocks run.

ITSM administrators (itsm.configure) write them; agents read them to explain due times.
"""

from __future__ import annotations

from django.db.models import Prefetch

from itsm.api.views import JournalMixin, PolicyViewSet
from sla.api import serializers as s
from sla.models import BusinessCalendar, Holiday, WorkingPeriod


class BusinessCalendarViewSet(JournalMixin, PolicyViewSet):
    """Business calendars: 24×7, or weekly working periods in a time zone; minus holidays
    (``/api/v1/holidays/?calendar=``). ``periods`` is written whole."""

    queryset = BusinessCalendar.objects.all()
    serializer_class = s.BusinessCalendarSerializer
    prefetch_related = (Prefetch("periods", queryset=WorkingPeriod.objects.order_by("weekday", "start")),)
    filterset_fields = ["always_open", "time_zone"]
    search_fields = ["name", "description"]
    ordering_fields = ["name"]
    ordering = ["name", "id"]


class HolidayViewSet(JournalMixin, PolicyViewSet):
    """Holidays of the business calendars: one-off, or ``recurring`` every year on the same
    month and day. Listed by date."""

    queryset = Holiday.objects.all()
    serializer_class = s.HolidaySerializer
    filterset_fields = ["calendar", "recurring", "date"]
    search_fields = ["name"]
    ordering_fields = ["date", "name"]
    ordering = ["date", "id"]
