from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from itsm.models import Work, WorkKind, WorkTask


class RequestState(models.TextChoices):
    NEW = "new", "New"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    IN_FULFILMENT = "in_fulfilment", "In fulfilment"
    COMPLETED = "completed", "Completed"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class Request(Work):
    """An ITSM request raised from the service catalog."""

    KIND = WorkKind.REQUEST
    NUMBER_PREFIX = "REQ"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_request"
    )

    classification = models.CharField(max_length=40, blank=True)
    service = models.CharField(max_length=120, blank=True)
    completion_notes = models.TextField(blank=True)

    class Meta:
        permissions = [("approve_request", "Approves this request (single-user share)")]
        verbose_name = "ITSM request"

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"


class RequestTask(WorkTask):
    KIND = WorkKind.REQUEST_TASK
    PARENT = "request"
    ASSIGNEE_PERMISSION = "service_requests.manage"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_request_task"
    )

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="tasks")


class RequestUserObjectPermission(UserObjectPermissionBase):
    """Single-user shares of one request (its approvers), as django-guardian direct grants."""

    content_object = models.ForeignKey(Request, on_delete=models.CASCADE)


class RequestGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Request, on_delete=models.CASCADE)
