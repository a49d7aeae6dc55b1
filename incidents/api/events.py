"""``/api/v1/events/``: monitoring services post alerts; agents read what was received.

The view only hands the body to ``incidents.alerts.event_ingest``, which checks the payload,
the named permission ``events.ingest`` and every rule; the input serializer here documents the
payload for the OpenAPI document and is not what validates it.
"""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from incidents import alert_batches, alerts
from incidents.enrichment import Severity
from incidents.models import Alert, AlertKind, AlertOutcome
from itsm.api.filters import IdFilter, UtcDateTimeFilter
from itsm.api.parsers import JSONParser
from itsm.api.serializers import PolicySerializer
from itsm.api.views import PolicyViewSetMixin


class EventInput(serializers.Serializer):
    """An alert or event from a monitoring service. Only these fields are accepted."""

    source = serializers.CharField(max_length=100, help_text="The monitoring service, e.g. prometheus.")
    kind = serializers.ChoiceField(
        choices=AlertKind.choices,
        required=False,
        allow_null=True,
        default=AlertKind.ALERT,
        help_text="alert (a metric alert) or event (null: alert); the incident's source follows it.",
    )
    rule = serializers.CharField(max_length=200, help_text="The alerting rule or check that fired.")
    host = serializers.RegexField(
        alerts.HOSTNAME.pattern,
        max_length=255,
        help_text='The host name (case-insensitive). An unknown host is created in the host group "Unassigned".',
    )
    severity = serializers.ChoiceField(choices=list(Severity.ALL))
    message = serializers.CharField(max_length=10000)
    fingerprint = serializers.CharField(
        max_length=200,
        help_text="Identifies the condition: a repeat while its incident is open is attached to it.",
    )
    event_id = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="The sender's id of this event; a post repeating it (with the same payload) is a duplicate. "
        "Empty or null: the event has no id.",
    )
    occurred_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the monitoring service saw it."
    )


class EventResultSerializer(serializers.Serializer):
    incident = serializers.IntegerField(source="incident.pk", help_text="The incident's id.")
    number = serializers.CharField(source="incident.number", help_text="The incident's number.")
    alert = serializers.IntegerField(source="alert.pk", help_text="The stored alert's id.")
    outcome = serializers.ChoiceField(
        choices=[*AlertOutcome.values, alerts.DUPLICATE],
        help_text="created: a new incident; attached: added to the open incident of its fingerprint; "
        "storm: created or joined a cross-host storm incident; duplicate: this event was received before.",
    )
    duplicate = serializers.BooleanField(
        help_text="True when the event was received before (nothing changed)."
    )


# A single post answers one result; a list answers a list of them.
RESULT_OR_RESULTS = PolymorphicProxySerializer(
    component_name="EventResultOrBatch",
    serializers=[EventResultSerializer, EventResultSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


class AlertSerializer(PolicySerializer):
    class Meta:
        model = Alert
        fields = [
            "id", "source", "kind", "rule", "host", "severity", "message", "fingerprint", "event_id",
            "occurred_at", "received_at", "incident", "outcome", "posted_by",
        ]  # fmt: skip


class AlertFilter(filters.FilterSet):
    incident = IdFilter(field_name="incident_id")
    host = IdFilter(field_name="host_id")
    received_at__gte = UtcDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_at__lte = UtcDateTimeFilter(field_name="received_at", lookup_expr="lte")

    class Meta:
        model = Alert
        fields = {
            "source": ["exact"],
            "rule": ["exact"],
            "fingerprint": ["exact"],
            "severity": ["exact", "in"],
            "kind": ["exact"],
            "outcome": ["exact"],
        }


class EventViewSet(
    PolicyViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Monitoring alerts. ``POST`` needs the ``events.ingest`` permission (monitoring service
    accounts); agents read every alert received, newest first."""

    queryset = Alert.objects.all()
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    parser_classes = [JSONParser]
    search_fields = ["rule", "fingerprint", "message"]
    ordering_fields = ["received_at", "severity"]
    ordering = ["-received_at", "-id"]
    throttle_scope = "events"  # its own API rate (API_RATE_EVENTS): storms are bursts by design

    def get_permissions(self):
        if self.action == "create":
            return [IsAuthenticated()]  # event_ingest checks events.ingest (403 without it)
        return super().get_permissions()

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="EventOrBatch",
            serializers=[EventInput, EventInput(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: OpenApiResponse(
                RESULT_OR_RESULTS,
                description="Received: created, attached or storm. For a list, one result per event in "
                "its order (201 when at least one was new).",
            ),
            200: OpenApiResponse(
                RESULT_OR_RESULTS,
                description="Received before: the first result again (for a list: every event was).",
            ),
        },
        examples=[
            OpenApiExample(
                "A disk alert",
                request_only=True,
                value={
                    "source": "prometheus",
                    "rule": "DiskFull",
                    "host": "web01",
                    "severity": "major",
                    "message": "/var is 97% full",
                    "fingerprint": "diskfull-web01-var",
                },
            ),
            OpenApiExample(
                "A batch",
                request_only=True,
                value=[
                    {
                        "source": "prometheus",
                        "rule": "HighLoad",
                        "host": "web01",
                        "severity": "minor",
                        "message": "load 12",
                        "fingerprint": "highload-web01",
                        "event_id": "a1",
                    },
                    {
                        "source": "prometheus",
                        "rule": "HighLoad",
                        "host": "web02",
                        "severity": "minor",
                        "message": "load 14",
                        "fingerprint": "highload-web02",
                        "event_id": "a2",
                    },
                ],
            ),
        ],
    )
    def create(self, request, *args, **kwargs):
        """Post an alert: it creates an incident, is attached to the open incident of its
        fingerprint, or gathers with the same rule on other hosts into one storm incident.

        Or post a list of up to 500 alerts: each gets the result it would get posted on its own,
        in order, in one transaction. All or nothing: a bad alert is a 400 naming
        ``[index].field`` and none is received."""
        if isinstance(request.data, list):
            results = alert_batches.events_ingest(actor=request.user, payloads=request.data)
            new = any(not r.duplicate for r in results)
            data = EventResultSerializer(results, many=True).data
            return Response(data, status=status.HTTP_201_CREATED if new else status.HTTP_200_OK)
        result = alerts.event_ingest(actor=request.user, payload=request.data)
        code = status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED
        data = EventResultSerializer(result).data
        return Response(data, status=code)
