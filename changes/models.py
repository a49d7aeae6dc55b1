from django.db import models

from itsm.models import Work, WorkKind, WorkTask


class ChangeState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted to CAB"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    IMPLEMENTING = "implementing", "Implementing"
    REVIEW = "review", "Post-implementation review"
    CLOSED = "closed", "Closed"


class ChangeType(models.TextChoices):
    STANDARD = "standard", "Standard"
    NORMAL = "normal", "Normal"
    EMERGENCY = "emergency", "Emergency"


class CabDecision(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class SourceType(models.TextChoices):
    MANUAL = "manual", "Raised by hand"
    PROBLEM = "problem", "Corrective action of a problem"
    INCIDENT = "incident", "Emergency change for an incident"


class Change(Work):
    """A planned change to a service, approved by the CAB unless standard."""

    KIND = WorkKind.CHANGE
    NUMBER_PREFIX = "CHG"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_change"
    )

    change_type = models.CharField(max_length=10, choices=ChangeType.choices, default=ChangeType.NORMAL)
    cab_decision = models.CharField(max_length=10, choices=CabDecision.choices, blank=True)
    cab_notes = models.TextField(blank=True)
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    source_type = models.CharField(
        max_length=10, choices=SourceType.choices, default=SourceType.MANUAL, editable=False
    )
    problem = models.ForeignKey(
        "problems.Problem", null=True, blank=True, on_delete=models.PROTECT, related_name="changes",
        editable=False,
    )  # fmt: skip

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"


class ChangeTask(WorkTask):
    KIND = WorkKind.CHANGE_TASK
    PARENT = "change"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_change_task"
    )

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="tasks")
