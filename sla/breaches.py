"""What follows an SLA breach, for any kind of Work: the journal, the people told, and the
services that act on breaches.

``record`` is called with clocks just recorded as breached — by ``sla.clocks`` when a transition
finds one the sweep had not recorded yet, and by the sweep — inside their transaction, with the
work rows locked. Each breach is journaled on its work; then every listener is told; then the
assignee and the group's leads are sent ``sla_breached``. ``sla`` imports none of its listeners:
a service that acts on breaches registers itself with ``listen`` from its ``AppConfig.ready``
(escalation raises ``escalation_level``). A listener acts set-based, a fixed number of queries
for the whole batch, and may answer extra context per work for the breach message (escalation:
the level it reached).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from itsm import audit
from notifications import services as notify
from notifications.models import Kind
from notifications.services import Message

# listener(clocks, works) -> {work pk: extra context for its breach message} or None
Listener = Callable[[list, Mapping[int, Any]], Mapping[int, Mapping[str, Any]] | None]

_LISTENERS: list[Listener] = []


def listen(listener: Listener) -> Listener:
    """Be told of every breach recorded (once per listener, however often it registers)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)
    return listener


def record(clocks, works: Mapping[int, Any], *, people: dict | None = None) -> None:
    """Clocks just recorded as breached, of ``works`` (pk → the locked record, as its kind's
    model, with its assignee loaded): journal each breach, tell the listeners, and tell the
    assignee and the group's leads. A fixed number of queries per batch (and per listener)."""
    clocks = [c for c in clocks if c.work_id in works]
    if not clocks:
        return
    audit.write(
        audit.change_entry(
            works[c.work_id], None, "sla_status", "", "breached",
            note=f"The {c.target} target ({c.priority}) was breached.",
        )
        for c in clocks
    )  # fmt: skip
    extra: dict[int, dict[str, Any]] = {}
    for listener in _LISTENERS:
        for pk, values in (listener(clocks, works) or {}).items():
            extra.setdefault(pk, {}).update(values)
    leads = notify.group_leads(w.assignment_group_id for w in works.values() if w.assignment_group_id)
    messages = []
    for clock in clocks:
        work = works[clock.work_id]
        context = {"target": clock.target, "breached_at": clock.breached_at, **extra.get(work.pk, {})}
        for person in [work.assignee, *leads.get(work.assignment_group_id, [])]:
            messages.append(Message(person, Kind.SLA_BREACHED, work, context))
    notify.send(messages, people=people)
