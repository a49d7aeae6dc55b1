"""The SLA sweep (django-q2 schedule ``sla.sweep`` and ``manage.py sla_sweep``): warnings at
75 % of a target and breaches, for clocks that fell due since the last run.

Only due rows are read (partial indexes on ``warn_at`` and ``due_at`` of running clocks), in
batches; each batch locks its clocks and their work with SKIP LOCKED, so two sweeps at once
never record a breach twice, and work a transition holds right now is left for the next run.
Each batch is a fixed number of queries, whatever its size (one more per kind of Work in it:
each record is read as its kind's model, ``itsm.workflow.lifecycle_of``). A breach is handed to
``sla.breaches.record``, which journals it, tells its listeners (escalation) and the people.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from itsm.bulk import Copier
from itsm.models import Work
from itsm.workflow import lifecycle_of
from notifications import services as notify
from notifications.models import Kind
from notifications.services import Message
from sla.breaches import record
from sla.clocks import recalendar as recalendar_clocks
from sla.models import ClockEvent, ClockState, SlaClock, SlaClockEvent, SlaStatus

BATCH = 500
# Clock events are COPY'd (``itsm.bulk``): a sweep may write thousands at once.
_EVENTS = Copier(SlaClockEvent, ["clock_id", "kind", "at", "elapsed", "note"])


def _lock(due, page: list[int]) -> tuple[list[SlaClock], dict[int, str]]:
    """Lock the page's clocks that are still due and their work, skipping rows another sweep
    or a transition holds (they are picked up by the next run). Answers the locked clocks and
    the kind of each locked work."""
    clocks = list(due.filter(pk__in=page).select_for_update(skip_locked=True, of=("self",)).order_by("pk"))
    if not clocks:
        return clocks, {}
    kinds = dict(
        Work.objects.filter(pk__in={c.work_id for c in clocks})
        .select_for_update(skip_locked=True)
        .values_list("pk", "kind")
    )
    return [c for c in clocks if c.work_id in kinds], kinds


def _records(kinds: dict[int, str]) -> dict:
    """The records the work rows are the parents of, each as its kind's model (the lifecycle's),
    with what messages and the journal need: one query per kind in the batch. A kind no domain
    registered is read as plain Work."""
    by_model: dict[type, list[int]] = {}
    for pk, kind in kinds.items():
        lifecycle = lifecycle_of(kind)
        by_model.setdefault(lifecycle.model if lifecycle else Work, []).append(pk)
    found = {}
    for model, pks in by_model.items():
        rows = model.objects.filter(pk__in=pks).select_related(
            "assignee", "assignment_group", "sla_definition__calendar"
        )
        found.update({w.pk: w for w in rows})
    return found


def _locked_batches(due, batch: int):
    """The due clocks, a batch at a time: each batch is read in pk order (keyset, so a row left
    locked by another sweep is not read again), locked with ``_lock``, and handed over inside
    its own transaction, which commits when the caller asks for the next one."""
    last_pk = 0
    while True:
        with transaction.atomic():
            page = list(due.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch])
            if not page:
                return
            last_pk = page[-1]
            yield _lock(due, page)


def breaches(now: datetime, batch: int = BATCH) -> int:
    """Clocks past due: record each breach once, move the work's status and next due time, and
    hand the batch to ``sla.breaches.record`` (journal, listeners, messages)."""
    due = SlaClock.objects.filter(state=ClockState.RUNNING, breached_at__isnull=True, due_at__lte=now)
    count = 0
    people: dict = {}  # each person told is loaded, and its roles read, once per sweep
    for clocks, kinds in _locked_batches(due, batch):
        for clock in clocks:
            clock.breached_at = clock.due_at
        # A clock past due is past its warning too: marked warned here, so ``warnings`` does
        # not lock and read it again (it would send nothing for it).
        SlaClock.objects.filter(pk__in=[c.pk for c in clocks]).update(
            breached_at=F("due_at"), warned_at=Coalesce("warned_at", "warn_at")
        )
        _EVENTS.write([(c.pk, ClockEvent.BREACHED, c.breached_at, c.target_duration, "") for c in clocks])
        # The work's next due time moves on to its earliest running clock not yet breached.
        next_due = (
            SlaClock.objects.filter(
                work=OuterRef("pk"), is_current=True, state=ClockState.RUNNING, breached_at__isnull=True
            )
            .order_by()
            .values("work")
            .annotate(first=Min("due_at"))
            .values("first")
        )
        Work.objects.filter(pk__in={c.work_id for c in clocks}).update(
            sla_status=SlaStatus.BREACHED, sla_due_at=Subquery(next_due)
        )
        breached = {c.work_id for c in clocks}
        record(clocks, _records({pk: kind for pk, kind in kinds.items() if pk in breached}), people=people)
        count += len(clocks)
    return count


def warnings(now: datetime, batch: int = BATCH) -> int:
    """Clocks that used 75 % of their target: tell the assignee (or, unassigned, the group's
    leads) once."""
    due = SlaClock.objects.filter(state=ClockState.RUNNING, warned_at__isnull=True, warn_at__lte=now)
    count = 0
    known: dict = {}  # each person told is loaded, and its roles read, once per sweep
    for clocks, kinds in _locked_batches(due, batch):
        for clock in clocks:
            clock.warned_at = clock.warn_at
        SlaClock.objects.filter(pk__in=[c.pk for c in clocks]).update(warned_at=F("warn_at"))
        fresh = [c for c in clocks if c.due_at is None or c.due_at > now]  # the others breach now
        _EVENTS.write([(c.pk, ClockEvent.WARNED, c.warned_at, c.target_duration * 0.75, "") for c in fresh])
        work_ids = {c.work_id for c in fresh}
        Work.objects.filter(pk__in=work_ids).exclude(
            sla_status__in=(SlaStatus.BREACHED, SlaStatus.AT_RISK)
        ).update(sla_status=SlaStatus.AT_RISK)
        works = _records({pk: kinds[pk] for pk in work_ids})
        leads = notify.group_leads(w.assignment_group_id for w in works.values() if w.assignment_group_id)
        messages = []
        for clock in fresh:
            work = works[clock.work_id]
            people = [work.assignee] if work.assignee_id else leads.get(work.assignment_group_id, [])
            calendar = work.sla_definition.calendar if work.sla_definition else None
            extra = {"target": clock.target, "due_at": clock.due_at, "calendar": str(calendar or "24×7")}
            messages.extend(Message(p, Kind.SLA_WARNING, work, extra) for p in people)
        notify.send(messages, people=known)
        count += len(fresh)
    return count


def sla_sweep(now: datetime | None = None) -> dict:
    now = now or timezone.now()
    breached = breaches(now)  # first: what is past due needs no warning
    return {"warned": warnings(now), "breached": breached}


def recalendar(calendar_id: int, before, at: datetime) -> int:
    """Background task queued by ``sla.signals`` after a calendar edit commits."""
    return recalendar_clocks(calendar_id, before, at)
