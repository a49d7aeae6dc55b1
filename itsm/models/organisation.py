from django.conf import settings
from django.db import models


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
    """A named service level; its per-priority targets and calendar come with the SLA domain."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "SLA definition"

    def __str__(self) -> str:
        return self.name


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
