"""Accounts and their roles: the one place that writes ``User`` accounts and ``UserRole`` rows
(admin, command and API use it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from itsm import audit, policy
from itsm.errors import InvalidInput, NotAllowed
from itsm.models import User, UserRole
from itsm.roles import ALL_ROLES, PERSONAS, forget_roles

MANAGE_ACCOUNTS = "Managing accounts takes the itsm.grant_roles permission."
SUPERUSER_ONLY = "Only a platform administrator (superuser) makes, changes or unmakes platform administrators."


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


def _account_check(actor, *, makes_superuser: bool) -> None:
    if not policy.has_permission(actor, "itsm.grant_roles"):
        raise NotAllowed(MANAGE_ACCOUNTS)
    if makes_superuser and not getattr(actor, "is_superuser", False):
        raise NotAllowed(SUPERUSER_ONLY, fields={"is_superuser": [SUPERUSER_ONLY]})


def _valid(user: User) -> None:
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise InvalidInput("The account is not valid.", fields=exc.message_dict) from exc


@transaction.atomic
def account_create(*, actor, data: Mapping[str, Any], password: str | None) -> User:
    """Open an account (``password`` None: it cannot sign in with one); journaled, without the
    password. Only a superuser makes a superuser."""
    _account_check(actor, makes_superuser=bool(data.get("is_superuser")))
    user = User(**data)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    _valid(user)
    user.save()
    audit.log_create(user, actor)
    return user


@transaction.atomic
def account_update(*, user: User, actor, data: Mapping[str, Any]) -> User:
    """Change an account's fields (never its password here); one journal row per change. Only a
    superuser changes a superuser's account (deactivates, renames it) or makes one."""
    user = User.objects.select_for_update().get(pk=user.pk)
    touches_superuser = user.is_superuser or data.get("is_superuser", user.is_superuser) != user.is_superuser
    _account_check(actor, makes_superuser=touches_superuser)
    changes = []
    for name, value in data.items():
        old = getattr(user, name)
        if old != value:
            setattr(user, name, value)
            changes.append((name, old, value))
    if not changes:
        return user
    _valid(user)
    user.save(update_fields=[name for name, _, _ in changes])
    audit.log_changes(user, actor, changes)
    return user
