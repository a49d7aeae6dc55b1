"""The audit journal: written by services in the same transaction, read through the policy."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from itsm import policy
from itsm.bulk import Copier
from itsm.models import AuditEntry

SYSTEM_LABEL = "system"


def _actor(actor) -> tuple[object | None, str]:
    if actor is None:
        return None, SYSTEM_LABEL
    return actor, actor.get_username()


def display(value) -> str:
    """How a value is written into the journal."""
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return f"{value} (#{value.pk})"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(sorted(display(v) for v in value))
    if isinstance(value, models.QuerySet):
        return display(list(value))
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _entry(obj, actor, action, **values) -> AuditEntry:
    user, label = _actor(actor)
    return AuditEntry(
        actor=user,
        actor_label=label,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action=action,
        **values,
    )


def log_create(obj, actor) -> None:
    _entry(obj, actor, AuditEntry.Action.CREATE).save()


def log_changes(obj, actor, changes: Iterable[tuple[str, object, object]]) -> None:
    AuditEntry.objects.bulk_create(
        [
            _entry(
                obj,
                actor,
                AuditEntry.Action.UPDATE,
                field=name,
                old_value=display(old),
                new_value=display(new),
            )
            for name, old, new in changes
        ]
    )


def change_entry(obj, actor, name: str, old, new, *, note: str = "") -> AuditEntry:
    """An unsaved "field changed" entry, for services that write many at once (sweeps)."""
    return _entry(
        obj,
        actor,
        AuditEntry.Action.UPDATE,
        field=name,
        old_value=display(old),
        new_value=display(new),
        note=note,
    )


_JOURNAL = Copier(
    AuditEntry,
    [
        "at", "actor_id", "actor_label", "content_type_id", "object_id", "object_repr", "action", "field",
        "old_value", "new_value", "transition", "note",
    ],
)  # fmt: skip


def write(entries: Iterable[AuditEntry]) -> None:
    """Journal many unsaved entries (``change_entry``, ``transition_entry``) at once, in order:
    with COPY on PostgreSQL, as a sweep moving thousands of records writes tens of thousands."""
    now = timezone.now()
    _JOURNAL.write([(e.at or now, *(getattr(e, name) for name in _JOURNAL.columns[1:])) for e in entries])


def transition_entry(
    obj, actor, *, transition: str, old_state: str, new_state: str, note: str = ""
) -> AuditEntry:
    """An unsaved transition entry, for set-based workflows that journal many rows at once."""
    return _entry(
        obj, actor, AuditEntry.Action.TRANSITION, field="state", transition=transition,
        old_value=old_state, new_value=new_state, note=note,
    )  # fmt: skip


def log_transition(obj, actor, *, transition: str, old_state: str, new_state: str, note: str = "") -> None:
    transition_entry(
        obj, actor, transition=transition, old_state=old_state, new_state=new_state, note=note
    ).save()


def log_delete(obj, actor) -> None:
    _entry(obj, actor, AuditEntry.Action.DELETE).save()


def entries_for(user, obj) -> list[AuditEntry]:
    """The journal of one record as ``user`` may see it: nothing if it may not read the record,
    no entry about a field hidden from it (neither old nor new value), and each actor named as
    ``policy.person_name`` names it to this reader (customers read agents as the service desk)."""
    if not policy.is_readable(user, obj):
        return []
    hidden = policy.hidden_fields(user, obj)
    entries = list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
            object_id=str(obj.pk),
        )
        .exclude(field__in=hidden)
        .select_related("actor")
    )
    if not policy.names_people(user):
        for entry in entries:
            entry.actor_label = policy.person_name(user, entry.actor, obj)
    return entries
