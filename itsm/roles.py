"""Platform roles, which roles include which, and the persona bundles (SPEC §3).

A user holds roles through ``UserRole`` rows; what counts everywhere is the *effective*
set: the held roles plus everything they include. Superusers hold every role.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models


class Role(models.TextChoices):
    PLATFORM_SELFSERVICE = "platform_selfservice", "Platform self-service"
    PLATFORM_AGENT = "platform_agent", "Platform agent"
    ITSM_AGENT = "itsm_agent", "ITSM agent"
    ITSM_MANAGER = "itsm_manager", "ITSM manager"
    ITSM_ADMINISTRATOR = "itsm_administrator", "ITSM administrator"
    KNOWLEDGE_EDITOR = "knowledge_editor", "Knowledge editor"
    KNOWLEDGE_MANAGER = "knowledge_manager", "Knowledge manager"
    CMDB_VIEWER = "cmdb_viewer", "CMDB viewer"
    CMDB_MANAGER = "cmdb_manager", "CMDB manager"
    CMDB_ADMINISTRATOR = "cmdb_administrator", "CMDB administrator"
    APPLICATION_ADMINISTRATOR = "application_administrator", "Application administrator"


# Each role and the roles it directly includes.
INCLUDES: dict[str, frozenset[str]] = {
    Role.ITSM_ADMINISTRATOR: frozenset({Role.ITSM_MANAGER}),
    Role.ITSM_MANAGER: frozenset({Role.ITSM_AGENT}),
    Role.ITSM_AGENT: frozenset({Role.PLATFORM_AGENT}),
    Role.PLATFORM_AGENT: frozenset({Role.PLATFORM_SELFSERVICE}),
    Role.KNOWLEDGE_MANAGER: frozenset({Role.KNOWLEDGE_EDITOR}),
    Role.CMDB_ADMINISTRATOR: frozenset({Role.CMDB_MANAGER}),
    Role.CMDB_MANAGER: frozenset({Role.CMDB_VIEWER}),
}


class Persona(models.TextChoices):
    IT_SERVICE_MANAGER = "it_service_manager", "IT service manager"
    TEAM_LEADER = "team_leader", "Service desk team leader"
    L2_AGENT = "l2_agent", "IT service desk agent (level 2/3)"
    L1_AGENT = "l1_agent", "Level 1 support agent"
    EVERYONE = "everyone", "Any other user"


# The roles seed 004 recommends for each persona (written out in full, as the seed does).
PERSONAS: dict[str, frozenset[str]] = {
    Persona.IT_SERVICE_MANAGER: frozenset(
        {
            Role.KNOWLEDGE_MANAGER,
            Role.KNOWLEDGE_EDITOR,
            Role.ITSM_ADMINISTRATOR,
            Role.ITSM_MANAGER,
            Role.ITSM_AGENT,
            Role.APPLICATION_ADMINISTRATOR,
            Role.CMDB_ADMINISTRATOR,
            Role.CMDB_MANAGER,
            Role.CMDB_VIEWER,
            Role.PLATFORM_SELFSERVICE,
            Role.PLATFORM_AGENT,
        }
    ),
    Persona.TEAM_LEADER: frozenset(
        {
            Role.KNOWLEDGE_EDITOR,
            Role.PLATFORM_SELFSERVICE,
            Role.PLATFORM_AGENT,
            Role.ITSM_MANAGER,
            Role.ITSM_AGENT,
            Role.CMDB_MANAGER,
            Role.CMDB_VIEWER,
        }
    ),
    Persona.L2_AGENT: frozenset(
        {
            Role.KNOWLEDGE_EDITOR,
            Role.PLATFORM_AGENT,
            Role.PLATFORM_SELFSERVICE,
            Role.CMDB_MANAGER,
            Role.CMDB_VIEWER,
            Role.ITSM_AGENT,
        }
    ),
    Persona.L1_AGENT: frozenset(
        {Role.PLATFORM_SELFSERVICE, Role.PLATFORM_AGENT, Role.ITSM_AGENT, Role.CMDB_VIEWER}
    ),
    Persona.EVERYONE: frozenset({Role.PLATFORM_SELFSERVICE}),
}

ALL_ROLES: frozenset[str] = frozenset(Role.values)


def closure(roles: Iterable[str]) -> frozenset[str]:
    """The given roles and every role they include, transitively."""
    result: set[str] = set()
    pending = list(roles)
    while pending:
        role = pending.pop()
        if role in result:
            continue
        result.add(role)
        pending.extend(INCLUDES.get(role, ()))
    return frozenset(result)


def minimal(roles: Iterable[str]) -> frozenset[str]:
    """The smallest set of roles whose closure equals the closure of ``roles``."""
    full = closure(roles)
    implied = set().union(*(closure(INCLUDES.get(r, ())) for r in full)) if full else set()
    return frozenset(full - implied)


def effective_roles(user) -> frozenset[str]:
    """The user's effective roles, read from the database once per user object.

    ``request.user`` is a fresh object on every request, so this is once per request; the
    signed-in user's come with its row and cost no query here (``itsm.auth``).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_itsm_effective_roles", None)
    if cached is not None:
        return cached
    # A lazy queryset: a superuser's grants are never read.
    return remember_roles(user, user.role_grants.values_list("role", flat=True))


def remember_roles(user, held: Iterable[str]) -> frozenset[str]:
    """Caches on ``user``, and answers, the effective roles of the role codes it holds (read
    with the user row by ``itsm.auth``, for many users by ``load_roles``, or by
    ``effective_roles``): nothing for an inactive user, every role for a superuser."""
    if not user.is_active:
        roles = frozenset()
    else:
        roles = ALL_ROLES if user.is_superuser else closure(held)
    user._itsm_effective_roles = roles
    return roles


def load_roles(users: Iterable) -> None:
    """Read the effective roles of many users in one query and cache them on each object as
    ``effective_roles`` does: for code about to ask the policy about each of a group's members
    (who is told of a request, whose name a message may carry) without a query per person."""
    pending = {
        user.pk: user for user in users
        if user is not None and user.is_active and getattr(user, "_itsm_effective_roles", None) is None
    }  # fmt: skip
    if not pending:
        return
    model = next(iter(pending.values()))
    grants: dict[int, list[str]] = {pk: [] for pk in pending}
    related = type(model).role_grants.rel.related_model
    for user_id, role in related.objects.filter(user_id__in=list(pending)).values_list("user_id", "role"):
        grants[user_id].append(role)
    for pk, user in pending.items():
        remember_roles(user, grants[pk])


def forget_roles(user) -> None:
    """Drop the cached effective roles after the user's grants changed."""
    if hasattr(user, "_itsm_effective_roles"):
        del user._itsm_effective_roles
