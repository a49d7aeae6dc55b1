"""API actions made from a record's ``ActionTable``: ``POST /<records>/{id}/<action>/`` for each
action, with the action's input serializer as the body, answering the record as it is after."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action as drf_action
from rest_framework.response import Response

from itsm.actions import Action, ActionTable


def _endpoint(entry: Action, response):
    def handler(self, request, pk=None):
        obj = self.get_object()
        inputs = {}
        if entry.input is not None:
            body = entry.input(data=request.data, context=self.get_serializer_context())
            body.is_valid(raise_exception=True)
            inputs = body.validated_data
        result = self.action_table.run(entry.name, obj, request.user, **inputs)
        return Response(self.get_serializer(result).data)

    handler.from_action_table = True
    handler.__name__ = entry.name.replace("-", "_")
    handler.__doc__ = entry.doc or f"{entry.label}."
    handler = drf_action(detail=True, methods=["post"], url_path=entry.name)(handler)
    # After @action, which replaces the function's kwargs (where extend_schema keeps its schema).
    return extend_schema(request=entry.input, responses=response)(handler)


class ActionsViewSetMixin:
    """For a viewset of records with an ``action_table``: one POST action per entry. An entry the
    viewset defines a method for itself is left to that method."""

    action_table: ActionTable | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        table = getattr(cls, "action_table", None)
        if table is None or getattr(cls, "serializer_class", None) is None:
            return
        for entry in table.values():
            name = entry.name.replace("-", "_")
            own = getattr(cls, name, None)
            if own is None or getattr(own, "from_action_table", False):
                setattr(cls, name, _endpoint(entry, cls.serializer_class))
