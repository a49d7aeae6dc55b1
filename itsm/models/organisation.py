from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


def _target(label: str):
    return models.PositiveIntegerField(
        f"{label} (minutes)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TARGET_MINUTES)],
        help_text="Business minutes; empty for no target.",
    )


# A target of at most a year of business minutes.
MAX_TARGET_MINUTES = 366 * 24 * 60


class Organisation(models.Model):
    """A customer or internal department served by this installation."""

    name = models.CharField(max_length=200, unique=True)
    is_active = models.BooleanField(default=True)
    default_sla = models.ForeignKey(
        "itsm.SlaDefinition", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SlaDefinition(models.Model):
    """A service level: a response and a resolution target per priority, in business time on a
    calendar. The account-wide default (``is_default``) applies where neither the host group
    nor the organisation names one."""

    PRIORITIES = ("P1", "P2", "P3", "P4")

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(
        "account-wide default",
        default=False,
        help_text="Used when neither host group nor organisation names an SLA.",
    )
    calendar = models.ForeignKey(
        "sla.BusinessCalendar", null=True, blank=True, on_delete=models.PROTECT, related_name="definitions",
        help_text="When the clocks run. Without one, they run 24×7 in UTC.",
    )  # fmt: skip
    p1_response_minutes = _target("P1 response")
    p1_resolution_minutes = _target("P1 resolution")
    p2_response_minutes = _target("P2 response")
    p2_resolution_minutes = _target("P2 resolution")
    p3_response_minutes = _target("P3 response")
    p3_resolution_minutes = _target("P3 resolution")
    p4_response_minutes = _target("P4 response")
    p4_resolution_minutes = _target("P4 resolution")

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA definition"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_sla"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        """The rules every door applies (the admin form and the API both run ``full_clean``):
        one account-wide default, and no response target longer than its resolution target."""
        errors: dict[str, list[str]] = {}
        if self.is_default:
            other = SlaDefinition.objects.filter(is_default=True).exclude(pk=self.pk).first()
            if other is not None:
                errors["is_default"] = [
                    f"“{other}” is already the account-wide default. Untick it there first; there is only one."
                ]
        for priority in self.PRIORITIES:
            n = priority.lower()
            response = getattr(self, f"{n}_response_minutes")
            resolution = getattr(self, f"{n}_resolution_minutes")
            if response and resolution and response > resolution:
                errors[f"{n}_response_minutes"] = [
                    f"The {priority} response target is longer than its resolution target."
                ]
        if errors:
            raise ValidationError(errors)

    def target_minutes(self, priority: str, target: str) -> int | None:
        """Minutes of business time for ``target`` (response or resolution) at ``priority``."""
        if priority not in self.PRIORITIES:
            return None
        return getattr(self, f"{priority.lower()}_{target}_minutes")


class AssignmentGroup(models.Model):
    """A team work is routed to. Leads receive escalation notifications."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="assignment_groups"
    )
    is_active = models.BooleanField(default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="GroupMembership", related_name="assignment_groups", blank=True
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GroupMembership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        LEAD = "lead", "Lead"

    group = models.ForeignKey(AssignmentGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="unique_group_member")]
        ordering = ["group", "user"]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.get_role_display()})"
