"""Catalog admin pages. Every permission comes from the policy (``catalog/rules.py``); every save
goes through ``catalog.services`` — the functions the API, the desk and the portal call — so the
form definition is validated the same way here (its errors name the field at fault), a request
is raised with its form data checked against the item's form, and the journal records it all.
Request transitions are the action table's (``catalog.actions``)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from catalog import services
from catalog.actions import ACTIONS
from catalog.formdef import error_fields, validate_definition, validate_submission
from catalog.models import (
    ApprovalLevel,
    CatalogCategory,
    CatalogItem,
    Request,
    RequestApproval,
    RequestNote,
    RequestState,
    RequestTask,
    TaskTemplate,
)
from itsm import policy
from itsm.admin_base import WORK_PICKERS, PolicyChoicesMixin, PolicyModelAdmin
from itsm.errors import ItsmError


class ReadOnlyInline(admin.TabularInline):
    """Rows the services write (decisions, notes): shown on the request, never edited here."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, "read", obj if obj is not None else Request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Categories -------------------------------------------------------------------------------


@admin.register(CatalogCategory)
class CatalogCategoryAdmin(PolicyModelAdmin):
    list_display = ["name", "icon", "position", "active"]
    list_filter = ["active"]
    search_fields = ["name"]

    def create_record(self, request, data):
        return services.category_create(actor=request.user, data=data)

    def update_record(self, request, obj, data, expected_version):
        return services.category_update(category=obj, actor=request.user, data=data)


# --- Items ------------------------------------------------------------------------------------


class FormFieldsJSONField(forms.JSONField):
    """The item's form as JSON (a list of field definitions), checked by
    ``catalog.formdef.validate_definition``: each error names the field at fault."""

    widget = forms.Textarea(attrs={"rows": 14, "cols": 100, "spellcheck": "false"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            'A list of fields, e.g. [{"name": "laptop_model", "label": "Laptop model", "type": "dropdown", '
            '"required": true, "options": ["13-inch", "15-inch"]}]. The form builder edits it without JSON.',
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in (None, ""):
            return []
        if not isinstance(value, list):
            raise ValidationError("Give a list of field definitions: [ {…}, {…} ].", code="invalid")
        try:
            return validate_definition(value)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise ValidationError(
                    [f"{where}: {message}" for where, messages in exc.message_dict.items() for message in messages]
                ) from None
            raise

    def has_changed(self, initial, data):
        try:
            return (initial or []) != self.to_python(data)
        except ValidationError:
            return True


class CatalogItemForm(forms.ModelForm):
    form_fields = FormFieldsJSONField(label="Form fields")

    class Meta:
        model = CatalogItem
        fields = ["category", "name", "description", "icon", "active", "fulfilment_group", "priority", "form_fields"]


class LevelForm(forms.ModelForm):
    class Meta:
        model = ApprovalLevel
        fields = ["position", "mode", "users", "group"]

    def clean(self):
        data = super().clean()
        if not self.cleaned_data.get("DELETE") and not data.get("users") and not data.get("group"):
            raise ValidationError("Give the level approvers: users, a group, or both.")
        return data


class ItemRowInline(PolicyChoicesMixin, admin.TabularInline):
    """A row of an item written whole by the item services with the item (never on its own)."""

    extra = 0

    def _may(self, request) -> bool:
        return policy.can(request.user, "update", CatalogItem) or policy.can(request.user, "create", CatalogItem)

    def has_view_permission(self, request, obj=None):
        # The row's own rule (levels and templates name people and groups: agents only).
        return policy.can(request.user, "read", self.model)

    def has_add_permission(self, request, obj=None):
        return self._may(request)

    def has_change_permission(self, request, obj=None):
        return self._may(request)

    def has_delete_permission(self, request, obj=None):
        return self._may(request)


class ApprovalLevelInline(ItemRowInline):
    model = ApprovalLevel
    form = LevelForm
    fields = ["position", "mode", "users", "group"]
    autocomplete_fields = ["users", "group"]
    verbose_name = "approval level"


class TaskTemplateInline(ItemRowInline):
    model = TaskTemplate
    fields = ["position", "short_description", "description", "assignment_group"]
    autocomplete_fields = ["assignment_group"]
    verbose_name = "fulfilment task"


def _rows(formset, names: list[str]) -> list[dict]:
    """The formset's rows as the item services take them, in ``position`` order; deleted and
    untouched blank rows left out."""
    rows = []
    for row in formset.forms:
        if not hasattr(row, "cleaned_data") or not row.cleaned_data or row.cleaned_data.get("DELETE"):
            continue
        if row.instance.pk is None and not row.has_changed():
            continue
        rows.append({name: row.cleaned_data.get(name) for name in names})
    for index, row in enumerate(sorted(rows, key=lambda r: (r.get("position") or 0)), start=1):
        row["position"] = row.get("position") or index
    return sorted(rows, key=lambda r: r["position"])


@admin.register(CatalogItem)
class CatalogItemAdmin(PolicyModelAdmin):
    """Items: the details, approval levels and fulfilment tasks on one page, saved together by
    ``item_create`` / ``item_update``; the form as validated JSON, with a link to the desk's form
    builder, which edits it without JSON."""

    form = CatalogItemForm
    list_display = ["name", "category", "active", "priority", "fulfilment_group", "updated_at"]
    list_filter = ["active", "category"]
    list_select_related = ["category", "fulfilment_group"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["fulfilment_group"]
    readonly_fields = ["form_builder"]
    inlines = [ApprovalLevelInline, TaskTemplateInline]
    actions = ["deactivate_items", "activate_items"]

    def _each(self, request, queryset, service, past: str) -> None:
        done = 0
        for item in queryset.order_by("pk"):
            try:
                with transaction.atomic():
                    service(item=item, actor=request.user)
            except ItsmError as exc:
                self.message_user(request, f"{item}: {exc.message}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, f"{past} {done} catalog item(s).", messages.SUCCESS)

    @admin.action(description="Withdraw the selected items from the catalog")
    def deactivate_items(self, request, queryset):
        self._each(request, queryset, services.item_deactivate, "Withdrew")

    @admin.action(description="Offer the selected items in the catalog again")
    def activate_items(self, request, queryset):
        self._each(request, queryset, services.item_activate, "Offered")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not policy.can(request.user, "update", CatalogItem):
            actions.pop("deactivate_items", None)
            actions.pop("activate_items", None)
        return actions

    @admin.display(description="Form builder")
    def form_builder(self, obj):
        if obj is None or obj.pk is None:
            return "Save the item first; then build its form in the desk's form builder."
        try:
            url = reverse("desk:catalog-item-fields", args=[obj.pk])
        except NoReverseMatch:
            return "The desk's form builder is not installed."
        return format_html('<a href="{}">Edit the form in the desk\'s form builder</a>', url)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # The form is written through the item services, like the levels and tasks.
        if policy.can(request.user, "update" if obj is not None else "create", obj or CatalogItem):
            readonly = [name for name in readonly if name != "form_fields"]
        return readonly

    def save_model(self, request, obj, form, change):
        # Saved with the inlines in save_related: the item and its rows are one service call.
        request._catalog_item_form = (form, change)

    def save_related(self, request, form, formsets, change):
        form, change = request._catalog_item_form
        names = set(form.changed_data) & set(form.cleaned_data)
        data = {name: form.cleaned_data[name] for name in names if name not in ("form_fields", "version")}
        form_fields = form.cleaned_data.get("form_fields") if "form_fields" in names or not change else None
        levels = templates = None
        for formset in formsets:
            # What the admin's history message reads (formset.save would have set them).
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if formset.model is ApprovalLevel and (formset.has_changed() or not change):
                levels = _rows(formset, ["position", "mode", "users", "group"])
                levels = [{**row, "users": list(row["users"] or [])} for row in levels]
            elif formset.model is TaskTemplate and (formset.has_changed() or not change):
                templates = _rows(formset, ["position", "short_description", "description", "assignment_group"])
        if change:
            saved = services.item_update(
                item=form.instance, actor=request.user, data=data, form_fields=form_fields, levels=levels,
                task_templates=templates, expected_version=form.cleaned_data.get("version"),
            )  # fmt: skip
        else:
            saved = services.item_create(
                actor=request.user, data=data, form_fields=form_fields or [], levels=levels or [],
                task_templates=templates or [],
            )  # fmt: skip
        form.instance.pk = saved.pk
        form.instance.refresh_from_db()


# --- Requests ---------------------------------------------------------------------------------


class StateFilter(admin.SimpleListFilter):
    """Every request state with its label, not only the values present in the table."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return RequestState.choices

    def queryset(self, request, queryset):
        if self.value() in RequestState.values:
            return queryset.filter(state=self.value())
        return queryset


class ApprovalInline(ReadOnlyInline):
    model = RequestApproval
    fields = ["level", "approver", "decision", "reason", "decided_at", "decided_by"]
    readonly_fields = fields
    verbose_name = "approval"

    def get_queryset(self, request):
        # Only the decisions the reader may read (agents all, an approver its own), as the API.
        queryset = super().get_queryset(request).select_related("approver", "decided_by")
        return policy.readable(request.user, RequestApproval, queryset)


class NoteInline(ReadOnlyInline):
    model = RequestNote
    fields = ["created_at", "kind", "author", "body"]
    readonly_fields = fields
    verbose_name = "note"

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("author")
        if "work_journal" in policy.hidden_fields(request.user, Request):
            queryset = queryset.filter(kind=RequestNote.Kind.COMMENT)
        return queryset


class RequestAddForm(forms.ModelForm):
    """Raising a request here is raising it from its item, as in the portal: the item and the
    submitted form (JSON), checked by the request service against the item's form."""

    form_data = forms.JSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text='The form as field name → value, e.g. {"laptop_model": "13-inch"}.',
    )

    def clean_form_data(self):
        value = self.cleaned_data.get("form_data")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise ValidationError('Give the form as an object: {"field_name": "value", …}.', code="invalid")
        return value

    def clean(self):
        # The item's form says what is wrong here too, each fault naming its field (the request
        # service checks the same again, with the same function, when it saves).
        data = super().clean()
        item, answers = data.get("catalog_item"), data.get("form_data")
        if item is not None and isinstance(answers, dict):
            try:
                validate_submission(item.form_fields, answers)
            except ValidationError as exc:
                self.add_error(
                    "form_data",
                    [f"{key}: {message}" for key, messages in error_fields(exc).items() for message in messages],
                )
        return data


@admin.register(Request)
class RequestAdmin(PolicyModelAdmin):
    """Requests: raised through ``request_create`` (from an item, with its form data), edited
    through ``request_update``; transitions through the action table."""

    list_display = [
        "number", "short_description", "catalog_item", "state", "priority", "requester", "assignment_group",
        "assignee", "opened_at",
    ]  # fmt: skip
    list_filter = [StateFilter, "priority", "assignment_group"]
    list_select_related = ["catalog_item", "requester", "assignment_group", "assignee"]
    search_fields = ["number", "short_description"]
    autocomplete_fields = WORK_PICKERS
    show_full_result_count = False
    action_table = ACTIONS
    inlines = [ApprovalInline, NoteInline]

    @admin.display(description="Form data")
    def submitted_form(self, obj):
        return json.dumps(obj.form_data, indent=2, ensure_ascii=False) if obj and obj.pk else ""

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            # form_data is the add form's own field (the model's column is the service's to write).
            kwargs["form"] = RequestAddForm
            fields = kwargs["fields"] if "fields" in kwargs else flatten_fieldsets(self.get_fieldsets(request, obj))
            if fields is not None:
                kwargs["fields"] = [name for name in fields if name != "form_data"]
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f not in ("form_data", "submitted_form")]
        if obj is None:
            return ["catalog_item", "form_data", *[f for f in fields if f != "catalog_item"]]
        return [*fields, "submitted_form"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return [name for name in readonly if name != "catalog_item"]
        return [*[name for name in readonly if name != "submitted_form"], "catalog_item", "submitted_form"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.name == "catalog_item":
            field.queryset = policy.readable(request.user, CatalogItem).filter(active=True)
            field.required = True
        return field

    def get_inline_instances(self, request, obj=None):
        # Read-only rows: a save has nothing in them to bind or validate.
        if request.method == "POST" or obj is None:
            return []
        return super().get_inline_instances(request, obj)

    def create_record(self, request, data):
        data = dict(data)
        item = data.pop("catalog_item")
        form_data = data.pop("form_data", {}) or {}
        requested_for = data.pop("requested_for", None)
        return services.request_create(
            actor=request.user, catalog_item=item, form_data=form_data, requested_for=requested_for, data=data
        )

    def update_record(self, request, obj, data, expected_version):
        return services.request_update(request=obj, actor=request.user, data=data, expected_version=expected_version)


@admin.register(RequestTask)
class RequestTaskAdmin(PolicyModelAdmin):
    list_display = ["number", "short_description", "request", "state", "assignment_group", "assignee", "opened_at"]
    list_filter = ["state"]
    list_select_related = ["request", "assignment_group", "assignee"]
    search_fields = ["number", "short_description"]
    autocomplete_fields = WORK_PICKERS
    raw_id_fields = ["request"]
    parent_field = "request"
