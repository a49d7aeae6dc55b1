"""A serializer base that shows only readable fields and accepts only writable ones, and the
shapes several resources share: nested lists written whole, a wall-clock time."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm import policy, services
from itsm.errors import InvalidInput
from itsm.validators import is_possible_pk


class PolicyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related record by id; an id no record can have is "does not exist", not a crash."""

    def to_internal_value(self, data):
        queryset = self.get_queryset()
        if (
            self.pk_field is None
            and queryset is not None
            and not isinstance(data, bool)
            and not is_possible_pk(queryset.model, data)
        ):
            if isinstance(data, int | str):
                self.fail("does_not_exist", pk_value=data)
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class PolicySerializer(serializers.ModelSerializer):
    """Drops fields hidden from the requesting user, marks non-editable fields read-only, and
    refuses (400) input naming a field the user may not write on this record."""

    serializer_related_field = PolicyRelatedField

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
        return services.record_update(
            obj=instance, actor=self._user(), data=validated_data, expected_version=self._if_match()
        )

    def _if_match(self) -> int | None:
        """``If-Match: <version>`` makes an edit fail (409) if someone changed the record since."""
        request = self.context.get("request")
        header = (request.headers.get("If-Match", "") if request is not None else "").strip().strip('"')
        if not header or header == "*":
            return None
        if not header.isdigit():
            raise serializers.ValidationError(
                {"If-Match": ["Send the record's version number, e.g. If-Match: 3."]}
            )
        return int(header)

    def system_values(self) -> dict:
        """Values the server sets on creation (e.g. the requester); override per resource."""
        return {}


class NestedPolicySerializer(PolicySerializer):
    """A policy serializer with nested lists written whole by a service (``NESTED``): the
    policy's field check covers the record's own fields; the service checks the nested rows."""

    NESTED: tuple[str, ...] = ()

    def get_fields(self):
        fields = super().get_fields()
        for name in self.NESTED:
            if name in fields:
                fields[name].read_only = False
        return fields

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            target = self.instance if self.instance is not None else self.Meta.model
            try:
                services.check_fields(self._user(), target, {k: None for k in data if k not in self.NESTED})
            except InvalidInput as exc:
                raise serializers.ValidationError(exc.fields) from exc
        return serializers.ModelSerializer.to_internal_value(self, data)

    def split(self, validated_data) -> tuple[dict, dict]:
        data = dict(validated_data)
        nested = {name: data.pop(name) for name in self.NESTED if name in data}
        return data, nested


class WholeItemSerializer(serializers.ModelSerializer):
    """An item of a nested list written whole: every required field is required even in a
    PATCH of the parent (DRF would skip missing fields of a partial update)."""

    def validate(self, attrs):
        missing = [name for name, field in self.fields.items() if field.required and name not in attrs]
        if missing:
            raise serializers.ValidationError({name: ["This field is required."] for name in missing})
        return attrs


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
        "example": "09:00",
    }
)
class WallClockTimeField(serializers.TimeField):
    """A local time without a zone (OpenAPI's ``time`` format demands an offset)."""
