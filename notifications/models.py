"""What people are told: one row per person per event, shown in an agent's in-app list; the
same event is e-mailed to anyone with an address (see ``notifications/services.py``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    SLA_WARNING = "sla_warning", "SLA at risk"
    SLA_BREACHED = "sla_breached", "SLA breached"
    ESCALATED = "escalated", "Escalated"
    STAGE = "escalation_stage", "Escalation stage reached"
    RESOLVED = "incident_resolved", "Incident resolved"
    COMMENTED = "agent_commented", "New comment from the service desk"
    PROBLEM_ASSIGNED = "problem_assigned", "Problem assigned"
    RCA_SUBMITTED = "rca_submitted", "RCA submitted for review"
    RCA_APPROVED = "rca_approved", "RCA approved"
    RCA_REJECTED = "rca_rejected", "RCA rejected"
    CHANGE_SUBMITTED = "change_submitted", "Change submitted to the CAB"
    CHANGE_APPROVED = "change_approved", "Change approved"
    CHANGE_REJECTED = "change_rejected", "Change rejected"
    CHANGE_SENT_BACK = "change_sent_back", "Change needs a new CAB decision"
    EMERGENCY_CHANGE = "emergency_change", "Emergency change raised"
    PIR_OVERDUE = "pir_overdue", "Post-implementation review overdue"
    REQUEST_APPROVAL = "request_approval", "Request awaits your approval"
    REQUEST_APPROVED = "request_approved", "Request approved"
    REQUEST_REJECTED = "request_rejected", "Request rejected"
    REQUEST_READY = "request_ready", "Request ready to fulfil"
    REQUEST_TASKS = "request_tasks", "Request tasks to fulfil"
    REQUEST_COMPLETED = "request_completed", "Request completed"
    RECEIVED = "incident_received", "Incident received"
    CUSTOMER_COMMENTED = "customer_commented", "New comment from the customer"
    CUSTOMER_REPLIED = "customer_replied", "Customer replied to a resolved incident"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    work = models.ForeignKey("itsm.Work", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=255)
    body = models.TextField()
    items = models.JSONField(
        default=list,
        blank=True,
        help_text='A digest\'s records: [{"work": id, "subject": "INC0000042 breached its response SLA"}].',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recipient"),
            models.Index(
                fields=["recipient"], name="notification_unread", condition=models.Q(read_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient_id}"
