"""A ModelAdmin that reads the policy for every permission and writes through the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.views.main import ERROR_FLAG
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.http import HttpResponseRedirect

from itsm import policy, services
from itsm.actions import Action, ActionTable
from itsm.errors import ItsmError
from itsm.models import WorkTask
from itsm.numbering import as_record_number
from itsm.pagination import CappedPaginator
from itsm.validators import is_possible_pk


def error_text(exc: ItsmError) -> str:
    """A service's refusal as one line: its message, then each field's problems."""
    details = "; ".join(f"{name}: {' '.join(map(str, errs))}" for name, errs in exc.fields.items())
    return f"{exc.message} {details}".strip()


def refused(request, exc: ItsmError):
    """The page again, saying why nothing was saved (once, if the save already said it)."""
    queued = getattr(getattr(request, "_messages", None), "_queued_messages", [])
    if not any(str(m.message).startswith(exc.message) for m in queued):
        messages.error(request, error_text(exc))
    messages.warning(request, "Nothing was saved.")
    return HttpResponseRedirect(request.get_full_path())


def _field_of(entry) -> str | None:
    """The field a list_display / list_filter / search_fields entry shows or filters on."""
    if isinstance(entry, str):
        return entry.split("__", 1)[0].lstrip("^=@")
    if isinstance(entry, (tuple, list)):
        return _field_of(entry[0])
    return getattr(entry, "parameter_name", None)


class RecordAutocomplete:
    """Django's autocomplete widget asking about the admin's own record type (an incident), not
    the model that declares the field (``Work``): the answer is that record type's people source
    (``ItsmAdminSite``'s autocomplete)."""

    def __init__(self, *args, model, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        attrs.update({"data-app-label": self.model._meta.app_label, "data-model-name": self.model._meta.model_name})
        return attrs


class RecordAutocompleteSelect(RecordAutocomplete, AutocompleteSelect):
    pass


class RecordAutocompleteSelectMultiple(RecordAutocomplete, AutocompleteSelectMultiple):
    pass


class PolicyChoicesMixin:
    """Related-record choices limited to what the policy lets the user pick; an autocomplete
    field asks about the admin's own record type (``RecordAutocomplete``)."""

    def _autocomplete(self, db_field, request, kwargs, widget) -> dict:
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = widget(db_field, self.admin_site, using=kwargs.get("using"), model=self.model)
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = self._autocomplete(db_field, request, kwargs, RecordAutocompleteSelect)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = policy.limit_choices(request.user, db_field.name, field.queryset)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = self._autocomplete(db_field, request, kwargs, RecordAutocompleteSelectMultiple)
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = policy.limit_choices(request.user, db_field.name, field.queryset)
        return field


VERSION = "version"

# The people, group and organisation fields of every Work record and task: typed in the admin
# with Django's autocomplete (the current value only, suggestions from ``ItsmAdminSite``'s
# policy-answered autocomplete), never a select listing every user.
WORK_PICKERS = ("assignment_group", "assignee", "requester", "requested_for", "organisation")


REFUSALS_SHOWN = 10


def _table_action(table: ActionTable, entry: Action):
    """An admin bulk action that takes ``entry`` on each selected record, each in its own
    transaction; successes are counted and each refusal reported with the service's message."""

    def run(modeladmin, request, queryset):
        succeeded, refusals = 0, []
        for obj in queryset.order_by("pk"):
            try:
                with transaction.atomic():
                    table.run(entry.name, obj, request.user)
            except ItsmError as exc:
                refusals.append(f"{obj.number}: {exc.message}")
            else:
                succeeded += 1
        meta = modeladmin.model._meta

        def count(n: int) -> str:
            return f"{n} {meta.verbose_name if n == 1 else meta.verbose_name_plural}"

        if succeeded:
            modeladmin.message_user(request, f"{entry.past} {count(succeeded)}.", messages.SUCCESS)
        if refusals:
            shown = "; ".join(refusals[:REFUSALS_SHOWN])
            more = len(refusals) - REFUSALS_SHOWN
            modeladmin.message_user(
                request,
                f"Could not {entry.name} {count(len(refusals))}: {shown}"
                + (f"; and {more} more." if more > 0 else ""),
                messages.WARNING,
            )

    run.__name__ = entry.name
    return run


class PolicyModelAdmin(PolicyChoicesMixin, admin.ModelAdmin):
    """Admin pages for a record type declared in ``itsm.policy``.

    The queryset is the policy's readable rows; add/change/delete follow ``policy.can``;
    fields the user may not write are shown read-only and hidden fields not at all; saving and
    deleting go through the record's service: ``create_record`` / ``update_record`` /
    ``delete_record``, the generic ``itsm.services`` unless a domain admin points them at its
    own (the one its API uses), so the journal records every change and every rule holds. The
    change form of a versioned record carries the version the editor loaded; a save after
    someone else's change is refused as the API refuses it (409), not silently overwritten. A
    refusal only the service can see rolls the admin's transaction back and comes back as a
    message on the page, never a 500.
    """

    system_values: tuple[str, ...] = ()  # fields the add form may set although not "editable"
    # A task's parent (``incident``, ``request``…): chosen on the add form among the records the
    # user may read, as the API takes it from the URL, and passed to the service apart.
    parent_field: str | None = None
    action_table: ActionTable | None = None  # its ``admin`` entries become bulk actions
    # A million incidents: count up to 1,000 ("more than 1,000"), never the whole table twice.
    paginator = CappedPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        return policy.readable(request.user, self.model, super().get_queryset(request))

    def _impossible_keys(self, params) -> list[str]:
        """Query-string lookups on a record key that no row can have (an id past 64 bits):
        the database driver would crash on them rather than find nothing."""
        bad = []
        for key, value in params.items():
            try:
                field = self.model._meta.get_field(key.split("__", 1)[0])
            except FieldDoesNotExist:
                continue
            target = field.related_model if field.is_relation else (self.model if field.primary_key else None)
            values = str(value).split(",") if key.endswith("__in") else [value]
            if target is not None and any(v and not is_possible_pk(target, v) for v in values):
                bad.append(key)
        return bad

    def changelist_view(self, request, extra_context=None):
        if self._impossible_keys(request.GET):  # as Django answers any other bad lookup
            return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
        return super().changelist_view(request, extra_context)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        for key in self._impossible_keys(initial):
            del initial[key]
        return initial

    def get_actions(self, request):
        """Besides Django's, the record's action-table entries marked for the admin, for those
        the policy lets take them (the same table the API and the desk are made from)."""
        actions = super().get_actions(request)
        for entry in (self.action_table or {}).values():
            if entry.admin and policy.can(request.user, entry.policy_action, self.model):
                actions[entry.name] = (_table_action(self.action_table, entry), entry.name, entry.admin)
        return actions

    def has_module_permission(self, request):
        return policy.is_declared(self.model) and policy.can(request.user, "read", self.model)

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, "read", obj if obj is not None else self.model)

    def has_add_permission(self, request):
        return policy.can(request.user, "create", self.model)

    def has_change_permission(self, request, obj=None):
        return policy.can(request.user, "update", obj if obj is not None else self.model)

    def has_delete_permission(self, request, obj=None):
        return policy.can(request.user, "delete", obj if obj is not None else self.model)

    # Hidden fields are dropped from columns, filters and search, and refused as query-string
    # lookups, so none of them leaks through a column, a filter's choices or a search match.
    def _visible(self, request, entries):
        hidden = policy.hidden_fields(request.user, self.model)
        return [entry for entry in entries if _field_of(entry) not in hidden]

    def get_list_display(self, request):
        return self._visible(request, super().get_list_display(request))

    def get_list_filter(self, request):
        return self._visible(request, super().get_list_filter(request))

    def get_search_results(self, request, queryset, search_term):
        """A whole record number finds that record on the unique index (see the API's search)."""
        number = as_record_number(search_term)
        fields = [f.lstrip("^=@$") for f in self.get_search_fields(request)]
        if number is not None and "number" in fields:
            return queryset.filter(number=number), False
        return super().get_search_results(request, queryset, search_term)

    def get_search_fields(self, request):
        return self._visible(request, super().get_search_fields(request))

    def lookup_allowed(self, lookup, value, request):
        if lookup.split("__", 1)[0] in policy.hidden_fields(request.user, self.model):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_exclude(self, request, obj=None):
        hidden = policy.hidden_fields(request.user, self.model)
        return [*(super().get_exclude(request, obj) or ()), *sorted(hidden)]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.name == self.parent_field:
            field.queryset = policy.readable(request.user, db_field.related_model, field.queryset)
        return field

    def get_readonly_fields(self, request, obj=None):
        declared = list(super().get_readonly_fields(request, obj))
        if obj is None and not self.has_add_permission(request):
            return declared
        writable = policy.writable_fields(request.user, obj if obj is not None else self.model)
        names = [
            f.name
            for f in self.model._meta.get_fields()
            if (f.concrete or f.many_to_many)
            and getattr(f, "editable", True)
            and f.name not in ("id", "work_ptr")
        ]
        hidden = policy.hidden_fields(request.user, self.model)
        readonly = declared + [
            n for n in names if n not in writable and n not in hidden and n not in declared
        ]
        if obj is None and self.parent_field:
            readonly = [n for n in readonly if n != self.parent_field]
        return readonly

    def is_versioned(self) -> bool:
        return any(f.name == VERSION and f.concrete for f in self.model._meta.get_fields())

    def _checks_version(self, request, obj) -> bool:
        return obj is not None and self.is_versioned() and self.has_change_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        fields = (
            kwargs["fields"] if "fields" in kwargs else flatten_fieldsets(self.get_fieldsets(request, obj))
        )
        if fields is not None:
            kwargs["fields"] = [name for name in fields if name != VERSION]
        form = super().get_form(request, obj, change, **kwargs)
        if not self._checks_version(request, obj):
            return form
        # The version the editor loaded travels with the form, so a later save can tell.
        field = forms.IntegerField(widget=forms.HiddenInput, initial=obj.version, min_value=1)
        return type(form.__name__, (form,), {VERSION: field})

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._checks_version(request, obj) or VERSION in flatten_fieldsets(fieldsets):
            return fieldsets
        (name, options), *rest = fieldsets
        return [(name, {**options, "fields": [*options["fields"], VERSION]}), *rest]

    def save_model(self, request, obj, form, change):
        # Only what the user set: a field left as the form offered it is the service's to fill
        # (an incident's priority from the matrix, a requester from the actor), as in the API.
        names = set(form.cleaned_data) & set(form.changed_data)
        data = {name: form.cleaned_data[name] for name in names if name != VERSION}
        try:
            if change:
                saved = self.update_record(request, obj, data, form.cleaned_data.get(VERSION))
            else:
                saved = self.create_record(request, data)
        except ItsmError as exc:
            messages.error(request, error_text(exc))
            raise  # rolls back the admin's transaction; changeform_view shows the page again
        obj.pk = saved.pk
        obj.refresh_from_db()

    # The doors to the record's service; a domain admin points them at its own.

    def create_record(self, request, data: dict):
        data = dict(data)
        system = {k: v for k, v in self.creation_values(request).items() if k not in data}
        if self.parent_field:
            parent = data.pop(self.parent_field, None)
            if parent is not None and issubclass(self.model, WorkTask):
                return services.task_create(parent=parent, model=self.model, actor=request.user, data=data)
            system[self.parent_field] = parent
        return services.record_create(model=self.model, actor=request.user, data=data, **system)

    def update_record(self, request, obj, data: dict, expected_version: int | None):
        if isinstance(obj, WorkTask):
            return services.task_update(task=obj, actor=request.user, data=data, expected_version=expected_version)
        return services.record_update(
            obj=obj, actor=request.user, data=data, expected_version=expected_version
        )

    def delete_record(self, request, obj) -> None:
        services.record_delete(obj=obj, actor=request.user)

    def save_related(self, request, form, formsets, change):
        # Many-to-many fields were written by the service; inlines are saved as usual.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ItsmError as exc:
            return self._refused(request, exc)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ItsmError as exc:
            return self._refused(request, exc)

    def _refused(self, request, exc: ItsmError):
        return refused(request, exc)

    def creation_values(self, request) -> dict:
        """Values the generic ``create_record`` sets unless the form gave them (the requester…)."""
        return {}

    def delete_model(self, request, obj):
        self.delete_record(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_record(request, obj)


class PolicyInline(PolicyChoicesMixin, admin.TabularInline):
    """Inline rows whose permissions come from the policy of the inline's own record type."""

    extra = 0

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, "read", self.model)

    def has_add_permission(self, request, obj=None):
        return policy.can(request.user, "create", self.model)

    def has_change_permission(self, request, obj=None):
        return policy.can(request.user, "update", self.model)

    def has_delete_permission(self, request, obj=None):
        return policy.can(request.user, "delete", self.model)


class ServiceInlinesMixin:
    """For a ``PolicyModelAdmin`` with ``PolicyInline`` rows: each added, changed or deleted row
    goes through ``itsm.services`` (policy-checked, validated, journaled), not a raw save.

    The forms catch what they can; a refusal only the service can see (e.g. a row another
    administrator added meanwhile) rolls the whole save back and comes back as a message on
    the page, never a 500."""

    def save_formset(self, request, form, formset, change):
        parent = formset.instance
        fk_name = formset.fk.name
        # What the admin's history message reads (formset.save would have set them).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            obj = row.instance
            if formset.can_delete and formset._should_delete_form(row):
                if obj.pk is not None:
                    services.record_delete(obj=type(obj)._default_manager.get(pk=obj.pk), actor=request.user)
                    formset.deleted_objects.append(obj)
                continue
            if obj.pk is None and not row.has_changed():
                continue
            names = [
                n for n in row.changed_data if n in row.cleaned_data and n not in ("id", fk_name, "DELETE")
            ]
            data = {name: row.cleaned_data[name] for name in names}
            if obj.pk is None:
                saved = services.record_create(
                    model=formset.model, actor=request.user, data={**data, fk_name: parent}
                )
                obj.pk = saved.pk
                formset.new_objects.append(saved)
            elif data:
                services.record_update(obj=obj, actor=request.user, data=data)
                formset.changed_objects.append((obj, names))
