"""Generic record writes: create, update, delete under the policy, atomic and audited.

Domain services call these for plain field edits; transitions live in each domain's
``workflows.py`` and use ``audit.log_transition``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F

from itsm import audit, policy
from itsm.errors import Conflict, InvalidInput, NotAllowed, NotFound
from itsm.models import GroupMembership, Work
from itsm.numbering import next_number
from itsm.validators import check_dates

NOT_ACCEPTED = "This field is not accepted."
READ_ONLY = "This field cannot be changed here."
STATE_READ_ONLY = "The state changes only through the record's actions (resolve, cancel, …)."


def check_fields(user, target, data: Mapping[str, Any]) -> None:
    """Refuse (400) any named field the user may not write, before anything is written.

    A hidden field gets the same answer as a field that does not exist, so the answer
    reveals nothing about it.
    """
    writable = policy.writable_fields(user, target)
    readable = policy.model_field_names(target) - policy.hidden_fields(user, target)
    errors: dict[str, list[str]] = {}
    for name in data:
        if name in writable:
            continue
        if name == "state" and name in readable:
            errors[name] = [STATE_READ_ONLY]
        elif name in readable:
            errors[name] = [READ_ONLY]
        else:
            errors[name] = [NOT_ACCEPTED]
    if errors:
        raise InvalidInput("Some fields cannot be written.", fields=errors)


def _split_m2m(model, data: Mapping[str, Any]) -> tuple[dict, dict]:
    m2m_names = {f.name for f in model._meta.many_to_many}
    plain = {k: v for k, v in data.items() if k not in m2m_names}
    m2m = {k: v for k, v in data.items() if k in m2m_names}
    return plain, m2m


def _validate(obj, exclude=None) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=True, validate_constraints=True)
    except ValidationError as exc:
        raise InvalidInput("The record is not valid.", fields=exc.message_dict) from exc


def _known_valid(obj, values: Mapping[str, Any]) -> list[str]:
    """Fields whose check would only ask the database what it has just told us: a foreign key
    given as a saved instance (the service or the serializer loaded it) exists, and a Work
    number comes from its sequence (the unique index stays the backstop). Skipping them saves
    a query each on every create."""
    known = [
        field.name
        for field in obj._meta.concrete_fields
        if field.is_relation and field.many_to_one
        and isinstance(values.get(field.name), models.Model) and values[field.name].pk is not None
    ]  # fmt: skip
    if isinstance(obj, Work):
        known.append("number")
    return known


@transaction.atomic
def record_create(
    *,
    model: type[models.Model],
    actor,
    data: Mapping[str, Any],
    check: Callable[[], None] | None = None,
    **system: Any,
):
    """Create a record the actor may create, with only fields it may write.

    ``system`` carries values set by the calling service (requester, organisation, …),
    not by the user. Work records get their kind, number and initial state here. ``check`` is
    the domain's own rule on the values, run once the fields are known to be writable.
    """
    if not policy.can(actor, "create", model):
        raise NotAllowed(f"You may not create {model._meta.verbose_name_plural}.")
    check_fields(actor, model, data)
    check_dates(data)
    if check is not None:
        check()
    plain, m2m = _split_m2m(model, data)
    obj = model(**plain, **system)
    if issubclass(model, Work):
        rules = policy.rules_for(model)
        obj.kind = model.KIND
        obj.state = system.get("state", rules.initial_state)
        obj.number = next_number(model.NUMBER_PREFIX)
    _validate(obj, exclude=_known_valid(obj, {**plain, **system}))
    obj.save()
    for name, values in m2m.items():
        getattr(obj, name).set(values)
    audit.log_create(obj, actor)
    return obj


def lock(obj):
    """Reload ``obj`` with its row locked for the rest of the transaction."""
    try:
        return type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    except type(obj).DoesNotExist:
        raise NotFound() from None


def is_versioned(obj) -> bool:
    """Whether saves of ``obj`` bump its ``version`` (optimistic locking): Work records and any
    record with a ``version`` column of its own (knowledge articles)."""
    return isinstance(obj, Work) or any(f.name == "version" for f in obj._meta.concrete_fields)


# Who is told of every change a service writes (``watch``): a higher layer — notifications, which
# withdraws what no longer needs its reader — learns of changes without itsm importing it. A
# watcher is told a batch, ``(model, [(obj, [(field, old, new), …]), …])``: a single write is a
# batch of one, and a sweep that writes thousands of records set-based tells each batch once.
Change = tuple[str, Any, Any]
ChangeWatcher = Callable[[type, list[tuple[Any, list[Change]]]], None]
_WATCHERS: list[ChangeWatcher] = []


def watch(watcher: ChangeWatcher) -> ChangeWatcher:
    """Be told ``(model, [(obj, [(field, old, new), …]), …])`` of the changes ``apply_changes``
    writes, each state a transition sets and each batch a set-based sweep writes
    (``tell_watchers_many``), inside the writing transaction. A watcher's queries depend on
    neither the batch's size nor what it holds."""
    if watcher not in _WATCHERS:
        _WATCHERS.append(watcher)
    return watcher


def tell_watchers(obj, changes: list[Change]) -> None:
    """Tell the watchers of one record's changes (a batch of one)."""
    tell_watchers_many(type(obj), [(obj, changes)])


def tell_watchers_many(model: type, changes: Iterable[tuple[Any, list[Change]]]) -> None:
    """Tell the watchers of the changes a set-based write (a sweep's ``.update()``) made to
    records of ``model``: ``[(obj, [(field, old, new), …]), …]``, ``obj`` as it was read, the
    values as ``apply_changes`` would have told them. A fixed number of queries per batch, the
    same as for one record."""
    batch = [(obj, changed) for obj, changed in changes if changed]
    if not batch:
        return
    for watcher in _WATCHERS:
        watcher(model, batch)


def apply_changes(
    obj,
    actor,
    changes: Mapping[str, Any],
    *,
    validate: Callable[[Any], None] | None = None,
    extra_fields: Iterable[str] = (),
    bump: bool | frozenset[str] = True,
    quiet: Iterable[str] = (),
    journal: bool = True,
) -> list[tuple[str, Any, Any]]:
    """Write ``changes`` to the locked ``obj``: compare, set, ``validate`` (before anything is
    saved), save what differs (plus ``extra_fields`` the caller set itself), bump a Work record's
    version (``is_versioned``; ``bump``: always, never, or only when one of the named fields changed), set
    many-to-many fields, and journal each change except ``quiet`` ones (timer bookkeeping;
    ``journal=False``: the caller journals). Returns the changes as (field, old, new); nothing is written when none differs.
    The one way services write plain fields of a record they hold locked."""
    plain, m2m = _split_m2m(type(obj), changes)
    changed = []
    for name, values in m2m.items():
        old, new = _current(obj, name), frozenset(values)
        if old != new:
            changed.append((name, old, new))
    for name, value in plain.items():
        old = getattr(obj, name)
        if old != value:
            setattr(obj, name, value)
            changed.append((name, old, value))
    extra = [f for f in extra_fields if f not in plain]
    if not changed and not extra:
        return changed
    if validate is not None:
        validate(obj)
    fields = [name for name, _, _ in changed if name in plain] + extra
    if isinstance(bump, frozenset):
        bump = any(name in bump for name, _, _ in changed)
    versioned = bump and is_versioned(obj)
    if versioned:
        obj.version = F("version") + 1
        fields.append("version")
    if fields:
        if "updated_at" not in fields and any(f.name == "updated_at" for f in obj._meta.concrete_fields):
            fields.append("updated_at")
        obj.save(update_fields=fields)
    for name, values in m2m.items():
        getattr(obj, name).set(values)
    if versioned:
        obj.refresh_from_db(fields=["version", "updated_at"])
    entries = [c for c in changed if c[0] not in frozenset(quiet)]
    if journal and entries:
        audit.log_changes(obj, actor, entries)
    if changed:
        tell_watchers(obj, changed)
    return changed


def assignment_errors(
    *,
    after: Mapping[str, Any],
    named: Callable[[str], bool],
    permission: str,
    refusal: str,
    routed: bool = False,
    member_of: Collection[int] | None = None,
) -> dict[str, list[str]]:
    """The one rule on who and which group a record of any kind is assigned to, for every door
    that writes them (its assign action, a plain edit, a form, creation): a newly named assignee
    is an active holder of ``permission`` (else ``refusal``); a newly named group
    is active; an assignee with a group is one of its members, unless on-call routing (``routed``)
    picked them. ``after`` holds the values after the change, ``named(field)`` whether the change
    names that field anew; ``member_of``, the ids of the assignee's groups when the caller read
    them already (a queue asking for each of its rows). Returns the errors by field (empty: allowed)."""
    errors: dict[str, list[str]] = {}
    group, assignee = after.get("assignment_group"), after.get("assignee")
    if named("assignee") and assignee is not None:
        if not assignee.is_active:
            errors["assignee"] = [f"{assignee} is no longer active."]
        elif not policy.has_permission(assignee, permission):
            errors["assignee"] = [refusal]
    if named("assignment_group") and group is not None and not group.is_active:
        errors["assignment_group"] = ["This assignment group is inactive."]
    if (
        "assignee" not in errors
        and (named("assignee") or named("assignment_group"))
        and assignee is not None
        and group is not None
        and not routed
        and not (
            group.pk in member_of
            if member_of is not None
            else GroupMembership.objects.filter(group=group, user=assignee).exists()
        )
    ):
        errors["assignee"] = [f"{assignee} is not a member of {group}."]
    return errors


def _current(obj, name):
    value = getattr(obj, name)
    if isinstance(obj._meta.get_field(name), models.ManyToManyField):
        return frozenset(value.all())
    return value


def refusal(actor, action: str, obj, *, doing: str = "") -> str:
    """Why ``actor`` may not take ``action`` on ``obj``, said plainly: its state, when the state is
    what stops it ("You may not assign this incident while it is closed.")."""
    doing = doing or action.replace("_", " ")
    if policy.refused_in_state(actor, action, obj):
        return f"You may not {doing} this {obj._meta.verbose_name} while it is {obj.state.replace('_', ' ')}."
    return f"You may not {doing} this record."


@transaction.atomic
def record_update(
    *,
    obj,
    actor,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    check: Callable[[Any], None] | None = None,
):
    """Change fields the actor may write; one journal row per changed field.

    With ``expected_version`` (a Work record's ``version`` as the editor last saw it) a
    concurrent edit is refused (409) instead of silently overwritten. ``check(locked_obj)`` is
    the domain's own rule on the new values, run once the fields are known to be writable.
    """
    obj = lock(obj)
    if not policy.is_readable(actor, obj):
        raise NotFound()
    if not policy.can(actor, "update", obj):
        raise NotAllowed(refusal(actor, "update", obj, doing="change"))
    check_fields(actor, obj, data)
    check_dates(data)
    if expected_version is not None and getattr(obj, "version", None) != expected_version:
        raise Conflict(
            "Someone else changed this record after you opened it. Reload it and apply your change again.",
            fields={"version": [f"The current version is {obj.version}."]},
        )
    if check is not None:
        check(obj)
    if apply_changes(obj, actor, data, validate=_validate):
        obj.refresh_from_db()
    return obj


@transaction.atomic
def record_delete(*, obj, actor) -> None:
    obj = lock(obj)
    if not policy.is_readable(actor, obj):
        raise NotFound()
    if not policy.can(actor, "delete", obj):
        raise NotAllowed("You may not delete this record.")
    audit.log_delete(obj, actor)
    try:
        obj.delete()
    except models.ProtectedError as exc:
        names = sorted({str(o._meta.verbose_name_plural) for o in exc.protected_objects})
        raise Conflict(f"This record is still used by {', '.join(names)}; remove those links first.") from exc


@transaction.atomic
def task_create(*, parent: Work, model, actor, data: Mapping[str, Any]):
    """Add a task (a ``WorkTask`` model) under a record the actor may read; it belongs to the
    record's organisation and is requested by the actor."""
    if not policy.is_readable(actor, parent):
        raise NotFound()
    return record_create(
        model=model, actor=actor, data=data, check=lambda: _check_task_people(model, data),
        **{model.PARENT: parent}, organisation=parent.organisation, requester=actor,
    )  # fmt: skip


@transaction.atomic
def task_update(*, task, actor, data: Mapping[str, Any], expected_version: int | None = None):
    """Edit a task (any door: API, admin): the assignee and group obey the same rule as at
    creation."""
    return record_update(
        obj=task, actor=actor, data=data, expected_version=expected_version,
        check=lambda current: _check_task_people(type(current), data, current),
    )  # fmt: skip


def _check_task_people(model, data: Mapping[str, Any], current=None) -> None:
    """A task's assignee is an active holder of its kind's ``ASSIGNEE_PERMISSION`` (and a member
    of its group, when it has one); its group is active (``assignment_errors``)."""

    def named(name: str) -> bool:
        return name in data and (current is None or getattr(current, name) != data[name])

    fields = ("assignee", "assignment_group")
    after = {**{name: getattr(current, name, None) for name in fields}, **data}
    errors = assignment_errors(
        after=after, named=named, permission=model.ASSIGNEE_PERMISSION,
        refusal="Only service-desk agents can be assigned tasks.",
    )  # fmt: skip
    if errors:
        raise InvalidInput("The task cannot name these people.", fields=errors)
