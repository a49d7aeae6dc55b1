from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AuditQuerySet(models.QuerySet):
    """Append-only: rows are inserted, never updated or deleted (the database refuses too)."""

    def update(self, **kwargs):
        raise PermissionError("The audit journal is append-only.")

    def delete(self):
        raise PermissionError("The audit journal is append-only.")

    _raw_delete = delete


class AuditEntry(models.Model):
    """One thing that happened to a record: created, a field changed, a transition, deleted."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Field changed"
        TRANSITION = "transition", "Transition"
        DELETE = "delete", "Deleted"
        ATTACH = "attach", "Attached a file"
        DETACH = "detach", "Removed a file"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, help_text="The actor's username, or 'system'.")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=12, choices=Action.choices)
    field = models.CharField(max_length=64, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    transition = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit journal"
        indexes = [models.Index(fields=["content_type", "object_id", "at"], name="audit_record")]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("The audit journal is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit journal is append-only.")
