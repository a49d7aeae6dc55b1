from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import reverse
from django.utils.html import format_html

from itsm import access, policy
from itsm.admin_base import PolicyInline, PolicyModelAdmin, ServiceInlinesMixin, error_text, refused
from itsm.errors import ItsmError
from itsm.models import (
    AssignmentGroup,
    Attachment,
    AuditEntry,
    GroupMembership,
    Host,
    HostGroup,
    HostGroupDependency,
    Organisation,
    SlaDefinition,
    User,
    UserRole,
    Work,
)
from itsm.pagination import CappedPaginator
from itsm.roles import Persona, effective_roles


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 1
    fields = ["role", "granted_at"]
    readonly_fields = ["granted_at"]


def _persona_action(persona: str, label: str):
    def apply(modeladmin, request, queryset):
        for user in queryset:
            access.persona_grant(user=user, persona=persona, actor=request.user)
        modeladmin.message_user(
            request, f"Gave {queryset.count()} user(s) the {label} roles.", messages.SUCCESS
        )

    apply.short_description = f"Give the “{label}” persona roles"
    apply.__name__ = f"give_persona_{persona}"
    return apply


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users and their roles. Granting roles needs the ``itsm.grant_roles`` permission."""

    inlines = [UserRoleInline]
    list_display = ["username", "email", "first_name", "last_name", "organisation", "is_active"]
    list_filter = ["is_active", "is_superuser", "organisation", "role_grants__role"]
    list_select_related = ["organisation"]
    readonly_fields = ["effective_roles", "last_login", "date_joined"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets[:2],
        ("Organisation and roles", {"fields": ["organisation", "effective_roles"]}),
        ("Status", {"fields": ["is_active", "is_superuser", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "usable_password", "password1", "password2"]}),
        ("Organisation", {"fields": ["organisation", "email", "first_name", "last_name"]}),
    ]
    actions = [_persona_action(p.value, p.label) for p in Persona]

    @admin.display(description="Effective roles (held and included)")
    def effective_roles(self, obj):
        return ", ".join(sorted(effective_roles(obj))) or "—"

    def _may_manage(self, request):
        return policy.has_permission(request.user, "itsm.grant_roles")

    def has_module_permission(self, request):
        return self._may_manage(request)

    def has_view_permission(self, request, obj=None):
        return self._may_manage(request)

    def has_add_permission(self, request):
        return self._may_manage(request)

    def has_change_permission(self, request, obj=None):
        return self._may_manage(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("is_superuser")  # only the platform administrator makes administrators
        return fields

    # Accounts are written by ``itsm.access`` (journaled, never the password), as roles are.
    CREATION_ONLY = ("usable_password", "password1", "password2")

    def save_model(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in form.cleaned_data and name not in ("password", *self.CREATION_ONLY)
        }
        try:
            if change:
                saved = access.account_update(user=obj, actor=request.user, data=data)
            else:
                usable = form.cleaned_data.get("usable_password") != "false"
                password = form.cleaned_data.get("password1") if usable else None
                saved = access.account_create(actor=request.user, data=data, password=password or None)
        except ItsmError as exc:
            messages.error(request, error_text(exc))
            raise  # rolls back the admin's transaction; changeform_view shows the page again
        obj.pk = saved.pk
        obj.refresh_from_db()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ItsmError as exc:
            return refused(request, exc)

    def save_formset(self, request, form, formset, change):
        if formset.model is not UserRole:
            return super().save_formset(request, form, formset, change)
        user = form.instance
        formset.save(commit=False)
        granted = [
            f.cleaned_data["role"]
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and f.instance.pk is None
        ]
        revoked = [obj.role for obj in formset.deleted_objects]
        if granted:
            access.roles_grant(user=user, roles=granted, actor=request.user)
        if revoked:
            access.roles_revoke(user=user, roles=revoked, actor=request.user)


@admin.register(Organisation)
class OrganisationAdmin(PolicyModelAdmin):
    list_display = ["name", "is_active", "default_sla", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["default_sla"]
    search_fields = ["name"]


class MembershipInline(PolicyInline):
    model = GroupMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(AssignmentGroup)
class AssignmentGroupAdmin(ServiceInlinesMixin, PolicyModelAdmin):
    """Groups with their members and leads; each membership added, changed or removed goes
    through the services (policy-checked, journaled on the membership)."""

    list_display = ["name", "organisation", "email", "is_active"]
    list_filter = ["is_active", "organisation"]
    list_select_related = ["organisation"]
    search_fields = ["name"]
    inlines = [MembershipInline]


class SlaDefinitionForm(forms.ModelForm):
    """The definition's fields; its rules (one default, response within resolution) are the
    model's own (``SlaDefinition.clean``), as in the API."""

    class Meta:
        model = SlaDefinition
        fields = [
            "name", "description", "is_active", "is_default", "calendar",
            *(f"p{n}_{t}_minutes" for n in range(1, 5) for t in ("response", "resolution")),
        ]  # fmt: skip


@admin.register(SlaDefinition)
class SlaDefinitionAdmin(PolicyModelAdmin):
    """Response and resolution targets per priority, in business minutes on a calendar."""

    form = SlaDefinitionForm
    list_display = ["name", "calendar", "is_default", "is_active", "p1_targets", "p4_targets"]
    list_filter = ["is_active", "is_default", "calendar"]
    list_select_related = ["calendar"]
    search_fields = ["name", "description"]
    fieldsets = [
        (None, {"fields": ["name", "description", "is_active", "is_default", "calendar"]}),
        (
            "Targets (business minutes)",
            {
                "description": "Business minutes on the calendar (480 = one 8-hour working day); "
                "leave a target empty for none.",
                "fields": [(f"p{n}_response_minutes", f"p{n}_resolution_minutes") for n in range(1, 5)],
            },
        ),
    ]

    @staticmethod
    def _targets(obj, n: int) -> str:
        response, resolution = (
            obj.target_minutes(f"P{n}", "response"),
            obj.target_minutes(f"P{n}", "resolution"),
        )
        return f"{response or '—'} / {resolution or '—'} min"

    @admin.display(description="P1 response / resolution")
    def p1_targets(self, obj) -> str:
        return self._targets(obj, 1)

    @admin.display(description="P4 response / resolution")
    def p4_targets(self, obj) -> str:
        return self._targets(obj, 4)


@admin.register(HostGroup)
class HostGroupAdmin(PolicyModelAdmin):
    list_display = ["name", "service_tier", "sla", "organisation"]
    list_filter = ["service_tier", "organisation"]
    list_select_related = ["sla", "organisation"]
    search_fields = ["name"]


@admin.register(Host)
class HostAdmin(PolicyModelAdmin):
    list_display = ["hostname", "ip_address", "host_group", "organisation", "is_active"]
    list_filter = ["is_active", "host_group", "organisation"]
    list_select_related = ["host_group", "organisation"]
    search_fields = ["hostname", "description"]


@admin.register(HostGroupDependency)
class HostGroupDependencyAdmin(PolicyModelAdmin):
    list_display = ["dependent", "depends_on", "description"]
    list_select_related = ["dependent", "depends_on"]


@admin.register(Work)
class WorkAdmin(PolicyModelAdmin):
    """The whole ITSM Work queue, for reporting; records are edited in their own sections."""

    list_display = [
        "number",
        "kind",
        "short_description",
        "state",
        "priority",
        "assignment_group",
        "assignee",
        "opened_at",
    ]
    list_filter = ["kind", "state", "priority", "opened_at"]
    list_select_related = ["assignment_group", "assignee"]
    search_fields = ["number", "short_description"]

    # Saved here, a record would skip its own service (an incident's matrix and SLA clocks).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyPolicyAdmin(admin.ModelAdmin):
    """Rows the policy lets the reader read, and nothing else: nobody adds, edits or deletes one
    here (they are written by their services only)."""

    def get_queryset(self, request):
        return policy.readable(request.user, self.model, super().get_queryset(request))

    def has_module_permission(self, request):
        return policy.can(request.user, "read", self.model)

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, "read", self.model)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyPolicyAdmin):
    """The audit journal: read-only for those the policy lets read it; nobody adds, edits or
    deletes an entry through any door."""

    list_display = ["at", "actor_label", "action", "object_repr", "field", "old_value", "new_value"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "actor_label"]
    list_select_related = ["content_type"]
    paginator = CappedPaginator  # the journal outgrows every other table
    show_full_result_count = False


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyPolicyAdmin):
    """Files on records: read-only (they are added and removed on the record's pages and API,
    through ``itsm.attachments``); each row links to the policy-checked download."""

    list_display = [
        "name",
        "record_type",
        "record_id",
        "mime_type",
        "size",
        "internal",
        "uploaded_by",
        "uploaded_at",
        "download",
    ]
    list_filter = ["mime_type", "internal", "record_type"]
    search_fields = ["name"]
    list_select_related = ["record_type", "uploaded_by"]
    fields = [
        "name",
        "record_type",
        "record_id",
        "note_type",
        "note_id",
        "internal",
        "mime_type",
        "size",
        "uploaded_by",
        "uploaded_at",
        "download",
    ]
    readonly_fields = fields
    paginator = CappedPaginator
    show_full_result_count = False

    @admin.display(description="file")
    def download(self, obj):
        return format_html('<a href="{}">Download</a>', reverse("desk:attachment-download", args=[obj.pk]))
