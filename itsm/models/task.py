"""The task every Work domain shares: a piece of work under an incident, request, problem or
change, with the same four states and transitions everywhere (SPEC §4: "as Incident task")."""

from django.db import models

from .work import Work


class TaskState(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class WorkTask(Work):
    """Base of each domain's task model. A child sets ``KIND``, a ``work_ptr`` with its own
    ``related_name``, and the foreign key to the record it belongs to, named in ``PARENT``."""

    NUMBER_PREFIX = "TASK"
    PARENT: str = ""  # the field naming the record the task belongs to (e.g. "incident")
    # The editable fields a task form offers, in this order, where the policy lets the user write.
    FORM_FIELDS = ("short_description", "description", "priority", "assignment_group", "assignee")
    # The named permission an assignee must hold (a domain whose desk has its own names one).
    ASSIGNEE_PERMISSION = "incidents.manage"

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"

    @property
    def parent(self) -> Work:
        return getattr(self, self.PARENT)
