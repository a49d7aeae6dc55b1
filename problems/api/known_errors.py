"""The known error database through the API: ``GET /api/v1/known-errors/?search=…`` and
``POST /api/v1/incidents/{id}/match-known-errors/``. Reads only, through ``problems.selectors``."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import Incident
from itsm import policy
from itsm.api.permissions import PolicyPermission
from itsm.api.schema import PolicyAutoSchema
from itsm.views.base import record_or_404
from problems import selectors
from problems.api.views import NotThereForNonReaders
from problems.models import Problem


class KnownErrorSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    number = serializers.CharField(read_only=True)
    short_description = serializers.CharField(read_only=True)
    workaround = serializers.CharField(read_only=True)
    snippet = serializers.SerializerMethodField(help_text="HTML: the text escaped, the matches in <mark>.")
    rank = serializers.FloatField(read_only=True)

    def get_snippet(self, problem) -> str:
        return selectors.snippet_of(problem, self.context.get("search", ""))


class KnownErrorMatchSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="problem.pk")
    number = serializers.CharField(source="problem.number")
    short_description = serializers.CharField(source="problem.short_description")
    workaround = serializers.CharField(source="problem.workaround")
    score = serializers.FloatField()
    reason = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


@extend_schema(
    parameters=[OpenApiParameter("search", str, description="Words the known error must all hold.")]
)
class KnownErrorViewSet(NotThereForNonReaders, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Known errors (problems with a known root cause and workaround) the reader may read; with
    ``search``, those holding every word, best first, each with a rank and a highlighted snippet."""

    permission_classes = [PolicyPermission]
    serializer_class = KnownErrorSerializer

    def get_policy_model(self):
        return Problem

    def get_queryset(self):
        return selectors.known_errors_queryset(self.request.user, self._search())

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "search": self._search()}

    def _search(self) -> str:
        return self.request.query_params.get("search", "")[:200].replace("\x00", "")


class MatchKnownErrorsView(APIView):
    """Known errors proposed for an incident (host, host group, category, words), best first."""

    permission_classes = [IsAuthenticated]
    schema = PolicyAutoSchema()  # documents the 404 of an incident the reader may not read

    @extend_schema(
        request=None,
        responses=inline_serializer("KnownErrorMatches", {"results": KnownErrorMatchSerializer(many=True)}),
    )
    def post(self, request, pk):
        if not policy.can(request.user, "read", Problem):
            raise Http404
        incident = record_or_404(request.user, Incident, pk)
        matches = selectors.match_for_incident(request.user, incident)
        return Response({"results": KnownErrorMatchSerializer(matches, many=True).data})


match_known_errors = MatchKnownErrorsView.as_view()
