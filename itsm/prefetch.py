"""Prefetching a record page's many-to-many lists without a query for each empty one.

A record page shows a handful of many-to-many lists (an incident's collaborators, hosts,
configuration items, related incidents, problems and changes). ``prefetch_related`` runs one
query per list whatever it holds, and most lists of most records are empty: six queries, each
built by the ORM, to learn that five of them hold nothing. ``prefetch_filled`` first asks which
of those lists hold anything — one plain ``EXISTS`` per list, in one statement — and prefetches
only those; the others are set to empty, so reading them costs no query either.

The same statement also answers the page's *probes*: rows of other tables that point at the
record (``Probe``: the changes raised for an incident, the articles linked to it, its files),
which panels of other apps show. Most records have none, and a panel that knows so
(``holds(record, probe)`` is False) shows its empty list without its own query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Prefetch, prefetch_related_objects

FILLED = "_itsm_filled"  # on a probed record: {probe: whether any row points at it}


@dataclass(frozen=True)
class Probe:
    """Rows of ``model`` that point at a record through ``field``: a foreign key (of a model or
    of a many-to-many relation's ``through`` model), or a generic relation (its content type and
    object id). Declared once, beside the panel that reads those rows."""

    model: type[models.Model]
    field: str
    # A generic relation: the record's content type as the rows store it (by default the
    # relation's own rule, ``GenericForeignKey.for_concrete_model``).
    type_of: Callable[[models.Model], ContentType] | None = None

    def condition(self, record, quote) -> tuple[str, list]:
        """The ``EXISTS`` subquery asking whether any row points at ``record``, and its values."""
        field = self.model._meta.get_field(self.field)
        table = quote(self.model._meta.db_table)
        if isinstance(field, GenericForeignKey):
            type_column = self.model._meta.get_field(field.ct_field).column
            id_column = self.model._meta.get_field(field.fk_field).column
            if self.type_of is None:
                content_type = ContentType.objects.get_for_model(record, field.for_concrete_model)
            else:
                content_type = self.type_of(record)
            return (
                f"EXISTS (SELECT 1 FROM {table} WHERE {quote(type_column)} = %s AND {quote(id_column)} = %s)",
                [content_type.pk, record.pk],
            )
        value = getattr(record, field.target_field.attname)  # the key the foreign key points at
        return f"EXISTS (SELECT 1 FROM {table} WHERE {quote(field.column)} = %s)", [value]


def holds(record, probe: Probe) -> bool:
    """Whether rows may point at ``record`` through ``probe``: False only when the page's one
    statement (``prefetch_filled``) asked and found none; True when it did not ask."""
    return getattr(record, FILLED, {}).get(probe, True)


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


def filled(record, names: list[str], probes: Iterable[Probe] = ()) -> set:
    """Which of the record's many-to-many lists ``names``, and of ``probes``, hold at least one
    row: one query."""
    probes = list(dict.fromkeys(probes))
    if not names and not probes:
        return set()
    connection = connections[record._state.db or DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    asked: list = [*names, *probes]
    parts, params = [], []
    for index, name in enumerate(names):
        field = record._meta.get_field(name)
        through = field.remote_field.through._meta.db_table
        parts.append(f"SELECT {index} WHERE EXISTS (SELECT 1 FROM {quote(through)} WHERE {quote(field.m2m_column_name())} = %s)")
        params.append(record.pk)
    for index, probe in enumerate(probes, start=len(names)):
        condition, values = probe.condition(record, quote)
        parts.append(f"SELECT {index} WHERE {condition}")
        params += values
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {asked[row[0]] for row in cursor.fetchall()}


def prefetch_filled(record, lookups, probes: Iterable[Probe] = ()) -> None:
    """``prefetch_related_objects([record], *lookups)``, skipping the forward many-to-many lists
    that are empty (set to empty instead). Other lookups are prefetched as usual. The same
    statement answers ``probes`` (``holds``)."""
    lookups = list(lookups)
    probes = list(dict.fromkeys(probes))
    lists = [_name(lookup) for lookup in lookups if _forward_m2m(type(record), _name(lookup))]
    if len(lists) + len(probes) < 2:  # one list or probe: its own query is as cheap as asking
        prefetch_related_objects([record], *lookups)
        return
    holding = filled(record, lists, probes)
    setattr(record, FILLED, {**getattr(record, FILLED, {}), **{probe: probe in holding for probe in probes}})
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
