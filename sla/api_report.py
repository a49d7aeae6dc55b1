"""``GET /api/v1/sla-compliance/``: the SLA compliance report (``sla.report``) for scripts and
dashboards. The numbers come from ``sla.report.compliance``; this is only the door."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from itsm import policy
from itsm.api.schema import PolicyAutoSchema
from itsm.errors import NotAllowed
from itsm.models import Priority
from sla import report
from sla.models import ClockTarget


class CountsSerializer(serializers.Serializer):
    measured = serializers.IntegerField(help_text="Clocks that stopped in the range.")
    met = serializers.IntegerField(help_text="Of those, stopped within their target.")
    breached = serializers.IntegerField(help_text="Of those, stopped past their target.")
    met_percent = serializers.FloatField(
        allow_null=True, help_text="met / measured × 100, one decimal; null when nothing was measured."
    )


class PeriodCountsSerializer(CountsSerializer):
    period = serializers.DateField(help_text="The first day of the period, in the report's time zone.")


class PriorityCountsSerializer(CountsSerializer):
    priority = serializers.CharField()


class TargetCountsSerializer(CountsSerializer):
    target = serializers.ChoiceField(choices=ClockTarget.choices)
    label = serializers.CharField()


class NamedCountsSerializer(CountsSerializer):
    id = serializers.IntegerField(allow_null=True, help_text="Null: work without one.")
    name = serializers.CharField()


class FiltersSerializer(serializers.Serializer):
    priority = serializers.CharField(allow_null=True)
    assignment_group = serializers.IntegerField(allow_null=True)
    organisation = serializers.IntegerField(allow_null=True)
    target = serializers.CharField(allow_null=True)


class ComplianceSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Start of the range (included).")
    end = serializers.DateTimeField(help_text="End of the range (excluded).")
    period = serializers.ChoiceField(choices=list(report.PERIODS))
    time_zone = serializers.CharField(help_text="The zone periods are cut in (the installation's).")
    filters = FiltersSerializer()
    overall = CountsSerializer()
    by_period = PeriodCountsSerializer(many=True, help_text="Every period of the range, empty ones too.")
    by_priority = PriorityCountsSerializer(many=True)
    by_assignment_group = NamedCountsSerializer(many=True)
    by_organisation = NamedCountsSerializer(many=True)
    by_target = TargetCountsSerializer(many=True)


def _param(name, description, type_=OpenApiTypes.STR, enum=None):
    return OpenApiParameter(
        name, type_, OpenApiParameter.QUERY, required=False, description=description, enum=enum
    )


PARAMETERS = [
    _param(
        "start",
        "Start of the range: an ISO date (midnight in the installation's time zone) or date and time. "
        "Default: the Monday 11 weeks before this week's.",
    ),
    _param(
        "end",
        "End of the range (excluded): an ISO date includes that whole day; or a date and time. "
        "Default: the end of today. At most 366 days after the start.",
    ),
    _param("period", "How the chart's buckets are cut (default week).", enum=list(report.PERIODS)),
    _param("priority", "Only clocks of this priority.", enum=Priority.values),
    _param("assignment_group", "Only work assigned to this group (its id).", OpenApiTypes.INT),
    _param("organisation", "Only work of this organisation (its id).", OpenApiTypes.INT),
    _param("target", "Only response or only resolution clocks.", enum=ClockTarget.values),
]


class ComplianceView(APIView):
    """SLA compliance: of the SLA clocks that stopped in the range (first response, resolution),
    how many met their target — overall and by period, priority, assignment group, organisation
    and target. Cancelled clocks are not measured; each cycle of a reopened incident is. For the
    service desk (``sla.report``)."""

    permission_classes = [IsAuthenticated]
    schema = PolicyAutoSchema()

    @extend_schema(operation_id="sla_compliance", parameters=PARAMETERS, responses=ComplianceSerializer)
    def get(self, request):
        if not policy.has_permission(request.user, "sla.report"):
            raise NotAllowed("The SLA compliance report is for the service desk.")
        data = report.compliance(**report.params_from(request.query_params), user=request.user)
        return Response(ComplianceSerializer(data).data)
