"""A serializer base that shows only readable fields and accepts only writable ones."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from rest_framework import serializers

from itsm import policy, services
from itsm.errors import InvalidInput


class PolicySerializer(serializers.ModelSerializer):
    """Drops fields hidden from the requesting user, marks non-editable fields read-only, and
    refuses (400) input naming a field the user may not write on this record."""

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None) or AnonymousUser()

    def _schema_only(self) -> bool:
        return bool(getattr(self.context.get("view"), "swagger_fake_view", False))

    def get_fields(self):
        fields = super().get_fields()
        model = self.Meta.model
        rules = policy.rules_for(model)
        for name, field in fields.items():
            if name not in rules.editable:
                field.read_only = True
        if self._schema_only():
            return fields
        user = self._user()
        for name in policy.hidden_fields(user, model) & set(fields):
            del fields[name]
        for name, field in fields.items():
            queryset = getattr(field, "queryset", None)
            if queryset is None and hasattr(field, "child_relation"):
                queryset = field.child_relation.queryset
                if queryset is not None:
                    field.child_relation.queryset = policy.limit_choices(user, name, queryset)
            elif queryset is not None and not field.read_only:
                field.queryset = policy.limit_choices(user, name, queryset)
        return fields

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            target = self.instance if self.instance is not None else self.Meta.model
            try:
                services.check_fields(self._user(), target, {k: None for k in data})
            except InvalidInput as exc:
                raise serializers.ValidationError(exc.fields) from exc
        return super().to_internal_value(data)

    def create(self, validated_data):
        return services.record_create(
            model=self.Meta.model, actor=self._user(), data=validated_data, **self.system_values()
        )

    def update(self, instance, validated_data):
        return services.record_update(obj=instance, actor=self._user(), data=validated_data)

    def system_values(self) -> dict:
        """Values the server sets on creation (e.g. the requester); override per resource."""
        return {}
