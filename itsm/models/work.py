from django.conf import settings
from django.db import models


class WorkKind(models.TextChoices):
    INCIDENT = "incident", "Incident"
    INCIDENT_TASK = "incident_task", "Incident task"
    REQUEST = "request", "Request"
    REQUEST_TASK = "request_task", "Request task"
    PROBLEM = "problem", "Problem"
    PROBLEM_TASK = "problem_task", "Problem task"
    CHANGE = "change", "Change"
    CHANGE_TASK = "change_task", "Change task"


class Priority(models.TextChoices):
    P1 = "P1", "P1 — critical"
    P2 = "P2", "P2 — high"
    P3 = "P3", "P3 — moderate"
    P4 = "P4", "P4 — low"


class Work(models.Model):
    """ITSM Work: the parent row of every incident, request, problem, change and task.

    One table holds what every queue filters and sorts on, so the agents' queue over all work
    is one indexed table; each domain adds its own columns in a child table (multi-table
    inheritance) and sets ``kind``. ``state`` is written only by the domains' workflows.
    """

    number = models.CharField(max_length=16, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=WorkKind.choices, editable=False, db_index=False)
    short_description = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=20, editable=False)
    priority = models.CharField(max_length=2, choices=Priority.choices, blank=True)
    assignment_group = models.ForeignKey(
        "itsm.AssignmentGroup", null=True, blank=True, on_delete=models.PROTECT, related_name="work"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_work",
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requested_work",
    )
    requested_for = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="work_for_me"
    )
    organisation = models.ForeignKey(
        "itsm.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="work"
    )
    # SLA (see sla/clocks.py): the definition the clocks were started from, the worst status of
    # the current clocks, and the earliest due time of a running one. Kept by the clocks and the
    # sweeps, never typed, and never a reason for a version bump.
    sla_definition = models.ForeignKey(
        "itsm.SlaDefinition", null=True, blank=True, on_delete=models.SET_NULL, related_name="work",
        editable=False,
    )  # fmt: skip
    sla_status = models.CharField(max_length=12, blank=True, editable=False)
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    # The searched text fields, lower-cased in one column (kept by ``save``): one index serves
    # a search that would otherwise read text columns of two tables joined with OR. Not a
    # record field: no door shows it (``itsm.policy`` leaves it out of every field list).
    search_text = models.TextField(blank=True, default="", db_default="", editable=False)

    # Set by each child model: its kind and the prefix of its human number.
    KIND: str = ""
    NUMBER_PREFIX: str = ""
    # The text fields ``search_text`` holds; a child adds its own.
    SEARCHED: tuple[str, ...] = ("number", "short_description", "description")

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = "ITSM work"
        verbose_name_plural = "ITSM work"
        indexes = [
            models.Index(fields=["kind", "state", "-opened_at"], name="work_kind_state_opened"),
            models.Index(fields=["state", "priority", "-opened_at"], name="work_state_priority_opened"),
            models.Index(fields=["assignment_group", "state"], name="work_group_state"),
            models.Index(fields=["assignee", "state"], name="work_assignee_state"),
            models.Index(fields=["requester", "-opened_at"], name="work_requester_opened"),
            models.Index(fields=["requested_for", "-opened_at"], name="work_requested_for_opened"),
            models.Index(fields=["-opened_at", "-id"], name="work_opened"),
            # One kind's queue newest first (problems: 2 % of the rows, so not a walk through
            # the incidents' opened_at); the kinds' managers say ``kind`` in every query.
            models.Index(fields=["kind", "-opened_at", "-id"], name="work_kind_opened"),
            models.Index(fields=["-updated_at"], name="work_updated"),
            models.Index(fields=["priority", "-opened_at"], name="work_priority_opened"),
            models.Index(fields=["state", "-opened_at"], name="work_state_opened"),
            models.Index(fields=["assignee", "-opened_at"], name="work_assignee_opened"),
            models.Index(fields=["assignment_group", "-opened_at"], name="work_group_opened"),
            # The "breached" queue filter: stored breaches, and running clocks already past due.
            models.Index(fields=["sla_status", "-opened_at"], name="work_sla_status_opened"),
            models.Index(
                fields=["sla_due_at"], name="work_sla_due", condition=models.Q(sla_due_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"

    def save(self, *args, **kwargs):
        """Keeps ``search_text`` in step with the fields it holds, also on a partial save. A
        child model's row is saved with its own kind, so the Work rows of a kind are exactly
        the rows of the kind's table (the capped count relies on it: ``itsm.pagination``)."""
        if self.KIND:
            self.kind = self.KIND
        update_fields = kwargs.get("update_fields")
        if update_fields is None or set(update_fields) & set(self.SEARCHED):
            self.search_text = self.search_document()
            if update_fields is not None:
                kwargs["update_fields"] = [*update_fields, "search_text"]
        super().save(*args, **kwargs)

    def search_document(self) -> str:
        """The searched fields of this record's own kind, lower-cased. Saved as plain ``Work``
        (the Work admin), an incident still keeps its own fields in the column: they are read
        from its row."""
        kind = next((m for m in Work.__subclasses__() if self.kind == m.KIND), type(self))
        values = {name: getattr(self, name, None) for name in kind.SEARCHED if hasattr(self, name)}
        missing = [name for name in kind.SEARCHED if name not in values]
        if missing and self.pk is not None:
            values.update(kind.objects.filter(pk=self.pk).values(*missing).first() or {})
        return " ".join(str(values.get(name) or "") for name in kind.SEARCHED).lower()


class NumberSequence(models.Model):
    """The last number handed out per prefix (INC, REQ, PRB, CHG, TASK)."""

    prefix = models.CharField(max_length=8, primary_key=True)
    last = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last}"
