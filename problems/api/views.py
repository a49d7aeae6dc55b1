"""The problems API: the record, its transitions, linked incidents, notes, tasks and timeline.

Views only parse input and call a workflow or service; every rule lives there or in the policy.
Self-service users read no problem, so every problem URL answers them 404.
"""

from django.db.models import Prefetch
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from changes.models import Change
from incidents.models import Incident
from itsm import policy
from itsm.api.actions import ActionsViewSetMixin
from itsm.api.bulk import BulkResultSerializer
from itsm.api.bulk import answer as bulk_answer
from itsm.api.filters import PolicyFilterSet
from itsm.api.schema import PolicyAutoSchema
from itsm.api.tasks import TaskViewSet, tasks_of
from itsm.api.views import JournalMixin, PolicyViewSet
from itsm.validators import is_possible_pk
from problems import services
from problems.actions import ACTIONS
from problems.api import serializers as s
from problems.models import Problem, ProblemNote, ProblemTask
from problems.timeline import problem_timeline


class NotThereSchema(PolicyAutoSchema):
    """Every operation may answer 404 (``NotThereForNonReaders``)."""

    def _error_codes(self) -> list[str]:
        return sorted({*super()._error_codes(), "404"})


class NotThereForNonReaders:
    """A signed-in user who reads no record of the model (a self-service user) is answered 404 on
    every URL, the list too: problems are the desk's business and their existence is not theirs
    to learn (issue 13). Anonymous requests still get 401."""

    schema = NotThereSchema()

    def check_permissions(self, request):
        user = request.user
        if user and user.is_authenticated and not policy.can(user, "read", self.get_policy_model()):
            raise Http404
        super().check_permissions(request)


class ProblemFilter(PolicyFilterSet):
    mine = filters.BooleanFilter(field_name="assignee", method="filter_mine", label="Assigned to me")
    unassigned = filters.BooleanFilter(field_name="assignee", lookup_expr="isnull", label="Unassigned")

    class Meta:
        model = Problem
        fields = {
            "state": ["exact", "in"],
            "priority": ["exact", "in"],
            "impact": ["exact"],
            "urgency": ["exact"],
            "assignee": ["exact"],
            "assignment_group": ["exact"],
            "is_known_error": ["exact"],
            "category": ["exact"],
            "opened_at": ["gte", "lte"],
        }

    def filter_mine(self, queryset, name, value):
        return queryset.filter(assignee=self.request.user) if value else queryset


class ProblemViewSet(NotThereForNonReaders, ActionsViewSetMixin, JournalMixin, PolicyViewSet):
    """Problems (agents). Transitions are actions on the record, made from the problem's action
    table (``problems.actions``); incidents are linked with ``link-incidents/``."""

    action_table = ACTIONS

    queryset = Problem.objects.all()
    serializer_class = s.ProblemSerializer
    filterset_class = ProblemFilter
    # The serializer shows related records as ids (read from the row): no joins to plan, which
    # cost the queue's first page more than running it (10 ms of planning for five joins).
    select_related = ()
    # Linked incidents and changes are shown as ids: their rows are not read (a page of 25
    # problems links a couple of hundred incidents).
    prefetch_related = (
        "hosts", "host_groups", Prefetch("incidents", Incident.objects.only("pk")),
        Prefetch("changes", Change.objects.only("pk", "problem")),
    )  # fmt: skip
    search_fields = ["number", "short_description", "description", "symptoms", "root_cause", "workaround"]
    ordering_fields = [
        "number", "opened_at", "updated_at", "priority", "state", "impact", "urgency", "incident_count",
        "affected_host_count",
    ]  # fmt: skip
    ordering = ["-opened_at", "-id"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "action", None) in ("notes", "note", "tasks", "timeline", "journal"):
            return queryset.select_related(None).prefetch_related(None)
        return queryset

    # --- linked incidents ----------------------------------------------------------------

    def _link(self, request, service):
        problem = self.get_object()
        data = s.IncidentIdsInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            service(problem=problem, actor=request.user, incidents=data.validated_data["incidents"])
        )

    @extend_schema(request=s.IncidentIdsInput, responses=s.LinkResultSerializer)
    @action(
        detail=True, methods=["post"], url_path="link-incidents", filter_backends=[], pagination_class=None
    )
    def link_incidents(self, request, pk=None):
        """Link up to 100 incidents; unknown or unreadable ids are reported in ``unknown``."""
        return self._link(request, services.problem_link_incidents)

    @extend_schema(request=s.IncidentIdsInput, responses=s.LinkResultSerializer)
    @action(
        detail=True, methods=["post"], url_path="unlink-incidents", filter_backends=[], pagination_class=None
    )
    def unlink_incidents(self, request, pk=None):
        """Unlink up to 100 incidents; ids that were not linked are reported in ``not_linked``."""
        return self._link(request, services.problem_unlink_incidents)

    # --- notes, timeline, tasks ----------------------------------------------------------

    @extend_schema(methods=["get"], responses=s.ProblemNoteSerializer(many=True))
    @extend_schema(
        methods=["post"], request=s.ProblemNoteSerializer, responses={201: s.ProblemNoteSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def notes(self, request, pk=None):
        """The problem's work notes."""
        problem = self.get_object()
        if request.method == "POST":
            data = s.ProblemNoteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            note = services.problem_note_add(
                problem=problem, actor=request.user, body=data.validated_data["body"]
            )
            return Response(s.ProblemNoteSerializer(note).data, status=status.HTTP_201_CREATED)
        return Response(s.ProblemNoteSerializer(problem.notes.select_related("author"), many=True).data)

    @extend_schema(methods=["patch"], request=s.ProblemNoteEditInput, responses=s.ProblemNoteSerializer)
    @extend_schema(methods=["delete"], request=None, responses={204: None})
    @action(
        detail=True, methods=["patch", "delete"], url_path=r"notes/(?P<note_id>[0-9]+)", filter_backends=[]
    )
    def note(self, request, pk=None, note_id=None):
        """Only the author, or an ITSM administrator, edits or deletes a note."""
        problem = self.get_object()
        if not is_possible_pk(ProblemNote, note_id):
            raise Http404
        try:
            note = problem.notes.get(pk=note_id)
        except ProblemNote.DoesNotExist:
            raise Http404 from None
        if request.method == "DELETE":
            services.problem_note_delete(note=note, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = s.ProblemNoteEditInput(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.problem_note_edit(note=note, actor=request.user, body=data.validated_data["body"])
        return Response(s.ProblemNoteSerializer(note).data)

    @extend_schema(responses=s.ProblemTimelineItemSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def timeline(self, request, pk=None):
        """Work notes, transitions, field changes and incident links, oldest first."""
        problem = self.get_object()
        return Response(s.ProblemTimelineItemSerializer(problem_timeline(request.user, problem), many=True).data)

    @extend_schema(methods=["get"], responses=s.ProblemTaskSerializer(many=True))
    @extend_schema(
        methods=["post"], request=s.ProblemTaskSerializer, responses={201: s.ProblemTaskSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def tasks(self, request, pk=None):
        """The problem's tasks (agents)."""
        return tasks_of(self, request, self.get_object(), s.ProblemTaskSerializer)

    # --- collection actions --------------------------------------------------------------

    @extend_schema(request=s.ProblemBulkInput, responses=BulkResultSerializer)
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def bulk(self, request):
        """Assign, start or close up to 100 problems (a comment is a work note on each); answers how many changed and why others were refused."""
        return bulk_answer(request, s.ProblemBulkInput, services.BULK)


class ProblemTaskViewSet(NotThereForNonReaders, TaskViewSet):
    """Problem tasks: created under a problem (``POST /problems/{id}/tasks/``), read and worked by
    agents, updated unless closed or cancelled (ITSM administrators always)."""

    queryset = ProblemTask.objects.all()
    serializer_class = s.ProblemTaskSerializer
    select_related = ("assignee", "assignment_group", "problem")
    filterset_fields = ["state", "problem", "assignee", "assignment_group"]
