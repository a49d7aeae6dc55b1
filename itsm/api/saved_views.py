"""``/api/v1/saved-views/``: the desk queues' saved views you see (your own and those shared with
a group you belong to); create, change and delete your own. The rules are
``itsm.saved_views``' (the same as the desk's forms): a filter the queue does not know, or one on
a field you may not read, is a 400 naming ``query``; someone else's shared view is read-only
(403); a view you do not see is 404."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from itsm import policy, saved_views
from itsm.api.schema import PolicyAutoSchema
from itsm.errors import InvalidInput
from itsm.models import SavedView
from itsm.models.views import DEFAULT_PAGE_SIZE, PAGE_SIZES
from itsm.validators import is_possible_pk


class DeskUsers(BasePermission):
    message = "Saved views are for the service desk's queues."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and policy.has_permission(user, "desk.access"))


class SavedViewSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    mine = serializers.SerializerMethodField(help_text="Whether you own it (and so may change it).")
    kind = serializers.CharField(max_length=16, help_text="The queue: incident, problem, change or request.")
    name = serializers.CharField(max_length=200)
    query = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="",
        help_text="The queue's filters as a query string, e.g. state=open&priority=P1.",
    )  # fmt: skip
    columns = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=50, required=False, default=list,
        help_text="The columns shown, from those you may read; empty: all of them.",
    )  # fmt: skip
    sort = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    page_size = serializers.ChoiceField(choices=PAGE_SIZES, required=False, default=DEFAULT_PAGE_SIZE)
    shared_with = serializers.IntegerField(
        source="shared_with_id",
        required=False, allow_null=True, default=None, min_value=1, max_value=2**63 - 1,
        help_text="An assignment group you belong to; its members may open the view (read-only).",
    )  # fmt: skip

    class Meta:
        model = SavedView
        fields = ["id", "kind", "name", "query", "columns", "sort", "page_size", "shared_with", "owner",
                  "mine", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["id", "owner", "mine", "created_at", "updated_at"]

    def get_mine(self, obj) -> bool:
        request = self.context.get("request")
        return bool(request and obj.owner_id == request.user.pk)


def _fields(serializer) -> dict:
    data = dict(serializer.validated_data)
    if "shared_with_id" in data:
        data["shared_with"] = data.pop("shared_with_id")
    return data


class SavedViewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Saved views of the desk queues: yours and those shared with your groups."""

    schema = PolicyAutoSchema()
    serializer_class = SavedViewSerializer
    permission_classes = [DeskUsers]
    filter_backends = []
    queryset = SavedView.objects.none()

    def get_queryset(self):
        return saved_views.visible_to(self.request.user).order_by("kind", "name", "pk")

    def get_object(self):
        pk = self.kwargs.get("pk")
        if not is_possible_pk(SavedView, pk):
            raise Http404
        return super().get_object()

    def perform_create(self, serializer):
        serializer.instance = saved_views.saved_view_create(actor=self.request.user, **_fields(serializer))

    def perform_update(self, serializer):
        changes = _fields(serializer)
        if changes.pop("kind", serializer.instance.kind) != serializer.instance.kind:
            raise InvalidInput(
                "The view cannot be saved as asked.", fields={"kind": ["A view stays on its queue."]}
            )
        serializer.instance = saved_views.saved_view_update(
            view=serializer.instance, actor=self.request.user, changes=changes
        )

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        saved_views.saved_view_delete(view=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
