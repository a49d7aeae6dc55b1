"""Escalation policies: ordered stages, each with a timeout, the people it calls on (users, an
assignment group, an on-call schedule) and whether it waits for an acknowledgment.

A kind of Work escalates when its model carries the ``Escalating`` columns (incidents do) and
its lifecycle names the states in which stages move on. Such work gets a policy on creation (the
organisation's default, else the account-wide one) and enters its first stage; what its
escalation state means, and how stages advance, is in ``escalation/services.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

MAX_STAGES = 20
MAX_TIMEOUT_MINUTES = 7 * 24 * 60


class EscalationPolicy(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    organisation = models.ForeignKey(
        "itsm.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="escalation_policies",
        help_text="Empty for an account-wide policy.",
    )  # fmt: skip
    is_default = models.BooleanField(
        default=False,
        help_text="Given to new incidents of the organisation (or, account-wide, of any organisation "
        "without a default of its own).",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(is_default=True), name="one_default_policy_per_org"
            ),
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True, organisation__isnull=True),
                name="one_account_default_policy",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationStage(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="stages")
    order = models.PositiveSmallIntegerField(help_text="Stages run from the lowest order up.")
    timeout_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TIMEOUT_MINUTES)],
        help_text="Minutes before the sweep moves on to the next stage.",
    )
    requires_acknowledgment = models.BooleanField(
        default=False, help_text="If acknowledged in time, the incident stays at this stage."
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="escalation_stages")
    assignment_group = models.ForeignKey(
        "itsm.AssignmentGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalation_stages",
    )
    schedule = models.ForeignKey(
        "oncall.Schedule", null=True, blank=True, on_delete=models.PROTECT, related_name="escalation_stages",
        help_text="Whoever is on call when the stage starts is notified and assigned.",
    )  # fmt: skip

    class Meta:
        ordering = ["policy", "order"]
        constraints = [models.UniqueConstraint(fields=["policy", "order"], name="unique_stage_order")]

    def __str__(self) -> str:
        return f"{self.policy} — stage {self.order}"


class Escalating(models.Model):
    """The escalation state of a kind of Work, as columns on its own table: the level (raised
    by each SLA breach and manual escalation), the policy and the stage it is at (its order),
    when it got there, whether it was acknowledged there, and when the sweep moves it on (empty
    at the last stage, after an acknowledged stage that requires one, and once finished).

    A model that inherits it should index ``escalation_next_at`` where it is set (a partial
    index): the sweep reads only due rows."""

    escalation_level = models.PositiveSmallIntegerField(default=0, editable=False)
    # No reverse accessor by default: a model that wants one (incidents keep ``policy.incidents``)
    # declares the field again with its related_name.
    escalation_policy = models.ForeignKey(
        EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    escalation_stage = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    escalation_stage_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalation_acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalation_next_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalation_time_left = models.DurationField(
        null=True, blank=True, editable=False, help_text="On hold: how long the stage had left."
    )

    class Meta:
        abstract = True
