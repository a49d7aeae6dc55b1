"""The catalog API: categories, items (with their form, approval levels and task templates),
requests (their actions from ``catalog.actions``, notes, tasks, timeline, journal, summary) and
request tasks.

Views only parse input and call a workflow or service; every rule lives there or in the policy.
A customer reads active items, and the requests it raised, is requested for or approves (any
other is 404), without the fields SPEC §4 hides: they are absent from bodies and ignored as
filters, orderings and search fields.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog import selectors, services
from catalog.actions import ACTIONS
from catalog.api import records as s
from catalog.models import (
    ApprovalLevel,
    CatalogCategory,
    CatalogItem,
    Request,
    RequestApproval,
    RequestNote,
    RequestTask,
)
from itsm import policy
from itsm.api.actions import ActionsViewSetMixin
from itsm.api.attachments import AttachmentsMixin
from itsm.api.bulk import BulkResultSerializer
from itsm.api.bulk import answer as bulk_answer
from itsm.api.filters import PolicyFilterSet
from itsm.api.tasks import TaskViewSet, tasks_of
from itsm.api.views import JournalMixin, PolicyViewSet
from itsm.validators import is_possible_pk

# The action inputs live beside the action table (``catalog.actions``); their names are those of
# other domains' inputs, so the schema gives them request-specific component names.
for _input in (ACTIONS[name].input for name in ACTIONS if ACTIONS[name].input is not None):
    extend_schema_serializer(component_name=f"Request{_input.__name__}")(_input)

# --- Categories and items ---------------------------------------------------------------------


class CatalogCategoryViewSet(JournalMixin, PolicyViewSet):
    """Catalog categories: everyone signed in reads them; service_catalog.manage writes them."""

    queryset = CatalogCategory.objects.all()
    serializer_class = s.CatalogCategorySerializer
    filterset_fields = ["active"]
    search_fields = ["name", "description"]
    ordering_fields = ["position", "name"]
    ordering = ["position", "name", "id"]


class CatalogItemFilter(PolicyFilterSet):
    class Meta:
        model = CatalogItem
        fields = {"category": ["exact"], "active": ["exact"], "priority": ["exact"], "fulfilment_group": ["exact"]}


class CatalogItemViewSet(JournalMixin, PolicyViewSet):
    """Catalog items with their form (``form_fields``). Customers read active items (their form,
    not who approves or fulfils them); service_catalog.manage creates and edits them, their form,
    approval levels and task templates, and deactivates them (``active: false``): a deactivated
    item leaves Browse, its requests stay as they are."""

    queryset = CatalogItem.objects.all()
    serializer_class = s.CatalogItemSerializer
    filterset_class = CatalogItemFilter
    select_related = ("category",)
    prefetch_related = (Prefetch("approval_levels__users"), "task_templates")
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name", "id"]

    @extend_schema(request=None, responses=s.CatalogItemSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def deactivate(self, request, pk=None):
        """Withdraw the item from the catalog (service_catalog.manage): it leaves Browse; its
        requests stay as they are."""
        item = services.item_deactivate(item=self.get_object(), actor=request.user)
        return Response(self.get_serializer(item).data)

    @extend_schema(request=None, responses=s.CatalogItemSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def activate(self, request, pk=None):
        """Offer the item in the catalog again (service_catalog.manage)."""
        item = services.item_activate(item=self.get_object(), actor=request.user)
        return Response(self.get_serializer(item).data)

    def get_queryset(self):
        queryset = super().get_queryset()
        if not policy.can(self.request.user, "read", ApprovalLevel):
            return queryset.prefetch_related(None)  # levels and templates are not shown to them
        return queryset


# --- Requests -----------------------------------------------------------------------------------


class RequestFilter(PolicyFilterSet):
    # field_name names the field each reads, so the policy drops a filter on a hidden field.
    mine = filters.BooleanFilter(
        field_name="requester", method="filter_mine", label="Raised by me (true), or by others (false)"
    )
    assigned_to_me = filters.BooleanFilter(field_name="assignee", method="filter_assigned", label="Assigned to me")
    unassigned = filters.BooleanFilter(field_name="assignee", lookup_expr="isnull", label="Unassigned")

    class Meta:
        model = Request
        fields = {
            "state": ["exact", "in"],
            "catalog_item": ["exact"],
            "priority": ["exact", "in"],
            "assignment_group": ["exact"],
            "assignee": ["exact"],
            "requester": ["exact"],
            "requested_for": ["exact"],
            "opened_at": ["gte", "lte"],
        }

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        return queryset.filter(requester=user) if value else queryset.exclude(requester=user)

    def filter_assigned(self, queryset, name, value):
        return queryset.filter(assignee=self.request.user) if value else queryset


@extend_schema_view(
    create=extend_schema(
        description="Raise a request for an active catalog item. " + s.FORM_DATA_ERRORS
        + " A `requested_for` outside your organisation, or an item the catalog does not offer, is "
        "refused the same way under `requested_for` / `catalog_item`."
    )
)
class RequestViewSet(AttachmentsMixin, ActionsViewSetMixin, JournalMixin, PolicyViewSet):
    """ITSM requests raised from catalog items. Customers see the requests they raised, are
    requested for or approve, without the fields SPEC §4 hides from them; agents see all.
    Transitions are actions on the record, made from the request's action table
    (``catalog.actions``)."""

    action_table = ACTIONS

    queryset = Request.objects.all()
    serializer_class = s.RequestSerializer
    filterset_class = RequestFilter
    # People and groups are shown as ids read from the row: no joins.
    search_fields = ["number", "short_description", "description"]
    ordering_fields = ["number", "opened_at", "updated_at", "priority", "state"]
    ordering = ["-opened_at", "-id"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "action", None) in ("notes", "note", "tasks", "timeline", "journal", "summary"):
            return queryset
        if not selectors.sees_hidden_answers(self.request.user):
            # The form each request answered says which answers are hidden-type (not theirs).
            queryset = queryset.select_related("form_version")
        # The decisions the reader may read: agents all of them, an approver its own.
        approvals = policy.readable(self.request.user, RequestApproval).select_related("approver", "decided_by")
        return queryset.prefetch_related(Prefetch("approvals", approvals.order_by("level", "id")))

    @extend_schema(responses=s.SummarySerializer, parameters=[])
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def summary(self, request):
        """How many of the requests you raised are in each state (for the portal home)."""
        return Response(selectors.summary(request.user))

    # --- notes, timeline, tasks ------------------------------------------------------------

    def attachment_note(self, record, note_id):
        return record.notes.filter(pk=note_id).first()

    def _note_context(self, record) -> dict:
        return {**self.get_serializer_context(), "record": record}

    @extend_schema(
        methods=["get"],
        parameters=[OpenApiParameter("kind", enum=RequestNote.Kind.values, required=False)],
        responses=s.RequestNoteSerializer(many=True),
    )
    @extend_schema(methods=["post"], request=s.RequestNoteSerializer, responses={201: s.RequestNoteSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def notes(self, request, pk=None):
        """The conversation (comments: the customer's too) and the work notes (agents only).
        A note posted without ``kind`` is a comment."""
        record = self.get_object()
        if request.method == "POST":
            data = s.RequestNoteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            note = services.request_note_add(
                request=record, actor=request.user, kind=values.get("kind", RequestNote.Kind.COMMENT),
                body=values["body"],
            )  # fmt: skip
            return Response(
                s.RequestNoteSerializer(note, context=self._note_context(record)).data, status=status.HTTP_201_CREATED
            )
        asked = request.query_params.get("kind")
        kinds = [asked] if asked else RequestNote.Kind.values
        notes = [
            note
            for kind in kinds
            if kind in RequestNote.Kind.values
            for note in selectors.notes_for(request.user, record, kind)
        ]
        notes.sort(key=lambda n: (n.created_at, n.pk))
        return Response(s.RequestNoteSerializer(notes, many=True, context=self._note_context(record)).data)

    @extend_schema(methods=["patch"], request=s.RequestNoteEditInput, responses=s.RequestNoteSerializer)
    @extend_schema(methods=["delete"], request=None, responses={204: None})
    @action(detail=True, methods=["patch", "delete"], url_path=r"notes/(?P<note_id>[0-9]+)", filter_backends=[])
    def note(self, request, pk=None, note_id=None):
        """Only the author, or an ITSM administrator, edits or deletes a note."""
        record = self.get_object()
        if not is_possible_pk(RequestNote, note_id):
            raise Http404
        note = next(
            (n for kind in RequestNote.Kind.values for n in selectors.notes_for(request.user, record, kind).filter(pk=note_id)),
            None,
        )
        if note is None:  # gone, or a work note the reader may not read
            raise Http404
        if request.method == "DELETE":
            services.request_note_delete(note=note, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = s.RequestNoteEditInput(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.request_note_edit(note=note, actor=request.user, body=data.validated_data["body"])
        return Response(s.RequestNoteSerializer(note, context=self._note_context(record)).data)

    @extend_schema(responses=s.RequestTimelineItemSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def timeline(self, request, pk=None):
        """Comments, work notes, decisions, transitions and field changes, as far as you may see them."""
        record = self.get_object()
        return Response(s.RequestTimelineItemSerializer(selectors.request_timeline(request.user, record), many=True).data)

    @extend_schema(methods=["get"], responses=s.RequestTaskSerializer(many=True))
    @extend_schema(methods=["post"], request=s.RequestTaskSerializer, responses={201: s.RequestTaskSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def tasks(self, request, pk=None):
        """The request's fulfilment tasks (agents)."""
        return tasks_of(self, request, self.get_object(), s.RequestTaskSerializer)

    # --- collection actions --------------------------------------------------------------

    @extend_schema(request=s.RequestBulkInput, responses=BulkResultSerializer)
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def bulk(self, request):
        """Assign up to 100 requests (a comment is a work note on each); answers how many changed and why others were refused."""
        return bulk_answer(request, s.RequestBulkInput, services.BULK)


class RequestTaskViewSet(TaskViewSet):
    """Request tasks: made by fulfilment from the item's task templates, or added under a request
    (``POST /requests/{id}/tasks/``); read and worked by agents, updated unless closed or
    cancelled (ITSM administrators always)."""

    queryset = RequestTask.objects.all()
    serializer_class = s.RequestTaskSerializer
    select_related = ("assignee", "assignment_group", "request")
    filterset_fields = ["state", "request", "assignee", "assignment_group"]
