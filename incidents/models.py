from django.conf import settings
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from itsm.models import Work, WorkKind


class IncidentState(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class TaskState(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class Level(models.IntegerChoices):
    HIGH = 1, "1 — high"
    MEDIUM = 2, "2 — medium"
    LOW = 3, "3 — low"


class Incident(Work):
    """An unplanned interruption or degradation of a service."""

    KIND = WorkKind.INCIDENT
    NUMBER_PREFIX = "INC"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_incident"
    )

    impact = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.LOW)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.LOW)
    classification = models.CharField(max_length=40, blank=True)
    category = models.CharField(max_length=60, blank=True)
    subcategory = models.CharField(max_length=60, blank=True)
    service = models.CharField(max_length=120, blank=True)
    major_incident = models.BooleanField(default=False)
    major_incident_review = models.TextField(blank=True)
    major_incident_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_code = models.CharField(max_length=20, blank=True)
    resolution_notes = models.TextField(blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    collaborators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    related_incidents = models.ManyToManyField("self", blank=True)

    class Meta:
        permissions = [("follow_incident", "Follows this incident (single-user share)")]

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"


class IncidentTask(Work):
    KIND = WorkKind.INCIDENT_TASK
    NUMBER_PREFIX = "TASK"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_incident_task"
    )

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"


class IncidentUserObjectPermission(UserObjectPermissionBase):
    """Single-user shares of one incident (followers), as django-guardian direct grants."""

    content_object = models.ForeignKey(Incident, on_delete=models.CASCADE)


class IncidentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Incident, on_delete=models.CASCADE)
