"""The policy-aware viewset base and the shared resources (work queue, CMDB, groups)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm import audit, policy, services
from itsm.api.filters import PolicyFilterSet
from itsm.api.schema import PolicyAutoSchema, SingleObjectAutoSchema
from itsm.api.serializers import PolicySerializer
from itsm.models import (
    AssignmentGroup,
    AuditEntry,
    GroupMembership,
    Host,
    HostGroup,
    HostGroupDependency,
    Organisation,
    SlaDefinition,
    Work,
)
from itsm.roles import effective_roles
from itsm.validators import is_possible_pk


class PolicyViewSetMixin:
    """Lists and details start from the policy's readable queryset (others are 404); writes go
    through the generic services, which check the policy again inside the transaction."""

    schema = PolicyAutoSchema()  # documents the 400/401/403/404/409 refusals of every operation
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    def get_policy_model(self):
        return self.queryset.model

    def get_queryset(self):
        qs = policy.readable(self.request.user, self.get_policy_model(), self.queryset.all())
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        return qs

    def get_object(self):
        value = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        if self.lookup_field == "pk" and not is_possible_pk(self.get_policy_model(), value):
            raise Http404  # e.g. /incidents/99999999999999999999/ would crash the driver
        return super().get_object()

    def perform_destroy(self, instance):
        services.record_delete(obj=instance, actor=self.request.user)


class PolicyViewSet(PolicyViewSetMixin, viewsets.ModelViewSet):
    pass


class ReadOnlyPolicyViewSet(PolicyViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class JournalEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["at", "actor_label", "action", "field", "old_value", "new_value", "transition", "note"]


class JournalMixin:
    """``GET …/{id}/journal/``: the record's audit journal, without fields hidden from the reader."""

    @extend_schema(responses=JournalEntrySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def journal(self, request, pk=None):
        obj = self.get_object()
        entries = audit.entries_for(request.user, obj)
        return Response(JournalEntrySerializer(entries, many=True).data)


# --- ITSM Work ------------------------------------------------------------------------------


class WorkSerializer(PolicySerializer):
    class Meta:
        model = Work
        fields = [
            "id",
            "number",
            "kind",
            "short_description",
            "description",
            "state",
            "priority",
            "assignment_group",
            "assignee",
            "requester",
            "requested_for",
            "organisation",
            "opened_at",
            "updated_at",
            "closed_at",
            "version",
        ]


class WorkFilter(PolicyFilterSet):
    unassigned = filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")

    class Meta:
        model = Work
        fields = {
            "kind": ["exact", "in"],
            "state": ["exact", "in"],
            "priority": ["exact", "in"],
            "assignment_group": ["exact"],
            "assignee": ["exact"],
            "requester": ["exact"],
            "requested_for": ["exact"],
            "organisation": ["exact"],
            "opened_at": ["gte", "lte"],
            "updated_at": ["gte", "lte"],
        }


class WorkViewSet(JournalMixin, ReadOnlyPolicyViewSet):
    """The ITSM Work queue: every incident, request, problem, change and task in one list.

    Read-only here: records are created and changed through their own resources."""

    queryset = Work.objects.all()
    serializer_class = WorkSerializer
    filterset_class = WorkFilter
    search_fields = ["number", "short_description", "description"]  # Work.SEARCHED: one index
    ordering_fields = ["number", "opened_at", "updated_at", "priority", "state", "kind"]
    ordering = ["-opened_at", "-id"]


# --- Shared reference data ------------------------------------------------------------------


class OrganisationSerializer(PolicySerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "is_active", "default_sla", "created_at"]


class OrganisationViewSet(PolicyViewSet):
    queryset = Organisation.objects.all()
    serializer_class = OrganisationSerializer
    filterset_fields = ["is_active"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]


class MembershipSerializer(serializers.ModelSerializer):
    class Meta:
        model = GroupMembership
        fields = ["user", "role"]


class AssignmentGroupSerializer(PolicySerializer):
    memberships = MembershipSerializer(many=True, read_only=True)

    class Meta:
        model = AssignmentGroup
        fields = ["id", "name", "description", "email", "organisation", "is_active", "memberships"]


class AssignmentGroupViewSet(PolicyViewSet):
    queryset = AssignmentGroup.objects.all()
    serializer_class = AssignmentGroupSerializer
    prefetch_related = ("memberships",)
    filterset_fields = ["organisation", "is_active"]
    search_fields = ["name"]
    ordering_fields = ["name"]


SLA_TARGETS = [f"p{n}_{t}_minutes" for n in range(1, 5) for t in ("response", "resolution")]


class SlaDefinitionSerializer(PolicySerializer):
    """Targets in minutes of business time on ``calendar`` (none: 24×7 in UTC); an empty target
    means the priority has no clock for it."""

    class Meta:
        model = SlaDefinition
        fields = ["id", "name", "description", "is_active", "is_default", "calendar", *SLA_TARGETS]
        # One account-wide default: SlaDefinition.clean says so, naming is_default.
        extra_kwargs = {"is_default": {"validators": []}}

    def _saving(self, write, *args):
        try:
            with transaction.atomic():
                return write(*args)
        except IntegrityError:  # another default was saved meanwhile
            raise serializers.ValidationError(
                {"is_default": ["Another default was saved meanwhile. Reload and try again."]}
            ) from None

    def create(self, validated_data):
        return self._saving(super().create, validated_data)

    def update(self, instance, validated_data):
        return self._saving(super().update, instance, validated_data)


class SlaDefinitionViewSet(PolicyViewSet):
    queryset = SlaDefinition.objects.all()
    serializer_class = SlaDefinitionSerializer
    select_related = ("calendar",)
    filterset_fields = ["is_active", "is_default", "calendar"]
    search_fields = ["name"]
    ordering_fields = ["name"]


class HostGroupSerializer(PolicySerializer):
    class Meta:
        model = HostGroup
        fields = ["id", "name", "description", "service_tier", "sla", "organisation"]


class HostGroupViewSet(PolicyViewSet):
    queryset = HostGroup.objects.all()
    serializer_class = HostGroupSerializer
    filterset_fields = ["service_tier", "organisation", "sla"]
    search_fields = ["name"]
    ordering_fields = ["name", "service_tier"]


class HostSerializer(PolicySerializer):
    class Meta:
        model = Host
        fields = ["id", "hostname", "description", "ip_address", "host_group", "organisation", "is_active"]


class HostViewSet(PolicyViewSet):
    queryset = Host.objects.all()
    serializer_class = HostSerializer
    filterset_fields = ["host_group", "organisation", "is_active"]
    search_fields = ["hostname", "description"]
    ordering_fields = ["hostname"]


class HostGroupDependencySerializer(PolicySerializer):
    class Meta:
        model = HostGroupDependency
        fields = ["id", "dependent", "depends_on", "description"]
        validators = []  # the unique pair is checked by the service with a field-named message


class HostGroupDependencyViewSet(PolicyViewSet):
    queryset = HostGroupDependency.objects.all()
    serializer_class = HostGroupDependencySerializer
    filterset_fields = ["dependent", "depends_on"]
    ordering_fields = ["id"]


# --- Who am I -------------------------------------------------------------------------------


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name", "email", "organisation", "roles"]

    def get_roles(self, user) -> list[str]:
        return sorted(effective_roles(user))


class MeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """``GET /api/v1/me/``: the signed-in user and its effective roles."""

    serializer_class = MeSerializer
    schema = SingleObjectAutoSchema()
    pagination_class = None
    filter_backends = []
    permission_classes = []

    def get_queryset(self):
        return get_user_model().objects.none()

    def list(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return Response({"detail": "Authentication credentials were not provided."}, status=401)
        return Response(MeSerializer(request.user).data)
