from django.db import models


class ServiceTier(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class HostGroup(models.Model):
    """A set of configuration items sharing a service tier and an SLA."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    service_tier = models.CharField(max_length=10, choices=ServiceTier.choices, default=ServiceTier.MEDIUM)
    sla = models.ForeignKey(
        "itsm.SlaDefinition", null=True, blank=True, on_delete=models.SET_NULL, related_name="host_groups"
    )
    organisation = models.ForeignKey(
        "itsm.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="host_groups"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Host(models.Model):
    """A configuration item monitored or worked on."""

    hostname = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    host_group = models.ForeignKey(
        HostGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="hosts"
    )
    organisation = models.ForeignKey(
        "itsm.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="hosts"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname


class HostGroupDependency(models.Model):
    """``dependent`` needs ``depends_on``: an outage of ``depends_on`` affects ``dependent``."""

    dependent = models.ForeignKey(HostGroup, on_delete=models.CASCADE, related_name="dependencies")
    depends_on = models.ForeignKey(HostGroup, on_delete=models.CASCADE, related_name="dependents")
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dependent", "depends_on"], name="unique_host_group_dependency"),
            models.CheckConstraint(
                condition=~models.Q(dependent=models.F("depends_on")), name="host_group_not_own_dependency"
            ),
        ]
        ordering = ["dependent", "depends_on"]
        verbose_name_plural = "host group dependencies"

    def __str__(self) -> str:
        return f"{self.dependent} → {self.depends_on}"
