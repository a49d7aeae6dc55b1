"""The record serializers of the catalog API: categories, items (with their form, approval levels
and task templates), requests (with their approvals), request tasks and notes.

Serializers only shape input and output; every rule lives in ``catalog.services`` /
``catalog.workflows`` / ``catalog.formdef`` and the policy, which every door shares. A form's
definition and a request's ``form_data`` are validated by ``catalog.formdef`` alone: its errors
come back as a 400 whose keys name the place at fault, ``form_fields[2].options`` or
``form_data.<field name>`` (see ``FORM_DATA_ERRORS``).
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from catalog import selectors, services
from catalog.models import (
    ApprovalLevel,
    CatalogCategory,
    CatalogItem,
    Request,
    RequestApproval,
    RequestNote,
    RequestTask,
    TaskTemplate,
)
from incidents.api.serializers import LiveSlaStatusField
from itsm import policy
from itsm import services as core
from itsm.api import bulk
from itsm.api.serializers import (
    NestedPolicySerializer,
    PolicyRelatedField,
    PolicySerializer,
    WholeItemSerializer,
)
from itsm.api.tasks import TaskSerializer, task_fields
from itsm.errors import InvalidInput
from itsm.models import AssignmentGroup, User
from itsm.notes import NOTE_MAX

FIELD_TYPES = ["text", "textarea", "number", "dropdown", "radio", "checkbox", "hidden", "date", "email"]

FORM_DATA_ERRORS = (
    "A submission that does not fit the item's form is a 400 listing every field at fault at "
    "once, each under the key `form_data.<field name>` (e.g. `form_data.laptop_model`), with "
    "`detail` and `code`; nothing is written. Unknown keys are refused by name the same way."
)
FORM_FIELDS_ERRORS = (
    "A form definition that is not valid is a 400 naming each place at fault as "
    "`form_fields[<index>].<property>` (e.g. `form_fields[2].options`); nothing is written."
)


# --- Categories -------------------------------------------------------------------------------


class CatalogCategorySerializer(PolicySerializer):
    """A catalog category (service_catalog.manage writes; everyone signed in reads)."""

    class Meta:
        model = CatalogCategory
        fields = ["id", "name", "description", "icon", "position", "active"]

    def create(self, validated_data):
        return services.category_create(actor=self._user(), data=validated_data)

    def update(self, instance, validated_data):
        return services.category_update(category=instance, actor=self._user(), data=validated_data)


# --- Items --------------------------------------------------------------------------------------


class FormFieldConditionSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The name of an earlier field.")
    value = serializers.CharField(
        allow_blank=True, help_text='Shown when that field\'s value, as a string, is this ("true"/"false" '
        "for a checkbox)."
    )


class FormFieldSerializer(serializers.Serializer):
    """One field of an item's form (documentation of the shape; ``catalog.formdef`` validates)."""

    name = serializers.CharField(help_text="Machine name, ^[a-z][a-z0-9_]{0,49}$, unique in the form.")
    label = serializers.CharField()
    type = serializers.ChoiceField(choices=FIELD_TYPES)
    required = serializers.BooleanField(required=False, default=False)
    options = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Dropdown and radio only (required there)."
    )
    default_value = serializers.JSONField(
        required=False, help_text="A string (a boolean for a checkbox), itself valid for the type; "
        "required for hidden fields, whose default is always what is submitted."
    )
    help_text = serializers.CharField(required=False, allow_blank=True)
    condition = FormFieldConditionSerializer(
        required=False, allow_null=True, help_text="Show the field only when an earlier field has a value."
    )


@extend_schema_field(FormFieldSerializer(many=True))
class FormFieldsField(serializers.JSONField):
    """The item's form as a list of field definitions, validated whole by ``catalog.formdef``."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError("Expected a list of field definitions.")
        return super().to_internal_value(data)


class ApprovalLevelSerializer(WholeItemSerializer):
    """One approval level: its approvers are ``users`` and/or the active members of ``group``;
    ``any`` one of them, or ``every`` one, decides the level."""

    users = PolicyRelatedField(
        many=True, queryset=User.objects.filter(is_active=True), required=False, default=list
    )
    group = PolicyRelatedField(queryset=AssignmentGroup.objects.all(), allow_null=True, required=False, default=None)

    class Meta:
        model = ApprovalLevel
        fields = ["position", "mode", "users", "group"]
        extra_kwargs = {"position": {"required": False}}


class TaskTemplateSerializer(WholeItemSerializer):
    """One request task made on fulfilment, for ``assignment_group`` (none: the item's
    fulfilment group)."""

    assignment_group = PolicyRelatedField(
        queryset=AssignmentGroup.objects.all(), allow_null=True, required=False, default=None
    )

    class Meta:
        model = TaskTemplate
        fields = ["position", "short_description", "description", "assignment_group"]
        extra_kwargs = {"position": {"required": False}, "description": {"required": False}}


class CatalogItemSerializer(NestedPolicySerializer):
    """A catalog item with its form (``form_fields``), its approval levels in order (none: no
    approval needed) and the task templates its fulfilment creates. Written whole by the item
    services: each of the three lists, when given, replaces the item's. """

    NESTED = ("form_fields", "approval_levels", "task_templates")

    form_fields = FormFieldsField(required=False, help_text=FORM_FIELDS_ERRORS)
    approval_levels = ApprovalLevelSerializer(many=True, required=False)
    task_templates = TaskTemplateSerializer(many=True, required=False)

    class Meta:
        model = CatalogItem
        fields = [
            "id", "category", "name", "description", "icon", "active", "fulfilment_group", "priority",
            "form_fields", "approval_levels", "task_templates", "created_at", "updated_at", "version",
        ]  # fmt: skip

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if "form_fields" in data and not self._schema_only():
            data["form_fields"] = selectors.form_for(self._user(), data["form_fields"])
        return data

    def get_fields(self):
        fields = super().get_fields()
        # Who decides and who fulfils is the desk's business: customers read the item and its form.
        if not self._schema_only():
            for name, model in (("approval_levels", ApprovalLevel), ("task_templates", TaskTemplate)):
                if not policy.can(self._user(), "read", model):
                    fields.pop(name, None)
        return fields

    def create(self, validated_data):
        data, nested = self.split(validated_data)
        with _levels_named_as_here():
            return services.item_create(
                actor=self._user(), data=data, form_fields=nested.get("form_fields", []),
                levels=nested.get("approval_levels", []), task_templates=nested.get("task_templates", []),
            )  # fmt: skip

    def update(self, instance, validated_data):
        data, nested = self.split(validated_data)
        with _levels_named_as_here():
            return services.item_update(
                item=instance, actor=self._user(), data=data, form_fields=nested.get("form_fields"),
                levels=nested.get("approval_levels"), task_templates=nested.get("task_templates"),
                expected_version=self._if_match(),
            )  # fmt: skip


@contextmanager
def _levels_named_as_here():
    """The item services name the levels ``levels[i]``; here the list is ``approval_levels``."""
    try:
        yield
    except InvalidInput as exc:
        fields = {re.sub(r"^levels(?=$|\[)", "approval_levels", key): value for key, value in exc.fields.items()}
        raise InvalidInput(exc.message, fields=fields) from exc


# --- Requests -----------------------------------------------------------------------------------


class ApprovalSerializer(serializers.ModelSerializer):
    """One approver's decision on one level; people as ``policy.person_name`` names them to the
    reader (a customer reads the desk's people as "Service desk")."""

    approver = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = RequestApproval
        fields = ["level", "approver", "decision", "reason", "decided_at", "decided_by"]

    def _name(self, person, approval) -> str | None:
        return policy.person_name(self.context["request"].user, person, approval.request, nobody=None)

    def get_approver(self, approval) -> str | None:
        return self._name(approval.approver, approval)

    def get_decided_by(self, approval) -> str | None:
        return self._name(approval.decided_by, approval) if approval.decided_by_id else None


REQUEST_FIELDS = [
    "id", "number", "catalog_item", "short_description", "description", "state", "form_data",
    "approval_level", "approvals", "priority", "classification", "service", "assignment_group",
    "assignee", "requester", "requested_for", "organisation", "completion_notes", "sla_status",
    "sla_due_at", "sla_definition", "opened_at", "updated_at", "closed_at", "version",
]  # fmt: skip

# Given when a request is raised, never changed after: the item and its submission.
CREATION_ONLY = ("catalog_item", "form_data")


class RequestSerializer(PolicySerializer):
    """An ITSM request raised from a catalog item. Raise one with ``catalog_item``, ``form_data``
    (validated against the item's form: hidden fields take their default whatever is sent) and
    optionally ``requested_for`` (someone of your organisation) and ``short_description``
    (default: the item's name). Its state moves only through the actions (``approve/``,
    ``reject/``, ``fulfil/``, ``complete/``, ``cancel/``)."""

    catalog_item = PolicyRelatedField(queryset=CatalogItem.objects.all())
    form_data = serializers.JSONField(
        required=False, default=dict, help_text=f"The submitted form, as field name → value. {FORM_DATA_ERRORS}"
    )
    sla_status = LiveSlaStatusField(help_text="in_progress, at_risk, breached, met or paused; empty without clocks.")
    approvals = ApprovalSerializer(many=True, read_only=True)

    class Meta:
        model = Request
        fields = REQUEST_FIELDS
        extra_kwargs = {"short_description": {"required": False}}

    def get_fields(self):
        fields = super().get_fields()
        action = getattr(self.context.get("view"), "action", None)
        creating = self.instance is None and action not in ("update", "partial_update")
        for name in CREATION_ONLY:
            if name in fields:
                fields[name].read_only = not creating
        if "catalog_item" in fields and creating and not self._schema_only():
            fields["catalog_item"].queryset = policy.readable(self._user(), CatalogItem).filter(active=True)
        return fields

    def to_internal_value(self, data):
        if not hasattr(data, "keys"):
            return super().to_internal_value(data)
        target = self.instance if self.instance is not None else self.Meta.model
        creation = CREATION_ONLY if self.instance is None else ()
        try:
            core.check_fields(self._user(), target, {k: None for k in data if k not in creation})
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.fields) from exc
        return serializers.ModelSerializer.to_internal_value(self, data)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if "form_data" in data:  # the answers this reader may see
            data["form_data"] = selectors.answers(self._user(), instance)
        return data

    def create(self, validated_data):
        data = dict(validated_data)
        item = data.pop("catalog_item")
        form_data = data.pop("form_data", {})
        requested_for = data.pop("requested_for", None)
        return services.request_create(
            actor=self._user(), catalog_item=item, form_data=form_data, requested_for=requested_for, data=data
        )

    def update(self, instance, validated_data):
        return services.request_update(
            request=instance, actor=self._user(), data=validated_data, expected_version=self._if_match()
        )


SummarySerializer = inline_serializer(
    "RequestSummary",
    fields={
        "total": serializers.IntegerField(),
        "by_state": serializers.DictField(child=serializers.IntegerField(), help_text="Count per state."),
    },
)


class RequestTaskSerializer(TaskSerializer):
    class Meta:
        model = RequestTask
        fields = task_fields("request")


# --- Notes --------------------------------------------------------------------------------------


class NoteAuthorField(serializers.CharField):
    """A note's author as ``policy.person_name`` names it to the reader."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def get_attribute(self, instance):
        return instance

    def to_representation(self, note):
        request = self.context["request"]
        record = self.context.get("record") or note.request
        return policy.person_name(request.user, note.author, record, nobody=None)


class RequestNoteSerializer(serializers.ModelSerializer):
    author = NoteAuthorField(help_text='Username; customers read agents as "Service desk".')

    class Meta:
        model = RequestNote
        fields = ["id", "kind", "author", "body", "created_at", "updated_at"]
        read_only_fields = ["id", "author", "created_at", "updated_at"]
        extra_kwargs = {"body": {"max_length": NOTE_MAX}, "kind": {"required": False}}


class RequestNoteEditInput(serializers.Serializer):
    body = serializers.CharField(max_length=NOTE_MAX)


class RequestTimelineItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    type = serializers.CharField()
    actor = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    field = serializers.CharField(allow_blank=True)
    old_value = serializers.CharField(allow_blank=True)
    new_value = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True, required=False, help_text="What the journal entry says besides.")


class RequestBulkInput(bulk.BulkInput):
    """Which bulk action to take on which requests (up to 100), and with what."""

    action = serializers.ChoiceField(choices=services.BULK.names)
