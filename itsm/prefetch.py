"""Prefetching a record page's many-to-many lists without a query for each empty one.

A record page shows a handful of many-to-many lists (an incident's collaborators, hosts,
configuration items, related incidents, problems and changes). ``prefetch_related`` runs one
query per list whatever it holds, and most lists of most records are empty: six queries, each
built by the ORM, to learn that five of them hold nothing. ``prefetch_filled`` first asks which
of those lists hold anything — one plain ``EXISTS`` per list, in one statement — and prefetches
only those; the others are set to empty, so reading them costs no query either.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Prefetch, prefetch_related_objects


def _name(lookup) -> str:
    """The list a lookup fills; a ``Prefetch`` into another attribute (``to_attr``) is none of
    the record's lists (prefetched as usual)."""
    if isinstance(lookup, Prefetch):
        return lookup.prefetch_through if lookup.prefetch_to == lookup.prefetch_through else ""
    return lookup


def _forward_m2m(model, name: str):
    """The forward many-to-many field ``name`` of ``model`` (a plain one-level lookup), else None."""
    if not name or "__" in name:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a typo: Django's prefetch reports it
        return None
    return field if isinstance(field, models.ManyToManyField) else None


def filled(record, names: list[str]) -> set[str]:
    """Which of the record's many-to-many lists ``names`` hold at least one row: one query."""
    if not names:
        return set()
    connection = connections[record._state.db or DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    parts, params = [], []
    for index, name in enumerate(names):
        field = record._meta.get_field(name)
        through = field.remote_field.through._meta.db_table
        parts.append(f"SELECT {index} WHERE EXISTS (SELECT 1 FROM {quote(through)} WHERE {quote(field.m2m_column_name())} = %s)")
        params.append(record.pk)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {names[row[0]] for row in cursor.fetchall()}


def prefetch_filled(record, lookups) -> None:
    """``prefetch_related_objects([record], *lookups)``, skipping the forward many-to-many lists
    that are empty (set to empty instead). Other lookups are prefetched as usual."""
    lookups = list(lookups)
    lists = [_name(lookup) for lookup in lookups if _forward_m2m(type(record), _name(lookup))]
    if len(lists) < 2:  # one list: its own query is as cheap as asking
        prefetch_related_objects([record], *lookups)
        return
    holding = filled(record, lists)
    wanted = [lookup for lookup in lookups if _name(lookup) not in lists or _name(lookup) in holding]
    if wanted:
        prefetch_related_objects([record], *wanted)
    cache = record.__dict__.setdefault("_prefetched_objects_cache", {})
    for name in lists:
        if name not in holding:
            manager = getattr(record, name)
            empty = manager.none()
            empty._result_cache, empty._prefetch_done = [], True
            cache[manager.prefetch_cache_name] = empty
