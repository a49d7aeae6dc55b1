"""The one access policy: every door and service asks these functions, nothing else decides.

* ``can(user, action, target)`` — may ``user`` create/read/update/delete (or take a named
  action such as ``cancel``) on a record or, given a model class, on records of that kind.
* ``readable(user, model)`` — the queryset of rows the user may read: one SQL query, no
  per-row Python, whatever the number of grants.
* ``hidden_fields`` / ``readable_fields`` / ``writable_fields`` — field-level security.
* ``has_permission(user, "incidents.manage")`` — the named permissions of seed 000.
"""

from __future__ import annotations

from functools import cache

from django.db import models
from django.db.models import Exists, OuterRef, Q

from itsm.roles import ALL_ROLES, closure, effective_roles

from .rules import AGENT, ALL, ALL_RULES, OWN, PERMISSIONS, RecordRules, Update

CRUD = ("create", "read", "update", "delete")
# Fields nobody writes through a plain update: they follow from transitions and services.
SYSTEM_FIELDS = frozenset(
    {"id", "pk", "number", "kind", "state", "opened_at", "updated_at", "closed_at", "version", "work_ptr"}
)


class PolicyMissing(LookupError):
    """A model has no declared rules: nothing may be done to it through a door."""


def _label(target) -> str:
    return target._meta.label_lower


def rules_for(target) -> RecordRules:
    try:
        return ALL_RULES[_label(target)]
    except KeyError:
        raise PolicyMissing(f"No access rules are declared for {_label(target)}.") from None


def is_declared(target) -> bool:
    return _label(target) in ALL_RULES


def has_permission(user, permission: str) -> bool:
    """Whether the user holds a named permission such as ``incidents.manage``."""
    holders = PERMISSIONS.get(permission)
    if holders is None:
        raise PolicyMissing(f"Unknown permission {permission!r}.")
    return bool(holders & effective_roles(user))


def _holds(user, role_or_permission: str) -> bool:
    if role_or_permission in PERMISSIONS:
        return has_permission(user, role_or_permission)
    return role_or_permission in effective_roles(user)


# --- Reading rows ---------------------------------------------------------------------------


def _grant_exists(user, model, codename: str) -> Exists:
    from guardian.utils import get_user_obj_perms_model

    perm_model = get_user_obj_perms_model(model)
    if getattr(perm_model.objects, "is_generic", lambda: True)():
        from django.contrib.contenttypes.models import ContentType
        from django.db.models.functions import Cast

        grants = perm_model.objects.filter(
            content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
            object_pk=Cast(OuterRef("pk"), models.CharField()),
        )
    else:
        grants = perm_model.objects.filter(content_object=OuterRef("pk"))
    return Exists(grants.filter(user=user, permission__codename=codename))


def readable(user, model, queryset: models.QuerySet | None = None) -> models.QuerySet:
    """Rows of ``model`` the user may read (narrowing ``queryset`` if given)."""
    qs = model._default_manager.all() if queryset is None else queryset
    if not is_declared(model):
        return qs.none()
    roles = effective_roles(user)
    condition: Q | None = None
    for read in rules_for(model).read:
        if read.role not in roles:
            continue
        if read.scope == ALL and not read.where:
            return qs
        own = Q()
        if read.scope != ALL:
            for via in read.via:
                own |= Q(**{f"{via}_id": user.pk})
            if read.grant:
                own |= Q(_grant_exists(user, model, read.grant))
        for name, values in read.where:
            own &= Q(**{f"{name}__in": sorted(values)})
        condition = own if condition is None else condition | own
    if condition is None:
        return qs.none()
    return qs.filter(condition)


def _is_own_via(user, obj, vias) -> bool:
    return any(getattr(obj, f"{via}_id", None) == user.pk for via in vias)


def _holds_grant(user, obj, codename: str) -> bool:
    """Whether a grant row exists for this user and object (a superuser is not every approver)."""
    if not getattr(user, "is_authenticated", False):
        return False
    model = type(obj)
    return model._default_manager.filter(pk=obj.pk).filter(_grant_exists(user, model, codename)).exists()


def is_own(user, obj) -> bool:
    """Whether ``obj`` is the user's own through a people field of an OWN read rule."""
    roles = effective_roles(user)
    return any(
        read.role in roles and read.scope == OWN and _is_own_via(user, obj, read.via)
        for read in rules_for(obj).read
    )


def read_rule_fields(model) -> frozenset[str]:
    """The fields ``is_readable`` looks at on a row of ``model``: the people fields of its read
    rules and the fields of their conditions (a list that loads only some columns loads these)."""
    return frozenset(
        name for read in rules_for(model).read for name in (*read.via, *(field for field, _ in read.where))
    )


def is_readable(user, obj) -> bool:
    if not is_declared(obj):
        return False
    roles = effective_roles(user)
    for read in rules_for(obj).read:
        if read.role not in roles or not read.matches(obj):
            continue
        if read.scope == ALL or _is_own_via(user, obj, read.via):
            return True
        if read.grant and _holds_grant(user, obj, read.grant):
            return True
    return False


# --- Acting on rows -------------------------------------------------------------------------


def _update_rules(user, obj, state: str | None, *, creating: bool = False) -> list[Update]:
    """The update rules that let this user update ``obj`` in ``state``."""
    roles = effective_roles(user)
    rules = rules_for(obj)
    applicable = []
    for rule in rules.update:
        if rule.role not in roles or (state is not None and state in rule.unless_states):
            continue
        if (
            rule.fields is not None
            and not creating
            and not _is_own_via(
                user, obj, [v for read in rules.read if read.role == rule.role for v in read.via]
            )
        ):
            # A restricted (self-service) update applies only to the user's own records,
            # not to records merely shared with it.
            continue
        applicable.append(rule)
    return applicable


def can(user, action: str, target) -> bool:
    """May ``user`` take ``action`` on ``target`` (a model instance, or a model class)?"""
    if not is_declared(target):
        return False
    rules = rules_for(target)
    roles = effective_roles(user)
    is_instance = isinstance(target, models.Model)
    if action == "create":
        return bool(rules.create & roles)
    if action == "read":
        if is_instance:
            return is_readable(user, target)
        return any(read.role in roles for read in rules.read)
    if action == "update":
        if not is_instance:
            return any(rule.role in roles for rule in rules.update)
        return is_readable(user, target) and bool(_update_rules(user, target, getattr(target, "state", None)))
    if action == "delete":
        if not is_instance:
            return bool(rules.delete & roles)
        return bool(rules.delete & roles) and is_readable(user, target)
    acts = rules.actions.get(action)
    if acts is None:
        return False
    if not is_instance:
        return any(_holds(user, act.role) for act in acts)
    return any(_act_allows(user, act, target) for act in acts)


def _act_allows(user, act, target, *, any_state: bool = False) -> bool:
    """Whether ``act`` lets ``user`` act on ``target`` (``any_state``: were it in any state)."""
    if not _holds(user, act.role):
        return False
    if not any_state and act.states is not None and target.state not in act.states:
        return False
    if act.own and not is_own(user, target):
        return False
    if act.via and not _is_own_via(user, target, act.via):
        return False
    if act.grant and not _holds_grant(user, target, act.grant):
        return False
    return is_readable(user, target)


def refused_in_state(user, action: str, obj) -> bool:
    """Whether the record's state is what stops ``user`` from ``action`` on ``obj``: it may not
    now, but would in another state (a closed incident an agent may no longer edit or assign).
    The doors say so instead of a bare refusal."""
    if not is_declared(obj) or not hasattr(obj, "state") or can(user, action, obj):
        return False
    if action == "update":
        return is_readable(user, obj) and bool(_update_rules(user, obj, None))
    return any(_act_allows(user, act, obj, any_state=True) for act in rules_for(obj).actions.get(action, ()))


# --- Fields ---------------------------------------------------------------------------------


def model_field_names(model) -> frozenset[str]:
    return _field_names(model if isinstance(model, type) else type(model))


@cache
def _field_names(model) -> frozenset[str]:
    # The parent link and the search document are columns, not fields of the record.
    internal = {"work_ptr", "search_text", "search_vector", "search_head"}
    return frozenset(f.name for f in model._meta.get_fields() if f.concrete or f.many_to_many) - internal


def hidden_fields(user, target) -> frozenset[str]:
    """Fields the user never reads on records of this kind (SPEC §4 self-service lists)."""
    if not is_declared(target):
        return model_field_names(target)
    roles = effective_roles(user)
    hidden_sets = [read.hidden for read in rules_for(target).read if read.role in roles]
    if not hidden_sets:
        return model_field_names(target) | frozenset().union(
            *(read.hidden for read in rules_for(target).read)
        )
    return frozenset.intersection(*hidden_sets)


def readable_fields(user, target) -> frozenset[str]:
    """Model fields the user may read on ``target`` (an instance it may read, or a model)."""
    if isinstance(target, models.Model) and not is_readable(user, target):
        return frozenset()
    return model_field_names(target) - hidden_fields(user, target)


def writable_fields(user, target) -> frozenset[str]:
    """Fields the user may write: on an instance, by updating it; on a model, when creating."""
    if not is_declared(target):
        return frozenset()
    rules = rules_for(target)
    creating = not isinstance(target, models.Model)
    if creating:
        if not can(user, "create", target):
            return frozenset()
        state = rules.initial_state or None
    else:
        if not can(user, "update", target):
            return frozenset()
        state = getattr(target, "state", None)
    editable = frozenset(rules.editable) - SYSTEM_FIELDS
    readable = model_field_names(target) - hidden_fields(user, target)
    result: set[str] = set()
    for rule in _update_rules(user, target, state, creating=creating):
        if rule.fields is None:
            fields = set(editable)
        else:
            fields = {name for name, states in rule.fields.items() if states is None or state in states}
        for name, gate in rule.gates.items():
            blocked = state not in gate.states or (
                not creating and any(getattr(target, unset, None) for unset in gate.unset)
            )
            if blocked:
                fields.discard(name)
        result |= fields
    return frozenset(result & readable & editable)


def limit_choices(user, field_name: str, queryset: models.QuerySet) -> models.QuerySet:
    """The values a user may pick for a relation (a customer names people of its own
    organisation as requested_for; agents pick anyone)."""
    if AGENT in effective_roles(user):
        return queryset
    if queryset.model._meta.label_lower == "itsm.user":
        org_id = getattr(user, "organisation_id", None)
        return queryset.filter(organisation_id=org_id) if org_id else queryset.filter(pk=user.pk)
    return readable(user, queryset.model, queryset)


# How people who do not work the desk see the desk's people act: as the desk, not by name.
DESK_NAME = "Service desk"
SYSTEM_NAME = "system"


def person_name(reader, person, record, *, nobody: str | None = SYSTEM_NAME) -> str | None:
    """The one answer to "who did this?" (a note's author, a journal entry's actor) for
    ``reader`` on ``record``. Agents, who pick any person (``limit_choices``), read usernames, and
    ``nobody`` for the system. Anyone else reads itself and the record's own people (the people
    fields of its OWN read rules: requester, requested-for) by name, and everyone else — agents,
    the system — as "Service desk": who works a record is not theirs to see (SPEC §4 hides the
    assignee, the group and the collaborators from them)."""
    if AGENT in effective_roles(reader):
        return person.get_username() if person is not None else nobody
    if person is not None:
        own = {getattr(record, f"{via}_id", None) for read in rules_for(record).read for via in read.via}
        if person.pk == reader.pk or person.pk in own:
            return person.get_full_name() or person.get_username()
    return DESK_NAME


def names_people(reader) -> bool:
    """Whether ``reader`` sees people by their usernames (``person_name``)."""
    return AGENT in effective_roles(reader)


def can_edit_note(user, note) -> bool:
    """Only a note's author, or an ITSM administrator, edits or deletes it."""
    from .rules import NOTE_EDITORS

    if note.author_id is not None and note.author_id == user.pk:
        return True
    return bool(NOTE_EDITORS & effective_roles(user))


def roles_with_permission(permission: str) -> list[str]:
    """The roles that grant a named permission (directly or through the roles they include)."""
    holders = PERMISSIONS[permission]
    return [role for role in sorted(ALL_ROLES) if closure([role]) & holders]


def users_with_permission(permission: str) -> models.QuerySet:
    """Active users holding a named permission (through any role that includes a holder),
    as one query — e.g. the people an incident may be assigned to."""
    from django.contrib.auth import get_user_model

    granting = roles_with_permission(permission)
    users = get_user_model()
    grants = users.role_grants.rel.related_model.objects.filter(role__in=granting).values("user_id")
    # A semi-join (IN), not a join with DISTINCT: no duplicate to remove, no sort of every user.
    return users.objects.filter(is_active=True).filter(Q(is_superuser=True) | Q(pk__in=grants))
