"""The incidents API: the record, its transitions, notes, time, CSAT, timeline and tasks.

Views only parse input and call a workflow or service; every rule lives there or in the policy.
"""

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents import selectors, services
from incidents.actions import ACTIONS
from incidents.api import serializers as s
from incidents.models import Incident, IncidentNote, IncidentTask
from itsm import policy
from itsm.api.actions import ActionsViewSetMixin
from itsm.api.attachments import AttachmentsMixin
from itsm.api.bulk import BulkResultSerializer
from itsm.api.bulk import answer as bulk_answer
from itsm.api.filters import PolicyFilterSet
from itsm.api.tasks import TaskViewSet, tasks_of
from itsm.api.views import JournalMixin, PolicyViewSet
from itsm.errors import NotAllowed
from itsm.validators import is_possible_pk
from sla import explain
from sla.api.serializers import IncidentSlaInput, IncidentSlaSerializer
from sla.clocks import breached_q, live_status
from sla.models import SlaStatus


class IncidentFilter(PolicyFilterSet):
    # field_name names the field the filter reads, so the policy drops it where assignee is hidden.
    mine = filters.BooleanFilter(field_name="assignee", method="filter_mine", label="Assigned to me")
    unassigned = filters.BooleanFilter(field_name="assignee", lookup_expr="isnull", label="Unassigned")
    # Both read the SLA status: dropped for readers it is hidden from (customers).
    breached = filters.BooleanFilter(
        field_name="sla_status", method="filter_breached", label="SLA breached (also past due, not yet swept)"
    )
    sla_status = filters.ChoiceFilter(
        field_name="sla_status", choices=SlaStatus.choices, method="filter_sla_status", label="SLA status"
    )
    # Reads customer_replied_at: dropped for readers it is hidden from (customers).
    customer_replied = filters.BooleanFilter(
        field_name="customer_replied_at", lookup_expr="isnull", exclude=True,
        label="Customer replied (a resolved incident its customer commented on)",
    )  # fmt: skip

    class Meta:
        model = Incident
        fields = {
            "state": ["exact", "in"],
            "priority": ["exact", "in"],
            "impact": ["exact"],
            "urgency": ["exact"],
            "source": ["exact"],
            "assignment_group": ["exact"],
            "assignee": ["exact"],
            "requester": ["exact"],
            "requested_for": ["exact"],
            "major_incident": ["exact"],
            "opened_at": ["gte", "lte"],
        }

    def filter_mine(self, queryset, name, value):
        return queryset.filter(assignee=self.request.user) if value else queryset

    def filter_breached(self, queryset, name, value):
        return queryset.filter(breached_q()) if value else queryset.exclude(breached_q())

    def filter_sla_status(self, queryset, name, value):
        """As the incident shows it: a running clock past its due time is breached already."""
        if value == SlaStatus.BREACHED:
            return queryset.filter(breached_q())
        return queryset.filter(sla_status=value).exclude(breached_q())


class IncidentViewSet(AttachmentsMixin, ActionsViewSetMixin, JournalMixin, PolicyViewSet):
    """Incidents. Customers see their own (as requester or requested-for), without the fields
    SPEC §4 hides from them; agents see all. Transitions are actions on the record, made from
    the incident's action table (``incidents.actions``)."""

    action_table = ACTIONS

    queryset = Incident.objects.all()
    serializer_class = s.IncidentSerializer
    filterset_class = IncidentFilter
    # Related records are shown as ids read from the row (as problems and changes): no joins to
    # plan, and no people's rows read for a list that shows their ids.
    select_related = ()
    # The relations the body shows, as lists of ids (related problems also give the workarounds).
    RELATIONS = (
        "collaborators", "hosts", "related_configuration_items", "related_incidents", "related_problems",
        "changes_required",
    )  # fmt: skip
    search_fields = ["number", "short_description", "description", "resolution_notes", "service"]
    ordering_fields = ["number", "opened_at", "updated_at", "priority", "state", "impact", "urgency"]
    ordering = ["-opened_at", "-id"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "action", None) == "sla":
            return queryset  # the explanation shows none of the relations
        return queryset.prefetch_related(*self.relations())

    def relations(self) -> list:
        """The prefetches of the relations the reader may read (a hidden one is not in the body,
        so not read at all), each reading only what the body shows of it: the ids."""
        user = self.request.user
        hidden = policy.hidden_fields(user, Incident)
        prefetches = []
        for name in self.RELATIONS:
            if name in hidden:
                continue
            if name == "related_problems":
                prefetches.append(selectors.related_problems_prefetch(user))
            else:
                model = Incident._meta.get_field(name).related_model
                prefetches.append(Prefetch(name, queryset=model._default_manager.only("pk")))
        return prefetches

    # --- notes ---------------------------------------------------------------------------

    @extend_schema(
        methods=["get"],
        parameters=[OpenApiParameter("kind", enum=IncidentNote.Kind.values, required=False)],
        responses=s.NoteSerializer(many=True),
    )
    @extend_schema(methods=["post"], request=s.NoteSerializer, responses={201: s.NoteSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def notes(self, request, pk=None):
        """The conversation (comments, for the customer too) and the work journal (agents)."""
        incident = self.get_object()
        if request.method == "POST":
            data = s.NoteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            note = services.note_add(incident=incident, actor=request.user, **data.validated_data)
            note_data = s.NoteSerializer(note, context=self._note_context(incident)).data
            return Response(note_data, status=status.HTTP_201_CREATED)
        kinds = (
            [request.query_params["kind"]] if request.query_params.get("kind") else IncidentNote.Kind.values
        )
        notes = [
            n
            for kind in kinds
            if kind in IncidentNote.Kind.values
            for n in selectors.notes_for(request.user, incident, kind)
        ]
        notes.sort(key=lambda n: (n.created_at, n.pk))
        return Response(s.NoteSerializer(notes, many=True, context=self._note_context(incident)).data)

    def attachment_note(self, incident, note_id):
        return incident.notes.filter(pk=note_id).first()

    def _note_context(self, incident) -> dict:
        return {**self.get_serializer_context(), "incident": incident}

    def _note(self, request, note_id):
        incident = self.get_object()
        if not is_possible_pk(IncidentNote, note_id):
            raise Http404
        try:
            return incident.notes.get(pk=note_id)
        except IncidentNote.DoesNotExist:
            raise Http404 from None

    @extend_schema(methods=["patch"], request=s.NoteEditInput, responses=s.NoteSerializer)
    @extend_schema(methods=["delete"], request=None, responses={204: None})
    @action(
        detail=True, methods=["patch", "delete"], url_path=r"notes/(?P<note_id>[0-9]+)", filter_backends=[]
    )
    def note(self, request, pk=None, note_id=None):
        """Only the author, or an ITSM administrator, edits or deletes a note."""
        note = self._note(request, note_id)
        if request.method == "DELETE":
            services.note_delete(note=note, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = s.NoteEditInput(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.note_edit(note=note, actor=request.user, body=data.validated_data["body"])
        return Response(s.NoteSerializer(note, context=self._note_context(note.incident)).data)

    # --- time, CSAT, timeline ------------------------------------------------------------

    @extend_schema(methods=["get"], responses=s.TimeOverviewSerializer)
    @extend_schema(methods=["post"], request=s.TimeEntrySerializer, responses={201: s.TimeEntrySerializer})
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="time-entries",
        pagination_class=None,
        filter_backends=[],
    )
    def time_entries(self, request, pk=None):
        """Effort logged on the incident, with billable and non-billable totals."""
        incident = self.get_object()
        if request.method == "POST":
            data = s.TimeEntrySerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            entry = services.time_entry_add(
                incident=incident, actor=request.user, minutes=values["minutes"],
                billable=values.get("billable", True), on=values.get("date"), note=values.get("note", ""),
            )  # fmt: skip
            return Response(s.TimeEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
        if not policy.can(request.user, "read_time", incident):
            raise NotAllowed("Time entries are for the service desk.")
        entries = incident.time_entries.select_related("author")
        return Response(
            {
                "totals": selectors.time_totals(incident),
                "entries": s.TimeEntrySerializer(entries, many=True).data,
            }
        )

    @extend_schema(methods=["get"], responses=s.CsatSummarySerializer)
    @extend_schema(methods=["post"], request=s.CsatSerializer, responses={200: s.CsatSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def csat(self, request, pk=None):
        """Satisfaction: rate a resolved or closed incident (once per person; again updates it)."""
        incident = self.get_object()
        if request.method == "POST":
            data = s.CsatSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            response = services.csat_submit(incident=incident, actor=request.user, **data.validated_data)
            return Response(s.CsatSerializer(response).data)
        if not policy.can(request.user, "read_csat", incident):
            raise NotAllowed("You may not read this incident's satisfaction responses.")
        responses = incident.csat_responses.select_related("actor")
        return Response(
            {**selectors.csat_summary(responses), "responses": s.CsatSerializer(responses, many=True).data}
        )

    @extend_schema(responses=s.TimelineItemSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def timeline(self, request, pk=None):
        """Comments, work notes, transitions and field changes, as far as you may see them."""
        incident = self.get_object()
        return Response(s.TimelineItemSerializer(selectors.timeline(request.user, incident), many=True).data)

    @extend_schema(methods=["get"], responses=s.IncidentTaskSerializer(many=True))
    @extend_schema(
        methods=["post"], request=s.IncidentTaskSerializer, responses={201: s.IncidentTaskSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def tasks(self, request, pk=None):
        """The incident's subtasks (agents)."""
        return tasks_of(self, request, self.get_object(), s.IncidentTaskSerializer)

    # --- SLA ----------------------------------------------------------------------------

    @extend_schema(parameters=[IncidentSlaInput], responses=IncidentSlaSerializer)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def sla(self, request, pk=None):
        """The incident's SLA clocks and why each is due when it is: target, business time used,
        calendar and hours, holidays up to the due time, pauses, events. ``history=true`` adds
        the clocks a reopen retired."""
        incident = self.get_object()
        if not policy.can(request.user, "view_sla", incident):
            # Answered as for an incident that does not exist: the SLA is hidden from this reader.
            raise Http404(f"No {Incident._meta.object_name} matches the given query.")
        data = IncidentSlaInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        clocks = explain.clocks_for(incident, history=data.validated_data["history"])
        at = timezone.now()
        return Response(
            IncidentSlaSerializer(
                {
                    "sla_status": live_status(incident, at),
                    "sla_due_at": incident.sla_due_at,
                    "clocks": [explain.explain(clock, at) for clock in clocks],
                }
            ).data
        )

    # --- collection actions --------------------------------------------------------------

    @extend_schema(request=s.BulkInput, responses=BulkResultSerializer)
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def bulk(self, request):
        """Acknowledge, resolve or assign up to 100 incidents; answers how many changed and why others were refused."""
        return bulk_answer(request, s.BulkInput, services.BULK)

    @extend_schema(request=s.AutoCloseInput, responses=s.AutoCloseResultSerializer)
    @action(detail=False, methods=["post"], url_path="auto-close", filter_backends=[], pagination_class=None)
    def auto_close(self, request):
        """Close incidents resolved for ``stale_hours`` (default 48); ``dry_run`` only lists them."""
        data = s.AutoCloseInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.auto_close_run(actor=request.user, **data.validated_data))

    @extend_schema(parameters=[s.TimeReportInput], responses=None)
    @action(detail=False, methods=["get"], url_path="time-report", filter_backends=[], pagination_class=None)
    def time_report(self, request):
        """Minutes logged by user or organisation and period, billable and not."""
        data = s.TimeReportInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        if not policy.has_permission(request.user, "incidents.manage"):
            raise NotAllowed("Time reports are for the service desk.")
        return Response(selectors.time_report(request.user, **data.validated_data))

    @extend_schema(parameters=[s.ReportInput], responses=None)
    @action(detail=False, methods=["get"], url_path="csat-report", filter_backends=[], pagination_class=None)
    def csat_report(self, request):
        """Average rating and response count by organisation and period."""
        data = s.ReportInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        if not policy.has_permission(request.user, "incidents.manage"):
            raise NotAllowed("Satisfaction reports are for the service desk.")
        return Response(selectors.csat_report(request.user, **data.validated_data))


class IncidentTaskViewSet(TaskViewSet):
    """Incident tasks: created under an incident (``POST /incidents/{id}/tasks/``), read and worked
    by agents, updated unless closed or cancelled (ITSM administrators always)."""

    queryset = IncidentTask.objects.all()
    serializer_class = s.IncidentTaskSerializer
    select_related = ("assignee", "assignment_group", "incident")
    filterset_fields = ["state", "incident", "assignee", "assignment_group"]
