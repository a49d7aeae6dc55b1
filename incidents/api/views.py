from django_filters import rest_framework as filters

from incidents.api.serializers import IncidentSerializer
from incidents.models import Incident
from itsm.api.views import JournalMixin, PolicyViewSet


class IncidentFilter(filters.FilterSet):
    class Meta:
        model = Incident
        fields = {
            "state": ["exact", "in"],
            "priority": ["exact", "in"],
            "impact": ["exact"],
            "urgency": ["exact"],
            "assignment_group": ["exact"],
            "assignee": ["exact"],
            "requester": ["exact"],
            "requested_for": ["exact"],
            "major_incident": ["exact"],
            "opened_at": ["gte", "lte"],
        }


class IncidentViewSet(JournalMixin, PolicyViewSet):
    """Incidents. Customers see their own (as requester or requested-for), without the fields
    SPEC §4 hides from them; agents see all."""

    queryset = Incident.objects.all()
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    select_related = ("assignee", "assignment_group", "requester", "requested_for", "organisation")
    prefetch_related = ("collaborators", "related_incidents")
    search_fields = ["number", "short_description", "description", "resolution_notes", "service"]
    ordering_fields = ["number", "opened_at", "updated_at", "priority", "state", "impact", "urgency"]
    ordering = ["-opened_at", "-id"]
