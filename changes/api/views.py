"""The changes API: changes (their actions from ``changes.actions``, impact, notes, tasks,
timeline, journal), change tasks, governance templates, maintenance windows and change freezes.

Views only parse input and call a workflow or service; every rule lives there or in the policy.
Self-service users read no change: every URL here answers them 404.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from changes import services
from changes.actions import ACTIONS
from changes.api import records as s
from changes.api.serializers import ChangeBulkInput, ChangeNoteEditInput
from changes.models import (
    Change,
    ChangeFreeze,
    ChangeNote,
    ChangeTask,
    GovernanceTemplate,
    MaintenanceWindow,
)
from changes.timeline import change_timeline
from incidents.models import NOTE_MAX
from itsm import policy
from itsm.api.actions import ActionsViewSetMixin
from itsm.api.bulk import BulkResultSerializer
from itsm.api.bulk import answer as bulk_answer
from itsm.api.filters import PolicyFilterSet, UtcDateTimeFilter
from itsm.api.schema import PolicyAutoSchema
from itsm.api.tasks import TaskViewSet, tasks_of
from itsm.api.views import JournalMixin, PolicyViewSet
from itsm.models import Host, HostGroup
from itsm.validators import is_possible_pk


class NotThereSchema(PolicyAutoSchema):
    """Every operation may answer 404 (``NotThereForNonReaders``)."""

    def _error_codes(self) -> list[str]:
        return sorted({*super()._error_codes(), "404"})


class NotThereForNonReaders:
    """A signed-in user who reads no change (a self-service user) is answered 404 on every URL,
    the lists too: changes are the desk's business (issue 14). Anonymous requests are refused (403)."""

    schema = NotThereSchema()

    def check_permissions(self, request):
        user = request.user
        if user and user.is_authenticated and not policy.can(user, "read", Change):
            raise Http404
        super().check_permissions(request)


# --- Changes --------------------------------------------------------------------------------


class ChangeFilter(PolicyFilterSet):
    mine = filters.BooleanFilter(field_name="assignee", method="filter_mine", label="Assigned to me")
    unassigned = filters.BooleanFilter(field_name="assignee", lookup_expr="isnull", label="Unassigned")
    planned_start__gte = UtcDateTimeFilter(field_name="planned_start", lookup_expr="gte")
    planned_start__lt = UtcDateTimeFilter(field_name="planned_start", lookup_expr="lt")

    class Meta:
        model = Change
        fields = {
            "state": ["exact", "in"],
            "change_type": ["exact", "in"],
            "risk_level": ["exact", "in"],
            "priority": ["exact", "in"],
            "assignment_group": ["exact"],
            "assignee": ["exact"],
            "governance_template": ["exact"],
            "source_type": ["exact"],
            "incident": ["exact"],
            "problem": ["exact"],
            "planned_start": ["gte", "lte"],
            "opened_at": ["gte", "lte"],
        }

    def filter_mine(self, queryset, name, value):
        return queryset.filter(assignee=self.request.user) if value else queryset


class ChangeNoteSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ChangeNote
        fields = ["id", "author", "body", "created_at", "updated_at"]
        read_only_fields = ["id", "author", "created_at", "updated_at"]
        extra_kwargs = {"body": {"max_length": NOTE_MAX}}


class ChangeTimelineItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    type = serializers.CharField()
    actor = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    field = serializers.CharField(allow_blank=True)
    old_value = serializers.CharField(allow_blank=True)
    new_value = serializers.CharField(allow_blank=True)


class ChangeImpactSerializer(serializers.Serializer):
    impact_summary = serializers.JSONField(
        allow_null=True, help_text="Affected hosts and groups, each dependency chain and a risk level."
    )
    impact_computed_at = serializers.DateTimeField(allow_null=True)


class ChangeViewSet(NotThereForNonReaders, ActionsViewSetMixin, JournalMixin, PolicyViewSet):
    """Changes (agents create and work them; holders of changes.approve decide). Transitions are
    actions on the record, made from the change's action table (``changes.actions``)."""

    action_table = ACTIONS

    queryset = Change.objects.all()
    serializer_class = s.ChangeSerializer
    filterset_class = ChangeFilter
    # Related records are shown as ids read from the row: no joins to plan; hosts and groups
    # as ids too, so only their keys are read (a change may touch hundreds of hosts).
    select_related = ()
    prefetch_related = (Prefetch("hosts", Host.objects.only("pk")), Prefetch("host_groups", HostGroup.objects.only("pk")))
    search_fields = list(Change.SEARCHED)  # the words Work.search_text keeps: one indexed column
    ordering_fields = [
        "number", "opened_at", "updated_at", "priority", "state", "change_type", "planned_start",
        "planned_end", "risk_score",
    ]  # fmt: skip
    ordering = ["-opened_at", "-id"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "action", None) in ("notes", "note", "tasks", "timeline", "journal", "impact"):
            return queryset.select_related(None).prefetch_related(None)
        return queryset

    def get_serializer_context(self):
        # Conflicts cost a few queries per change: with one change, not in lists.
        return {**super().get_serializer_context(), "with_conflicts": getattr(self, "action", None) != "list"}

    # --- impact ---------------------------------------------------------------------------

    @extend_schema(methods=["get"], responses=ChangeImpactSerializer)
    @extend_schema(methods=["post"], request=None, responses=ChangeImpactSerializer)
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def impact(self, request, pk=None):
        """GET: the stored impact analysis (null until computed). POST: compute it now (breadth-
        first over host-group dependencies) and store it on the change."""
        change = self.get_object()
        if request.method == "POST":
            change = services.change_compute_impact(change=change, actor=request.user)
        return Response(
            ChangeImpactSerializer(
                {"impact_summary": change.impact_summary, "impact_computed_at": change.impact_computed_at}
            ).data
        )

    # --- notes, timeline, tasks ------------------------------------------------------------

    @extend_schema(methods=["get"], responses=ChangeNoteSerializer(many=True))
    @extend_schema(methods=["post"], request=ChangeNoteSerializer, responses={201: ChangeNoteSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def notes(self, request, pk=None):
        """The change's work notes."""
        change = self.get_object()
        if request.method == "POST":
            data = ChangeNoteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            note = services.change_note_add(change=change, actor=request.user, body=data.validated_data["body"])
            return Response(ChangeNoteSerializer(note).data, status=status.HTTP_201_CREATED)
        return Response(ChangeNoteSerializer(change.notes.select_related("author"), many=True).data)

    @extend_schema(methods=["patch"], request=ChangeNoteEditInput, responses=ChangeNoteSerializer)
    @extend_schema(methods=["delete"], request=None, responses={204: None})
    @action(
        detail=True, methods=["patch", "delete"], url_path=r"notes/(?P<note_id>[0-9]+)", filter_backends=[]
    )
    def note(self, request, pk=None, note_id=None):
        """Only the author, or an ITSM administrator, edits or deletes a note."""
        change = self.get_object()
        if not is_possible_pk(ChangeNote, note_id):
            raise Http404
        try:
            note = change.notes.get(pk=note_id)
        except ChangeNote.DoesNotExist:
            raise Http404 from None
        if request.method == "DELETE":
            services.change_note_delete(note=note, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = ChangeNoteEditInput(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.change_note_edit(note=note, actor=request.user, body=data.validated_data["body"])
        return Response(ChangeNoteSerializer(note).data)

    @extend_schema(responses=ChangeTimelineItemSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def timeline(self, request, pk=None):
        """Work notes, transitions and field changes, oldest first."""
        change = self.get_object()
        return Response(ChangeTimelineItemSerializer(change_timeline(request.user, change), many=True).data)

    @extend_schema(methods=["get"], responses=s.ChangeTaskSerializer(many=True))
    @extend_schema(methods=["post"], request=s.ChangeTaskSerializer, responses={201: s.ChangeTaskSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def tasks(self, request, pk=None):
        """The change's tasks (agents)."""
        return tasks_of(self, request, self.get_object(), s.ChangeTaskSerializer)

    # --- collection actions --------------------------------------------------------------

    @extend_schema(request=ChangeBulkInput, responses=BulkResultSerializer)
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def bulk(self, request):
        """Assign or start up to 100 changes (a comment is a work note on each); answers how many changed and why others were refused."""
        return bulk_answer(request, ChangeBulkInput, services.BULK)


class ChangeTaskViewSet(NotThereForNonReaders, TaskViewSet):
    """Change tasks: created under a change (``POST /changes/{id}/tasks/``), read and worked by
    agents, updated unless closed or cancelled (ITSM administrators always)."""

    queryset = ChangeTask.objects.all()
    serializer_class = s.ChangeTaskSerializer
    select_related = ("assignee", "assignment_group", "change")
    filterset_fields = ["state", "change", "assignee", "assignment_group"]


# --- Reference data -------------------------------------------------------------------------


class GovernanceTemplateViewSet(NotThereForNonReaders, JournalMixin, PolicyViewSet):
    """Governance templates: ITSM administrators write them, agents read them."""

    queryset = GovernanceTemplate.objects.all()
    serializer_class = s.GovernanceTemplateSerializer
    filterset_fields = ["active", "maturity_level", "pir_required"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "maturity_level", "min_notice_hours"]
    ordering = ["name", "id"]


class PeriodFilter(PolicyFilterSet):
    """Periods overlapping [``start``, ``end``): ``end__gt`` and ``start__lt``."""

    start__lt = UtcDateTimeFilter(field_name="start", lookup_expr="lt")
    start__gte = UtcDateTimeFilter(field_name="start", lookup_expr="gte")
    end__gt = UtcDateTimeFilter(field_name="end", lookup_expr="gt")
    end__lte = UtcDateTimeFilter(field_name="end", lookup_expr="lte")


class MaintenanceWindowFilter(PeriodFilter):
    class Meta:
        model = MaintenanceWindow
        fields = ["host_groups"]


class ChangeFreezeFilter(PeriodFilter):
    class Meta:
        model = ChangeFreeze
        fields = []


class MaintenanceWindowViewSet(NotThereForNonReaders, JournalMixin, PolicyViewSet):
    """Maintenance windows: agents read them; ITSM managers plan them."""

    queryset = MaintenanceWindow.objects.all()
    serializer_class = s.MaintenanceWindowSerializer
    filterset_class = MaintenanceWindowFilter
    prefetch_related = ("host_groups",)
    search_fields = ["name", "description"]
    ordering_fields = ["start", "end", "name"]
    ordering = ["start", "id"]


class ChangeFreezeViewSet(NotThereForNonReaders, JournalMixin, PolicyViewSet):
    """Change freezes (no standard or normal change may be planned in one): agents read them;
    ITSM managers declare them."""

    queryset = ChangeFreeze.objects.all()
    serializer_class = s.ChangeFreezeSerializer
    filterset_class = ChangeFreezeFilter
    search_fields = ["name", "reason"]
    ordering_fields = ["start", "end", "name"]
    ordering = ["start", "id"]
