from django.conf import settings
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models, router
from django.db.models import Value

from itsm.models import Work, WorkKind, WorkTask


class ProblemState(models.TextChoices):
    NEW = "new", "New"
    INVESTIGATING = "investigating", "Investigating"
    RCA_SUBMITTED = "rca_submitted", "RCA submitted"
    RCA_REJECTED = "rca_rejected", "RCA rejected"
    CHANGE_CREATED = "change_created", "Change created"
    VERIFIED = "verified", "Verified"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class Level(models.IntegerChoices):
    """Impact and urgency, as on incidents (the same priority matrix)."""

    HIGH = 1, "1 — high"
    MEDIUM = 2, "2 — medium"
    LOW = 3, "3 — low"


class ProblemManager(models.Manager):
    """Every problem query says ``kind = 'problem'`` (true of every row anyway), so PostgreSQL
    reads problems from the Work indexes that start with ``kind`` (``work_kind_opened`` for the
    queue's newest first) instead of walking a million incidents' ``opened_at`` to find them."""

    def get_queryset(self):
        return super().get_queryset().filter(kind=WorkKind.PROBLEM)


class Problem(Work):
    """The underlying cause of one or more incidents."""

    KIND = WorkKind.PROBLEM
    NUMBER_PREFIX = "PRB"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_problem"
    )

    symptoms = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    workaround = models.TextField(blank=True)
    category = models.CharField(max_length=60, blank=True)
    impact = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.LOW)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.LOW)
    hosts = models.ManyToManyField("itsm.Host", blank=True, related_name="problems")
    host_groups = models.ManyToManyField("itsm.HostGroup", blank=True, related_name="problems")
    is_known_error = models.BooleanField(default=False)
    # Kept exact by the linking service (counted in the database, in the locked transaction).
    incident_count = models.PositiveIntegerField(default=0, editable=False)
    affected_host_count = models.PositiveIntegerField(default=0, editable=False)

    # Root-cause analysis (RCA): submitted, then approved (one change per corrective item) or
    # rejected with review notes; verified once the changes are done. Written by the workflows.
    rca_summary = models.TextField(blank=True, editable=False)
    rca_confidence = models.DecimalField(
        max_digits=3, decimal_places=2, null=True, blank=True, editable=False,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )  # fmt: skip
    # [{"title": "…", "description": "…"}, …]
    corrective_plan = models.JSONField(default=list, blank=True, editable=False)
    rca_submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        editable=False,
    )  # fmt: skip
    rca_submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    rca_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        editable=False,
    )  # fmt: skip
    rca_reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    review_notes = models.TextField(blank=True, editable=False)
    verification_notes = models.TextField(blank=True, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The known error database's document on PostgreSQL (``problems.selectors``): the English
    # ``tsvector`` of the title (weight A), symptoms and root cause (B) and workaround (C), kept by
    # ``save``; stored because the title lives in the parent table, so no generated column or
    # expression index can hold it. NULL on SQLite, which searches the fields themselves. Not a
    # record field: no door shows it (``itsm.policy`` leaves it out of every field list).
    search_vector = SearchVectorField(null=True, blank=True, editable=False)

    objects = ProblemManager()

    # The text fields ``search_text`` holds (the queue's word search).
    SEARCHED = (*Work.SEARCHED, "symptoms", "root_cause", "workaround")
    # The fields of ``search_vector`` and their weights, in order (the rank depends on it).
    WEIGHTED = (("short_description", "A"), ("symptoms", "B"), ("root_cause", "B"), ("workaround", "C"))

    class Meta:
        indexes = [
            # The known error database lists known errors, newest first.
            models.Index(
                fields=["-work_ptr"], name="problem_known_error", condition=models.Q(is_known_error=True)
            ),
            models.Index(fields=["category"], name="problem_category"),
        ]

    def save(self, *args, **kwargs):
        """Keeps ``search_vector`` in step with the fields it holds (on PostgreSQL), also on a
        partial save; computed by the database from this record's values."""
        update_fields = kwargs.get("update_fields")
        weighted = {name for name, _ in self.WEIGHTED}
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        if connections[using].vendor != "postgresql" or not (
            update_fields is None or set(update_fields) & weighted
        ):
            return super().save(*args, **kwargs)
        self.search_vector = self.search_vector_expression()
        if update_fields is not None:
            kwargs["update_fields"] = [*update_fields, "search_vector"]
        super().save(*args, **kwargs)
        # Not the expression, nor a query to read the vector back: nothing in Python reads it,
        # and every save that writes it computes it afresh.
        self.search_vector = None

    def search_vector_expression(self):
        vectors = [
            SearchVector(Value(getattr(self, name) or ""), config="english", weight=weight)
            for name, weight in self.WEIGHTED
        ]
        document = vectors[0]
        for vector in vectors[1:]:
            document = document + vector
        return document


def search_vector_sql(problem: str = "p", work: str = "w") -> str:
    """``Problem.search_vector`` as SQL over a problem row ``problem`` joined to its Work row
    ``work``: the document ``save`` computes, for bulk writers (``seed_bulk``)."""
    parent = {f.name for f in Work._meta.concrete_fields}
    return " || ".join(
        f"setweight(to_tsvector('english'::regconfig, COALESCE({work if name in parent else problem}.{name}, '')),"
        f" '{weight}')"
        for name, weight in Problem.WEIGHTED
    )


class ProblemTask(WorkTask):
    KIND = WorkKind.PROBLEM_TASK
    PARENT = "problem"
    ASSIGNEE_PERMISSION = "problems.manage"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_problem_task"
    )

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="tasks")


class ProblemNote(models.Model):
    """A work note on a problem (agents only, like the problem): written through
    ``problems.services`` (``problem_note_add`` / ``_edit`` / ``_delete``), journaled."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["problem", "created_at"], name="problem_note_problem")]

    def __str__(self) -> str:
        return f"Note on {self.problem_id} by {self.author_id}"
