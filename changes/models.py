"""Changes (SPEC §4, §5): the change record and its tasks, governance templates, maintenance
windows and change freezes, and the work notes on a change.

Fields users type are editable; what the workflows and services derive (the CAB decision, the
risk score and its factors, the impact summary, gate status, the actual times, the PIR) is
``editable=False``: no form or serializer writes it, only ``changes.workflows`` /
``changes.services``.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from itsm.models import Work, WorkKind, WorkTask


class ChangeState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted to CAB"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    IN_PROGRESS = "in_progress", "In progress"
    REVIEW = "review", "Post-implementation review"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


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


class RiskLevel(models.TextChoices):
    """SPEC §5: low 1–4, medium 5–9, high 10–16, critical 17–25."""

    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class PirOutcome(models.TextChoices):
    SUCCESSFUL = "successful", "Successful"
    PARTIALLY_SUCCESSFUL = "partially_successful", "Partially successful"
    FAILED = "failed", "Failed"
    BACKED_OUT = "backed_out", "Backed out"


class MaturityLevel(models.IntegerChoices):
    """How mature the process a template governs is (the CMMI scale, 1–5)."""

    INITIAL = 1, "1 — Initial"
    MANAGED = 2, "2 — Managed"
    DEFINED = 3, "3 — Defined"
    QUANTITATIVE = 4, "4 — Quantitatively managed"
    OPTIMISING = 5, "5 — Optimising"


DEFAULT_NOTICE_HOURS = 48


def _gate_names(value, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise ValidationError({field: "Give a list of gate names."})
    errors = []
    if any(not g.strip() for g in value):
        errors.append("A gate name cannot be blank.")
    if len({g.strip() for g in value}) != len(value):
        errors.append("Each gate is named once.")
    if any(len(g) > 100 for g in value):
        errors.append("A gate name has at most 100 characters.")
    if errors:
        raise ValidationError({field: errors})
    return value


class GovernanceTemplate(models.Model):
    """How changes that name it are governed: the gates to complete before approval, the
    notice to give, whether a standard change may be approved automatically, and whether a
    post-implementation review is required."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    maturity_level = models.PositiveSmallIntegerField(choices=MaturityLevel.choices, default=MaturityLevel.DEFINED)
    min_notice_hours = models.PositiveIntegerField(
        default=DEFAULT_NOTICE_HOURS, validators=[MaxValueValidator(24 * 366)],
        help_text="Hours between the approval and the planned start, unless an override reason is given.",
    )  # fmt: skip
    required_gates = models.JSONField(default=list, blank=True, help_text="Gates completed before approval.")
    optional_gates = models.JSONField(default=list, blank=True)
    auto_approve_max_risk = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(25)],
        help_text="A standard change scoring above this goes to the CAB (empty: no cap).",
    )  # fmt: skip
    auto_approve_risk_levels = models.JSONField(
        default=list, blank=True,
        help_text="Risk levels a standard change may be approved automatically at (empty: any).",
    )  # fmt: skip
    pir_required = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        required = _gate_names(self.required_gates, "required_gates")
        optional = _gate_names(self.optional_gates, "optional_gates")
        both = sorted(set(required) & set(optional))
        if both:
            raise ValidationError({"optional_gates": f"Gates both required and optional: {', '.join(both)}."})
        levels = self.auto_approve_risk_levels
        if not isinstance(levels, list) or not all(isinstance(v, str) for v in levels):
            raise ValidationError({"auto_approve_risk_levels": "Give a list of risk levels."})
        unknown = sorted(set(levels) - set(RiskLevel.values))
        if unknown:
            raise ValidationError(
                {"auto_approve_risk_levels": f"Unknown risk levels: {', '.join(unknown)} "
                 f"(choose from {', '.join(RiskLevel.values)})."}
            )  # fmt: skip

    @property
    def gates(self) -> list[str]:
        return [*self.required_gates, *self.optional_gates]


class ChangeManager(models.Manager):
    """Every change query says ``kind = 'change'`` (true of every row anyway) so PostgreSQL uses
    the Work indexes that begin with ``kind`` (as ``Problem.objects``)."""

    def get_queryset(self):
        return super().get_queryset().filter(kind=WorkKind.CHANGE)


class Change(Work):
    """A planned change to a service, approved by the CAB unless standard.

    ``risk_factors`` is a list of ``{"factor": name, "value": what was measured,
    "contribution": points}`` (``changes.risk``); ``impact_summary`` is the result of
    ``changes.impact.analyse``; ``gate_status`` maps a gate name to ``{"completed_at": iso,
    "completed_by": user id, "notes": str}``.
    """

    KIND = WorkKind.CHANGE
    NUMBER_PREFIX = "CHG"
    ASSIGNEE_PERMISSION = "incidents.manage"  # changes are the service desk's agents' work

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_change"
    )

    change_type = models.CharField(max_length=10, choices=ChangeType.choices, default=ChangeType.NORMAL)
    planned_start = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    actual_start = models.DateTimeField(null=True, blank=True, editable=False)
    actual_end = models.DateTimeField(null=True, blank=True, editable=False)
    implementation_plan = models.TextField(blank=True)
    backout_plan = models.TextField(blank=True)
    test_plan = models.TextField(blank=True)
    justification = models.TextField(blank=True)

    # Where it came from: by hand, a problem's corrective item, or an incident's emergency.
    source_type = models.CharField(
        max_length=10, choices=SourceType.choices, default=SourceType.MANUAL, editable=False
    )
    problem = models.ForeignKey(
        "problems.Problem", null=True, blank=True, on_delete=models.PROTECT, related_name="changes",
        editable=False,
    )  # fmt: skip
    # The linked ticket: the incident the change was raised for. ``Incident.changes_required``
    # (related name ``incidents``) also lists it, so this one is ``raised_changes``.
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.PROTECT, related_name="raised_changes",
        editable=False,
    )  # fmt: skip
    hosts = models.ManyToManyField("itsm.Host", blank=True, related_name="changes")
    host_groups = models.ManyToManyField("itsm.HostGroup", blank=True, related_name="changes")

    governance_template = models.ForeignKey(
        GovernanceTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )
    gate_status = models.JSONField(default=dict, blank=True, editable=False)
    notice_override_reason = models.TextField(blank=True)

    # The CAB decision.
    cab_decision = models.CharField(max_length=10, choices=CabDecision.choices, blank=True, editable=False)
    cab_notes = models.TextField(blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        editable=False,
    )  # fmt: skip
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Why a standard change went to the CAB instead of being approved at creation.
    routing_reason = models.TextField(blank=True, editable=False)
    # Set by a rejection that resolved the linked incident; rework reopens it and clears this.
    linked_ticket_resolved_on_rejection = models.BooleanField(default=False, editable=False)

    # Risk (changes.risk), recomputed on create, every update and the transitions that move it.
    risk_score = models.PositiveSmallIntegerField(
        null=True, blank=True, editable=False, validators=[MinValueValidator(1), MaxValueValidator(25)]
    )
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True, editable=False)
    risk_factors = models.JSONField(default=list, blank=True, editable=False)

    # Impact analysis (changes.impact), stored when asked for.
    impact_summary = models.JSONField(default=dict, blank=True, editable=False)
    impact_computed_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Post-implementation review.
    pir_required = models.BooleanField(default=False, editable=False)
    pir_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    pir_outcome = models.CharField(max_length=24, choices=PirOutcome.choices, blank=True, editable=False)
    pir_lessons = models.TextField(blank=True, editable=False)
    pir_follow_ups = models.TextField(blank=True, editable=False)
    pir_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)
    pir_overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ChangeManager()

    SEARCHED = (*Work.SEARCHED, "justification")

    class Meta:
        indexes = [
            models.Index(fields=["planned_start", "planned_end"], name="change_planned"),
            models.Index(fields=["change_type"], name="change_type"),
            models.Index(fields=["risk_level"], name="change_risk_level"),
            models.Index(fields=["source_type", "change_type"], name="change_source_type"),
            # The PIR-overdue sweep reads only reviews still owed and not yet notified.
            models.Index(
                fields=["pir_due_at"], name="change_pir_overdue",
                condition=models.Q(pir_due_at__isnull=False, pir_recorded_at__isnull=True,
                                   pir_overdue_notified_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_start__isnull=True)
                | models.Q(planned_end__isnull=True)
                | models.Q(planned_end__gt=models.F("planned_start")),
                name="change_planned_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(risk_score__isnull=True) | models.Q(risk_score__gte=1, risk_score__lte=25),
                name="change_risk_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"

    def clean(self):
        super().clean()
        if self.planned_start and self.planned_end and self.planned_end <= self.planned_start:
            raise ValidationError({"planned_end": "The planned end comes after the planned start."})

    @property
    def pir_overdue(self) -> bool:
        return bool(self.pir_due_at and not self.pir_recorded_at and self.pir_due_at < timezone.now())


class ChangeTask(WorkTask):
    KIND = WorkKind.CHANGE_TASK
    PARENT = "change"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_change_task"
    )

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="tasks")


class ChangeNote(models.Model):
    """A work note on a change (agents only, like the change): written through
    ``changes.services`` (``change_note_add`` / ``_edit`` / ``_delete``), journaled."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["change", "created_at"], name="change_note_change")]

    def __str__(self) -> str:
        return f"Note on {self.change_id} by {self.author_id}"


class Period(models.Model):
    """A span of time on the change calendar."""

    name = models.CharField(max_length=200)
    start = models.DateTimeField()
    end = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        editable=False,
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["start", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The end comes after the start."})


class MaintenanceWindow(Period):
    """An agreed time in which changes to its host groups (or to anything, without groups) may
    be carried out; shown green on the change calendar."""

    description = models.TextField(blank=True)
    host_groups = models.ManyToManyField("itsm.HostGroup", blank=True, related_name="maintenance_windows")

    class Meta(Period.Meta):
        indexes = [models.Index(fields=["start", "end"], name="maintenance_window_span")]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="maintenance_window_end_after_start")
        ]


class ChangeFreeze(Period):
    """A time in which no standard or normal change may be planned (emergencies only); it
    covers everything. Shown red on the change calendar."""

    reason = models.TextField(blank=True)

    class Meta(Period.Meta):
        verbose_name = "change freeze"
        indexes = [models.Index(fields=["start", "end"], name="change_freeze_span")]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="change_freeze_end_after_start")
        ]


def new_feed_secret() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeedToken(models.Model):
    """The secret in a person's change-calendar feed link (``changes.feeds``). Resetting it
    replaces the secret, so the old link stops working."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="change_calendar_feed"
    )
    token = models.CharField(max_length=64, default=new_feed_secret)
    reset_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Change calendar feed of {self.user}"
