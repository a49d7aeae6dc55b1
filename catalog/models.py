"""The service catalog (SPEC §5, issue 15): categories and items with a form, approval levels
and fulfilment task templates; the request raised from an item (ITSM Work, REQ numbers), its
approvals, its tasks (TASK numbers) and its notes.

What the workflows and services derive (the form snapshot, the approval level being decided,
the approvals' decisions) is ``editable=False``: no form or serializer writes it, only
``catalog.workflows`` / ``catalog.services``.
"""

import hashlib
import json

from django.conf import settings
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from catalog.formdef import FieldType, validate_definition  # noqa: F401 — FieldType is the models' vocabulary too
from itsm import notes
from itsm.models import Priority, Work, WorkKind, WorkTask


class RequestState(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    IN_FULFILMENT = "in_fulfilment", "In fulfilment"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class ApprovalMode(models.TextChoices):
    ANY = "any", "Any one approver"
    EVERY = "every", "Every approver"


class Decision(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SKIPPED = "skipped", "Skipped"


class CatalogCategory(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    icon = models.CharField(max_length=40, blank=True, help_text="An icon name or an emoji.")
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "catalog category"
        verbose_name_plural = "catalog categories"

    def __str__(self) -> str:
        return self.name


class CatalogItem(models.Model):
    """Something customers may request: its form (``form_fields``, validated by
    ``catalog.formdef.validate_definition``), its approval levels and its fulfilment tasks."""

    category = models.ForeignKey(CatalogCategory, on_delete=models.PROTECT, related_name="items")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    icon = models.CharField(max_length=40, blank=True, help_text="An icon name or an emoji.")
    active = models.BooleanField(default=True)
    fulfilment_group = models.ForeignKey(
        "itsm.AssignmentGroup", null=True, blank=True, on_delete=models.PROTECT, related_name="catalog_items"
    )
    priority = models.CharField(
        max_length=2, choices=Priority.choices, default=Priority.P4,
        help_text="The priority of its requests (and so their SLA).",
    )  # fmt: skip
    form_fields = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["category__position", "category__name", "name", "id"]
        verbose_name = "catalog item"
        indexes = [
            models.Index(fields=["category", "active", "name"], name="catalog_item_category_active"),
            models.Index(fields=["active", "name"], name="catalog_item_active_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        self.form_fields = validate_definition(self.form_fields)


class ApprovalLevel(models.Model):
    """One level of an item's approval: its users and/or the active members of its group
    decide, any one of them or every one. Levels are decided in ``position`` order."""

    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="approval_levels")
    position = models.PositiveSmallIntegerField(default=1)
    mode = models.CharField(max_length=5, choices=ApprovalMode.choices, default=ApprovalMode.ANY)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    group = models.ForeignKey(
        "itsm.AssignmentGroup", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["item", "position"]
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="approval_level_unique_position")
        ]

    def __str__(self) -> str:
        return f"Level {self.position} of {self.item_id} ({self.mode})"


class TaskTemplate(models.Model):
    """A request task fulfilment creates, in ``position`` order, for its group (or the item's
    fulfilment group)."""

    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="task_templates")
    position = models.PositiveSmallIntegerField(default=1)
    short_description = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    assignment_group = models.ForeignKey(
        "itsm.AssignmentGroup", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["item", "position", "id"]

    def __str__(self) -> str:
        return self.short_description


class FormVersion(models.Model):
    """A form as requests answered it: one row per distinct definition of an item (``digest``
    of its fields), written when the first request answers it. A request points at its version
    rather than carrying a copy (half a million requests would otherwise hold half a million
    copies of a few dozen forms), and editing the item never changes what an older request shows."""

    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="form_versions")
    digest = models.CharField(max_length=64)
    fields = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "digest"], name="form_version_unique")]

    def __str__(self) -> str:
        return f"Form of {self.item_id} ({self.digest[:8]})"

    @staticmethod
    def digest_of(fields) -> str:
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


class RequestManager(models.Manager):
    """Every request query says ``kind = 'request'`` so PostgreSQL uses the Work indexes that
    begin with ``kind`` (as ``Change.objects``)."""

    def get_queryset(self):
        return super().get_queryset().filter(kind=WorkKind.REQUEST)


class Request(Work):
    """An ITSM request raised from a catalog item."""

    KIND = WorkKind.REQUEST
    NUMBER_PREFIX = "REQ"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_request"
    )

    # Null only for requests older than the catalog (and records made directly in tests).
    catalog_item = models.ForeignKey(
        CatalogItem, null=True, blank=True, on_delete=models.PROTECT, related_name="requests", db_index=False
    )
    form_data = models.JSONField(default=dict, blank=True, editable=False)
    form_version = models.ForeignKey(
        FormVersion, null=True, blank=True, editable=False, on_delete=models.PROTECT, related_name="requests",
        db_index=False,
    )
    approval_level = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    classification = models.CharField(max_length=40, blank=True)
    service = models.CharField(max_length=120, blank=True)
    completion_notes = models.TextField(blank=True)

    objects = RequestManager()

    class Meta:
        permissions = [("approve_request", "Approves this request (single-user share)")]
        verbose_name = "ITSM request"
        # Built concurrently on PostgreSQL (catalog migration 0005): the table grows large.
        indexes = [
            models.Index(fields=["catalog_item"], name="request_catalog_item"),
            models.Index(fields=["form_version"], name="request_form_version"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"

    @property
    def form_snapshot(self) -> list[dict]:
        """The form's fields as the request answered them (select_related ``form_version``)."""
        return self.form_version.fields if self.form_version_id else []


class RequestTask(WorkTask):
    KIND = WorkKind.REQUEST_TASK
    PARENT = "request"
    ASSIGNEE_PERMISSION = "service_requests.manage"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_request_task"
    )

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="tasks")


class RequestApproval(models.Model):
    """One approver's decision on one level of a request (``decided_by`` differs from the
    approver when an agent decided the level for everyone)."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="approvals")
    level = models.PositiveSmallIntegerField()
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="request_approvals")
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["request", "level", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "level", "approver"], name="request_approval_unique")
        ]
        indexes = [
            models.Index(fields=["approver", "decision"], name="request_approval_approver"),
            models.Index(fields=["request", "level", "decision"], name="request_approval_level"),
        ]

    def __str__(self) -> str:
        return f"{self.approver_id} on {self.request_id} level {self.level}: {self.decision}"


NOTE_MAX = notes.NOTE_MAX


class RequestNote(models.Model):
    """A comment (the customer-visible conversation) or a work note (agents only)."""

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        WORK_NOTE = "work_note", "Work note"

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "kind", "created_at"], name="note_request_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.request_id} by {self.author_id}"


class RequestUserObjectPermission(UserObjectPermissionBase):
    """Single-user shares of one request (its approvers), as django-guardian direct grants."""

    content_object = models.ForeignKey(Request, on_delete=models.CASCADE)


class RequestGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Request, on_delete=models.CASCADE)
