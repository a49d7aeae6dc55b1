"""The API of every domain's tasks: a serializer and a viewset to subclass, and the collection
under the parent record (``GET/POST /<records>/{id}/tasks/``)."""

from __future__ import annotations

from django.utils.text import capfirst
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from itsm import policy, services
from itsm.actions import TASK_ACTIONS
from itsm.api.actions import ActionsViewSetMixin
from itsm.api.serializers import PolicySerializer
from itsm.api.views import PolicyViewSetMixin
from itsm.errors import NotAllowed


def task_fields(parent: str) -> list[str]:
    return [
        "id", "number", parent, "short_description", "description", "state", "priority",
        "assignment_group", "assignee", "opened_at", "updated_at", "closed_at", "version",
    ]  # fmt: skip


class TaskSerializer(PolicySerializer):
    """A domain's task serializer sets ``Meta.model`` (a ``WorkTask``) and
    ``Meta.fields = task_fields(<parent>)``; a new task is created under ``context["parent"]``."""

    def create(self, validated_data):
        return services.task_create(
            parent=self.context["parent"], model=self.Meta.model, actor=self._user(), data=validated_data
        )

    def update(self, instance, validated_data):
        return services.task_update(
            task=instance, actor=self._user(), data=validated_data, expected_version=self._if_match()
        )


class TaskViewSet(
    ActionsViewSetMixin,
    PolicyViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Tasks: created under their record, read and worked by agents, updated unless closed or
    cancelled (ITSM administrators always); start, close and cancel are actions."""

    action_table = TASK_ACTIONS
    search_fields = ["number", "short_description"]
    ordering_fields = ["number", "opened_at", "state"]
    ordering = ["-opened_at", "-id"]


def tasks_of(view, request, parent, serializer_class) -> Response:
    """The parent's tasks (GET) or a new one (POST), for readers of the task model (agents)."""
    model = serializer_class.Meta.model
    context = {**view.get_serializer_context(), "parent": parent}
    refusal = f"{capfirst(model._meta.verbose_name_plural)} are for the service desk."
    if request.method == "POST":
        if not policy.can(request.user, "create", model):
            raise NotAllowed(refusal)
        data = serializer_class(data=request.data, context=context)
        data.is_valid(raise_exception=True)
        task = data.save()
        return Response(serializer_class(task, context=context).data, status=status.HTTP_201_CREATED)
    if not policy.can(request.user, "read", model):
        raise NotAllowed(refusal)
    tasks = (
        policy.readable(request.user, model)
        .filter(**{model.PARENT: parent})
        .select_related("assignee", "assignment_group")
    )
    return Response(serializer_class(tasks, many=True, context=context).data)
