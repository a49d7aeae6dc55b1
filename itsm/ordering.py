"""Total orderings for lists: the sort a person asks for, with ties broken so that one
composite index serves it, in either direction.

* Every list's order is total: after the asked fields come the model's own ordering (newest
  first, then id). Pages never repeat or skip a row, and keyset cursors can name a position.
* Sorting a field the other way turns the whole list upside down. When the first asked field
  goes against its natural direction (its direction in the model's ordering, else ascending),
  the tie-break is reversed too: ``-priority`` is ``priority`` read backwards (P4 first, and
  the oldest first within each). So the index ``(priority, -opened_at)`` serves both, read
  forwards or backwards; a tie-break that stayed newest-first would need a second index per
  field, or a sort of every row of the first priority.
* A field of a child table (an incident's ``impact``) breaks its ties on that table's own key
  (``-pk``): an index ``(impact, -pk)`` on the incident table serves it, where no single index
  could serve a tie-break on the parent table's ``opened_at``.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist

KEYS = frozenset({"pk", "id"})


def flip(name: str) -> str:
    return name[1:] if name.startswith("-") else f"-{name}"


def root(name: str) -> str:
    """The field an ordering or lookup names: ``-priority`` → ``priority``, ``assignee__name`` → ``assignee``."""
    return name.lstrip("-").split("__", 1)[0]


def _naturally_descending(model, name: str) -> bool:
    for item in model._meta.ordering or ():
        if isinstance(item, str) and item.lstrip("-") == name:
            return item.startswith("-")
    return False


def _tiebreak(model, name: str) -> list[str]:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        field = None
    if field is not None and model._meta.get_parent_list() and field.model is model:
        return ["-pk"]  # a child table's own column: ties on the same table's key
    return [item for item in (model._meta.ordering or ()) if isinstance(item, str)] + ["-pk"]


def total(model, asked: list[str]) -> list[str]:
    """``asked`` (e.g. ``["-priority"]``) followed by the tie-break that makes it total."""
    if not asked:
        return list(asked)
    first = asked[0]
    name = root(first)
    tiebreak = _tiebreak(model, name)
    if first.startswith("-") != _naturally_descending(model, name):
        tiebreak = [flip(item) for item in tiebreak]
    keys = KEYS | {model._meta.pk.name}
    used = {root(item) for item in asked}
    ordering = list(asked)
    if used & keys:
        return ordering  # already ends on a unique key
    for item in tiebreak:
        field = root(item)
        if field in used:
            continue
        ordering.append(item)
        used.add(field)
        if field in keys:
            break  # the key makes it total; another name for the same key adds nothing
    return ordering
