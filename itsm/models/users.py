from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from itsm.roles import Role


class User(AbstractUser):
    """A person or service account. Customers belong to one organisation; agents to none or one."""

    organisation = models.ForeignKey(
        "itsm.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class UserRole(models.Model):
    """One role held by one user; included roles follow from ``itsm.roles.INCLUDES``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=40, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_user_role")]
        ordering = ["role"]
        verbose_name = "role grant"

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"
