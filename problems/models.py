from django.db import models

from itsm.models import Work, WorkKind, WorkTask


class ProblemState(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    RCA_SUBMITTED = "rca_submitted", "RCA submitted"
    CHANGE_CREATED = "change_created", "Change created"
    VERIFIED = "verified", "Verified"
    CLOSED = "closed", "Closed"


class Problem(Work):
    """The underlying cause of one or more incidents."""

    KIND = WorkKind.PROBLEM
    NUMBER_PREFIX = "PRB"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_problem"
    )

    is_known_error = models.BooleanField(default=False)
    workaround = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"


class ProblemTask(WorkTask):
    KIND = WorkKind.PROBLEM_TASK
    PARENT = "problem"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_problem_task"
    )

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="tasks")
