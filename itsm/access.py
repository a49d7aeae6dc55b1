"""Granting roles: the one place that writes ``UserRole`` rows (admin, command and API use it)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from itsm import audit
from itsm.models import UserRole
from itsm.roles import ALL_ROLES, PERSONAS, forget_roles


class UnknownRole(ValueError):
    pass


def _check(roles: Iterable[str]) -> list[str]:
    roles = list(roles)
    unknown = sorted(set(roles) - ALL_ROLES)
    if unknown:
        raise UnknownRole(
            f"Unknown role(s): {', '.join(unknown)}. Known roles: {', '.join(sorted(ALL_ROLES))}."
        )
    return roles


@transaction.atomic
def roles_grant(*, user, roles: Iterable[str], actor=None) -> list[str]:
    """Grant roles (idempotent); answers the roles that were newly granted."""
    roles = _check(roles)
    held = set(user.role_grants.values_list("role", flat=True))
    new = [r for r in dict.fromkeys(roles) if r not in held]
    UserRole.objects.bulk_create([UserRole(user=user, role=r) for r in new])
    if new:
        audit.log_changes(
            user, actor, [("roles", ", ".join(sorted(held)), ", ".join(sorted(held | set(new))))]
        )
    forget_roles(user)
    return new


@transaction.atomic
def roles_revoke(*, user, roles: Iterable[str], actor=None) -> list[str]:
    roles = _check(roles)
    held = set(user.role_grants.values_list("role", flat=True))
    gone = [r for r in roles if r in held]
    user.role_grants.filter(role__in=gone).delete()
    if gone:
        audit.log_changes(
            user, actor, [("roles", ", ".join(sorted(held)), ", ".join(sorted(held - set(gone))))]
        )
    forget_roles(user)
    return gone


def persona_grant(*, user, persona: str, actor=None) -> list[str]:
    """Give a user one of the five persona bundles of seed 004."""
    if persona not in PERSONAS:
        raise UnknownRole(f"Unknown persona {persona!r}. Known personas: {', '.join(sorted(PERSONAS))}.")
    return roles_grant(user=user, roles=PERSONAS[persona], actor=actor)
