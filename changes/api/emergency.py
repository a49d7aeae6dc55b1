"""``POST /api/v1/incidents/{id}/emergency-change/``: raise an emergency change for an incident
(``changes.services.change_from_incident``: created approved, linked both ways, PIR due in 72
hours, CAB told). Mounted by ``config/api.py``; the incident app knows nothing of it."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from changes import services
from changes.api.records import ChangeSerializer
from changes.models import Change
from incidents.models import Incident
from itsm import policy
from itsm.api.schema import PolicyAutoSchema
from itsm.api.serializers import PolicySerializer
from itsm.views.base import record_or_404


class EmergencyChangeInput(PolicySerializer):
    """What the emergency change says; anything left out comes from the incident (its short
    description, description and hosts)."""

    class Meta:
        model = Change
        fields = [
            "short_description", "description", "justification", "implementation_plan", "backout_plan",
            "test_plan", "planned_start", "planned_end", "hosts", "host_groups", "assignment_group",
            "assignee",
        ]  # fmt: skip
        extra_kwargs = {name: {"required": False} for name in fields}

    def _schema_only(self) -> bool:
        # The schema generator makes a plain view's request body with a mock, anonymous request:
        # document every field. A real request is signed in (the view requires it), and its
        # user's policy applies.
        return super()._schema_only() or not self._user().is_authenticated


class EmergencyChangeView(APIView):
    """Raise an emergency change for the incident (incidents.manage on an incident you may read)."""

    permission_classes = [IsAuthenticated]
    schema = PolicyAutoSchema()  # documents the 404 of an incident the reader may not read

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="The incident's id."
            )
        ],
        request=EmergencyChangeInput,
        responses={201: ChangeSerializer},
    )
    def post(self, request, pk):
        if not policy.can(request.user, "read", Change):
            raise Http404  # self-service users learn nothing of changes
        incident = record_or_404(request.user, Incident, pk)
        context = {"request": request, "view": self}
        data = EmergencyChangeInput(data=request.data, context=context)
        data.is_valid(raise_exception=True)
        change = services.change_from_incident(incident=incident, actor=request.user, data=data.validated_data)
        body = ChangeSerializer(change, context={**context, "with_conflicts": True}).data
        return Response(body, status=status.HTTP_201_CREATED)


emergency_change = EmergencyChangeView.as_view()
