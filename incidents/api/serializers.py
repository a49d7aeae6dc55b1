from incidents.models import Incident
from itsm.api.serializers import PolicySerializer


class IncidentSerializer(PolicySerializer):
    class Meta:
        model = Incident
        fields = [
            "id",
            "number",
            "short_description",
            "description",
            "state",
            "priority",
            "impact",
            "urgency",
            "classification",
            "category",
            "subcategory",
            "service",
            "assignment_group",
            "assignee",
            "requester",
            "requested_for",
            "organisation",
            "major_incident",
            "major_incident_review",
            "major_incident_manager",
            "resolution_code",
            "resolution_notes",
            "escalation_level",
            "collaborators",
            "related_incidents",
            "opened_at",
            "updated_at",
            "closed_at",
            "version",
        ]

    def system_values(self) -> dict:
        user = self._user()
        return {"requester": user, "organisation": getattr(user, "organisation", None)}
