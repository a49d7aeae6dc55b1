"""Business calendars, holidays and SLA clock explanations as the API shows them.

Input is only parsed here; ``sla/api/services.py`` and the policy rule on it.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from rest_framework import serializers

from itsm.api.serializers import (
    NestedPolicySerializer,
    PolicySerializer,
    WallClockTimeField,
    WholeItemSerializer,
)
from sla.api import services as calendars
from sla.models import (
    BusinessCalendar,
    ClockEvent,
    ClockState,
    ClockTarget,
    Holiday,
    SlaStatus,
    WorkingPeriod,
)


class SlaStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=SlaStatus.choices, allow_blank=True, **kwargs)


class WorkingPeriodSerializer(WholeItemSerializer):
    start = WallClockTimeField(help_text="Local time on the calendar's clock, e.g. 09:00.")
    end = WallClockTimeField(help_text="Local time; 00:00 means midnight at the end of the day.")

    class Meta:
        model = WorkingPeriod
        fields = ["weekday", "start", "end"]


class BusinessCalendarSerializer(NestedPolicySerializer):
    NESTED = ("periods",)

    periods = WorkingPeriodSerializer(
        many=True,
        required=False,
        max_length=calendars.MAX_PERIODS,
        help_text="The weekly working periods (weekday 0 = Monday). Written whole: what you send "
        "replaces every period. Not used by a 24×7 calendar.",
    )
    hours_summary = serializers.SerializerMethodField(help_text="The working hours in one line.")

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "description", "time_zone", "always_open", "periods", "hours_summary"]

    def get_hours_summary(self, calendar) -> str:
        return calendar.hours_summary()

    def create(self, validated_data):
        data, nested = self.split(validated_data)
        return calendars.calendar_create(actor=self._user(), data=data, periods=nested.get("periods"))

    def update(self, instance, validated_data):
        data, nested = self.split(validated_data)
        return calendars.calendar_update(
            calendar=instance, actor=self._user(), data=data, periods=nested.get("periods")
        )


class HolidaySerializer(PolicySerializer):
    class Meta:
        model = Holiday
        fields = ["id", "calendar", "name", "date", "recurring"]
        validators = []  # one holiday per calendar and day: checked below, naming the date

    def validate(self, attrs):
        calendar = attrs.get("calendar", getattr(self.instance, "calendar", None))
        day = attrs.get("date", getattr(self.instance, "date", None))
        if calendar is not None and day is not None:
            same = Holiday.objects.filter(calendar=calendar, date=day)
            if self.instance is not None:
                same = same.exclude(pk=self.instance.pk)
            if (other := same.first()) is not None:
                raise serializers.ValidationError(
                    {"date": [f"{calendar} already has {other.name} on {day}."]}
                )
        return attrs

    def _saving(self, write, *args):
        try:
            with transaction.atomic():
                return write(*args)
        except IntegrityError:  # the same day was added meanwhile
            raise serializers.ValidationError(
                {"date": ["The calendar already has a holiday on this day."]}
            ) from None

    def create(self, validated_data):
        return self._saving(super().create, validated_data)

    def update(self, instance, validated_data):
        return self._saving(super().update, instance, validated_data)


# --- Explaining clocks (GET /api/v1/incidents/{id}/sla/) --------------------------------------


class ClockCalendarSerializer(serializers.Serializer):
    name = serializers.CharField(allow_null=True, help_text="Null: no calendar, 24×7 in UTC.")
    hours_summary = serializers.CharField()
    time_zone = serializers.CharField()


class ClockHolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(allow_blank=True)


class ClockPauseSerializer(serializers.Serializer):
    paused_at = serializers.DateTimeField()
    resumed_at = serializers.DateTimeField(
        allow_null=True, help_text="Null while still paused, or when the clock stopped while paused."
    )
    reason = serializers.CharField(allow_blank=True)


class ClockEventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ClockEvent.choices)
    at = serializers.DateTimeField()
    elapsed = serializers.IntegerField(help_text="Business seconds used by then.")
    note = serializers.CharField(allow_blank=True)


class ClockExplanationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    target = serializers.ChoiceField(choices=ClockTarget.choices)
    priority = serializers.CharField()
    state = serializers.ChoiceField(choices=ClockState.choices)
    status = SlaStatusField(help_text="Empty for a cancelled clock.")
    is_current = serializers.BooleanField(help_text="False: retired when the incident was reopened.")
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True, help_text="Set while the clock runs.")
    warn_at = serializers.DateTimeField(allow_null=True, help_text="When 75 % of the target is used.")
    breached_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    elapsed = serializers.IntegerField(help_text="Business seconds used so far.")
    target_duration = serializers.IntegerField(help_text="The target, in business seconds.")
    remaining = serializers.IntegerField(help_text="Business seconds left (0 once used up).")
    definition = serializers.CharField(allow_null=True, help_text="The SLA definition's name.")
    calendar = ClockCalendarSerializer()
    holidays = ClockHolidaySerializer(many=True, help_text="Holidays from the start to the due time.")
    pauses = ClockPauseSerializer(many=True)
    events = ClockEventSerializer(many=True)
    summary = serializers.CharField(help_text="The explanation in one sentence.")


class IncidentSlaSerializer(serializers.Serializer):
    sla_status = SlaStatusField(help_text="The worst status of the current clocks.")
    sla_due_at = serializers.DateTimeField(allow_null=True)
    clocks = ClockExplanationSerializer(many=True)


class IncidentSlaInput(serializers.Serializer):
    history = serializers.BooleanField(
        required=False, default=False, help_text="Also the clocks a reopen retired."
    )
