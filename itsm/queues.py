"""The desk queues every kind of Work registers, so the shared core (saved views, their counts in
the navigation, columns, page size, CSV export) works on each without importing the domains.

A domain registers one ``Queue`` from its ``AppConfig.ready()``: its key (``incident``…), model,
filter set (a ``itsm.views.queue.WorkQueueFilter``), columns and list URL name; and, when the
kind has bulk actions (``itsm.bulk_actions``), them and the URL of its bulk view
(``itsm.views.queue.QueueBulkView``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.urls import reverse

from itsm import policy
from itsm.bulk_actions import BulkActions


@dataclass(frozen=True)
class Queue:
    kind: str
    label: str  # "Incidents"
    model: type[models.Model]
    filterset: type  # a WorkQueueFilter subclass
    columns: tuple[tuple[str, str, str | None], ...]  # (field, heading, sort parameter)
    url_name: str
    related: tuple[str, ...] = ()
    deferred: tuple[str, ...] = ()
    default_state: str = "open"
    # The kind's bulk actions (declared next to its services), the URL name of the view that
    # takes the queue's bulk form, and that form when the kind has inputs of its own.
    bulk: BulkActions | None = field(default=None)
    bulk_url_name: str | None = field(default=None)
    bulk_form: type | None = field(default=None)
    # Its rows (``itsm.views.queue_rows``): the URL name of a record's page, and the kind's own
    # cells as (column name, cell) pairs, besides the shared ones.
    detail_url_name: str = ""
    cells: tuple = ()

    @property
    def url(self) -> str:
        return reverse(self.url_name)

    def readable_columns(self, user) -> list[tuple[str, str, str | None]]:
        hidden = policy.hidden_fields(user, self.model)
        return [column for column in self.columns if column[0] not in hidden]

    def queryset(self, user) -> models.QuerySet:
        """What the queue lists for ``user`` before any filter: the policy's readable rows."""
        hidden = policy.hidden_fields(user, self.model)
        return (
            policy.readable(user, self.model)
            .select_related(*(name for name in self.related if name not in hidden))
            .defer(*self.deferred)
            .order_by("-opened_at", "-pk")
        )


_QUEUES: dict[str, Queue] = {}


def register(queue: Queue) -> Queue:
    _QUEUES[queue.kind] = queue
    return queue


def get(kind: str) -> Queue | None:
    return _QUEUES.get(kind)


def all_queues() -> list[Queue]:
    return list(_QUEUES.values())
