from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from escalation.models import Escalating
from itsm import notes
from itsm.models import Priority, Work, WorkKind, WorkTask


class IncidentState(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class Source(models.TextChoices):
    MANUAL = "manual", "Raised by hand"
    ALERT = "alert", "Metric alert"
    EVENT = "event", "Event"
    STORM = "storm", "Cross-host storm"


class ResolutionCode(models.TextChoices):
    RESOLVED = "resolved", "Resolved"
    WORKAROUND = "workaround", "Workaround"
    DUPLICATE = "duplicate", "Duplicate"
    NOT_REPRODUCIBLE = "not_reproducible", "Not reproducible"
    BY_DESIGN = "by_design", "By design"


class Level(models.IntegerChoices):
    HIGH = 1, "1 — high"
    MEDIUM = 2, "2 — medium"
    LOW = 3, "3 — low"


class Incident(Work, Escalating):
    """An unplanned interruption or degradation of a service. Its escalation state is the
    ``Escalating`` columns (escalation/models.py)."""

    KIND = WorkKind.INCIDENT
    NUMBER_PREFIX = "INC"
    SEARCHED = (*Work.SEARCHED, "resolution_notes", "service")

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
    resolution_code = models.CharField(max_length=20, choices=ResolutionCode.choices, blank=True)
    resolution_notes = models.TextField(blank=True)
    # What the customer is told on resolving (the portal and the resolved e-mail show it); the
    # resolution notes stay the desk's (SPEC §4). Written by the resolve transition only.
    resolution_message = models.TextField(
        blank=True, help_text="What the customer is told about the resolution (optional)."
    )
    # The Escalating column, with the reverse accessor incidents always had.
    escalation_policy = models.ForeignKey(
        "escalation.EscalationPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents",
        editable=False,
    )  # fmt: skip
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When a customer commented on the incident while it was resolved (the desk's "Customer
    # replied" filter and badge); set by note_add, cleared when the incident is reopened or closed.
    customer_replied_at = models.DateTimeField(null=True, blank=True, editable=False)
    collaborators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    hosts = models.ManyToManyField("itsm.Host", blank=True, related_name="incidents")
    related_configuration_items = models.ManyToManyField("itsm.Host", blank=True, related_name="+")
    related_incidents = models.ManyToManyField("self", blank=True)
    related_problems = models.ManyToManyField("problems.Problem", blank=True, related_name="incidents")
    changes_required = models.ManyToManyField("changes.Change", blank=True, related_name="incidents")

    class Meta:
        permissions = [("follow_incident", "Follows this incident (single-user share)")]
        indexes = [
            models.Index(fields=["resolved_at"], name="incident_resolved_at"),
            # Queue filters and orderings on incident columns (the rest are on ITSM Work); sorts
            # break ties on the incident's own key (itsm.ordering.total).
            models.Index(fields=["impact", "-work_ptr"], name="incident_impact_key"),
            models.Index(fields=["urgency", "-work_ptr"], name="incident_urgency_key"),
            models.Index(fields=["source"], name="incident_source"),
            models.Index(
                fields=["major_incident"], name="incident_major", condition=models.Q(major_incident=True)
            ),
            models.Index(
                fields=["escalation_next_at"],
                name="incident_escalation_due",
                condition=models.Q(escalation_next_at__isnull=False),
            ),
            # The desk's "Customer replied" filter: the few resolved incidents a customer answered.
            models.Index(
                fields=["customer_replied_at"],
                name="incident_customer_replied",
                condition=models.Q(customer_replied_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.short_description}"


class IncidentTask(WorkTask):
    KIND = WorkKind.INCIDENT_TASK
    PARENT = "incident"

    work_ptr = models.OneToOneField(
        Work, on_delete=models.CASCADE, parent_link=True, primary_key=True, related_name="as_incident_task"
    )

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")


class IncidentUserObjectPermission(UserObjectPermissionBase):
    """Single-user shares of one incident (followers), as django-guardian direct grants."""

    content_object = models.ForeignKey(Incident, on_delete=models.CASCADE)


class IncidentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Incident, on_delete=models.CASCADE)


class PriorityMatrix(models.Model):
    """Priority for each impact × urgency pair; administrators edit it in admin."""

    impact = models.PositiveSmallIntegerField(choices=Level.choices)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices)
    priority = models.CharField(max_length=2, choices=Priority.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["impact", "urgency"], name="unique_priority_cell")]
        ordering = ["impact", "urgency"]
        verbose_name = "priority matrix cell"
        verbose_name_plural = "priority matrix"

    def __str__(self) -> str:
        return f"impact {self.impact} × urgency {self.urgency} → {self.priority}"


# The longest note (comment or work note) any door takes: incidents.services refuses longer
# ones, and the API's serializers and the desk's and portal's forms say the same.
NOTE_MAX = notes.NOTE_MAX  # one limit for every kind of note (itsm.notes)


class IncidentNote(models.Model):
    """A comment (the customer-visible conversation) or a work note (the agents' work journal)."""

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        WORK_NOTE = "work_note", "Work note"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["incident", "kind", "created_at"], name="note_incident_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.incident_id} by {self.author_id}"


class TimeEntry(models.Model):
    """Technician effort logged on an incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="time_entries")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    minutes = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(24 * 60)])
    billable = models.BooleanField(default=True)
    date = models.DateField()
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name_plural = "time entries"
        indexes = [models.Index(fields=["date", "author"], name="time_date_author")]

    def __str__(self) -> str:
        return f"{self.minutes} min on {self.incident_id}"


class CsatResponse(models.Model):
    """Customer satisfaction: one response per person per incident (a new one replaces it)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="csat_responses")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "actor"], name="one_csat_per_actor"),
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="csat_rating_1_5"),
        ]
        ordering = ["-updated_at"]
        verbose_name = "CSAT response"

    def __str__(self) -> str:
        return f"{self.rating}/5 on {self.incident_id}"


# --- Alerts (events) --------------------------------------------------------------------------


class Severity:
    """How bad the monitoring service says an alert is, worst first."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INFO = "info"
    ALL = (CRITICAL, MAJOR, MINOR, WARNING, INFO)


def severity_choices() -> list[tuple[str, str]]:
    return [(severity, severity.capitalize()) for severity in Severity.ALL]


class AlertKind(models.TextChoices):
    """What the monitoring service saw; the incident's ``source`` follows it."""

    ALERT = "alert", "Metric alert"  # Source.ALERT
    EVENT = "event", "Event"  # Source.EVENT


class AlertOutcome(models.TextChoices):
    """What receiving the alert did (``duplicate`` is never stored: a duplicate stores nothing)."""

    CREATED = "created", "Created an incident"
    ATTACHED = "attached", "Attached to the open incident of its fingerprint"
    STORM = "storm", "Created or joined a cross-host storm incident"


class Alert(models.Model):
    """One alert or event posted by a monitoring service, and the incident it is part of.

    Every accepted post is one row (a repeat of a fingerprint too), so the rows are the history
    of what the monitoring service said; ``event_key`` makes the same post answer once.
    """

    source = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=AlertKind.choices, default=AlertKind.ALERT)
    rule = models.CharField(max_length=200)
    host = models.ForeignKey("itsm.Host", on_delete=models.PROTECT, related_name="alerts")
    severity = models.CharField(max_length=10, choices=severity_choices)
    message = models.TextField()
    fingerprint = models.CharField(max_length=200)
    event_id = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    # A hash of the whole cleaned payload; cleared when an identical payload without event_id or
    # occurred_at arrives after the identical-payload window (then it is a new occurrence).
    event_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="alerts")
    outcome = models.CharField(max_length=10, choices=AlertOutcome.choices, editable=False)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # The open incident of a fingerprint: the newest alert with it.
            models.Index(fields=["source", "fingerprint", "-received_at"], name="alert_fingerprint"),
            # The storm window: a rule's alerts received in the last minutes.
            models.Index(fields=["source", "rule", "received_at"], name="alert_rule_received"),
            models.Index(fields=["-received_at", "-id"], name="alert_received"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.host_id} ({self.severity})"


class AlertLock(models.Model):
    """Lock stripes for receiving alerts: a post locks the stripes of its fingerprint and its rule
    (``SELECT … FOR UPDATE``, in stripe order), so posts that could touch the same incident queue
    behind each other while unrelated ones run side by side. A fixed number of rows, made on
    first use; nothing else is stored here."""

    stripe = models.PositiveIntegerField(primary_key=True)

    def __str__(self) -> str:
        return f"alert lock stripe {self.stripe}"
