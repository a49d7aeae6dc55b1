"""SLA clocks: the one place that starts, pauses, resumes, stops, restarts and retargets them.

Any kind of Work has clocks. Its workflows call these inside their transaction, with the work
row already locked; the clock rows are locked here (``select_for_update``), in that order, so a
sweep that locks a clock with ``skip_locked`` can never deadlock with a transition. Which of the
work's states are finished, paused or not yet answered comes from its kind's lifecycle
(``itsm.workflow``): this module names no domain's states.

Rules (SPEC §5, issue #4):

* On creation a piece of work gets its SLA definition — its host group's, else its
  organisation's default, else the account-wide default — and a clock per target the
  definition sets for its priority.
* A priority change re-selects the definition and applies the new targets to the time
  already used.
* On hold pauses the clocks; resuming resumes them.
* The response clock stops at the first agent response or acknowledgment; resolution stops
  both; cancelling cancels them.
* Reopening retires the current clocks (kept as history) and starts new ones at the reopen time.
* A clock found past due by one of these is recorded as breached there and then, as the sweep
  would have (``sla.breaches.record``: journaled, told, passed on to escalation).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from itsm.bulk import Copier, Updater
from itsm.models import SlaDefinition, Work
from itsm.workflow import lifecycle_of
from sla import breaches
from sla.calendar import Calendar, NoWorkingTime
from sla.models import (
    AT_RISK_SHARE,
    BusinessCalendar,
    ClockEvent,
    ClockState,
    ClockTarget,
    SlaClock,
    SlaClockEvent,
    SlaStatus,
    calendar_of,
)

ZERO = timedelta(0)
# Worst first: the work's status is the worst of its current clocks'.
SEVERITY = (SlaStatus.BREACHED, SlaStatus.AT_RISK, SlaStatus.IN_PROGRESS, SlaStatus.PAUSED, SlaStatus.MET)


def definition_for(work) -> SlaDefinition | None:
    """The host group's SLA (the strictest, when the hosts' groups differ), else the
    organisation's default, else the account-wide default; only active definitions."""
    active = SlaDefinition.objects.filter(is_active=True).select_related("calendar")
    hosts = getattr(work, "hosts", None)
    if hosts is not None and work.pk is not None:
        column = f"{(work.priority or 'P4').lower()}_resolution_minutes"
        found = (
            active.filter(host_groups__hosts__in=hosts.all())
            .order_by(F(column).asc(nulls_last=True), "name")
            .first()
        )
        if found is not None:
            return found
    # The organisation's default, else the account-wide one: one query for both.
    own = work.organisation.default_sla_id if work.organisation_id is not None and work.organisation else None
    if own is None:
        return active.filter(is_default=True).first()
    return (
        active.filter(Q(pk=own) | Q(is_default=True))
        .order_by(Case(When(pk=own, then=Value(0)), default=Value(1)), "name", "pk")
        .first()
    )


def _event(clock: SlaClock, kind: str, at: datetime, note: str = "") -> SlaClockEvent:
    return SlaClockEvent(clock=clock, kind=kind, at=at, elapsed=clock.elapsed, note=note[:300])


def _set_due(clock: SlaClock, calendar: Calendar, since: datetime) -> None:
    """Running from ``since`` with ``clock.elapsed`` banked: when it falls due and at risk."""
    clock.running_since = since
    left = clock.target_duration - clock.elapsed
    warn_left = clock.target_duration * AT_RISK_SHARE - clock.elapsed
    try:
        clock.due_at = calendar.due(since, max(left, ZERO))
        clock.warn_at = calendar.due(since, max(warn_left, ZERO))
    except NoWorkingTime:
        # A calendar without working time (no periods, or holidays on every day): the clock
        # runs but can never fall due. The API refuses such calendars (the admin does not yet); this keeps
        # work that meets one anyway from failing.
        clock.due_at = clock.warn_at = None


def _bank(clock: SlaClock, calendar: Calendar, at: datetime) -> None:
    """End the running stretch at ``at``: add its business time to ``elapsed``."""
    if clock.state == ClockState.RUNNING and clock.running_since is not None:
        clock.elapsed += calendar.elapsed(clock.running_since, at)
    clock.running_since = None
    clock.due_at = None
    clock.warn_at = None


def _states(work, which: str) -> frozenset[str]:
    """The work's ``unanswered``, ``paused`` or ``finished`` states, from its kind's lifecycle
    (none for a kind no domain registered)."""
    lifecycle = lifecycle_of(work)
    return getattr(lifecycle, which) if lifecycle is not None else frozenset()


def _open(work) -> bool:
    """Whether the work is still being worked (finished work starts no new clock)."""
    return getattr(work, "state", None) not in _states(work, "finished")


def _breached(work, late) -> None:
    """Breaches found by a transition (the sweep had not recorded them yet) count like the
    sweep's: journaled, told, and passed on to the breach listeners (escalation)."""
    if late:
        lifecycle = lifecycle_of(work)
        if lifecycle is not None and not isinstance(work, lifecycle.model):  # a plain Work row
            work = lifecycle.model.objects.get(pk=work.pk)
        breaches.record(late, {work.pk: work})


def _current(work, states=(ClockState.RUNNING, ClockState.PAUSED), targets=None):
    clocks = (
        # Only the clock rows are locked: the calendar is a nullable (outer) join, which
        # PostgreSQL cannot lock, and calendars are not changed here.
        SlaClock.objects.select_for_update(of=("self",))
        .select_related("calendar")
        .filter(work=work, is_current=True)
    )
    if states is not None:
        clocks = clocks.filter(state__in=states)
    if targets is not None:
        clocks = clocks.filter(target__in=targets)
    return list(clocks.order_by("pk"))


def _save(clocks, events) -> None:
    fields = [
        "definition", "calendar", "priority", "target_duration", "state", "is_current", "running_since",
        "elapsed", "due_at", "warn_at", "breached_at", "stopped_at",
    ]  # fmt: skip
    if clocks:
        SlaClock.objects.bulk_update(clocks, fields)
    if events:
        SlaClockEvent.objects.bulk_create(events)


def _new_clocks(
    work, definition: SlaDefinition | None, at: datetime, *, skip=(), paused: str | None = None
) -> list[SlaClock]:
    """Start the definition's clocks for ``work``; with ``paused`` (the pause's note) they stand
    still from the start (their STARTED and PAUSED events written together)."""
    if definition is None:
        return []
    calendar = calendar_of(definition.calendar)
    clocks, events = [], []
    for target in ClockTarget.values:
        minutes = definition.target_minutes(work.priority, target)
        if not minutes or target in skip:
            continue
        clock = SlaClock(
            work_id=work.pk, definition=definition, calendar=definition.calendar, target=target,
            priority=work.priority, target_duration=timedelta(minutes=minutes), started_at=at,
        )  # fmt: skip
        if paused is None:
            _set_due(clock, calendar, at)
        else:  # nothing banked yet, nothing falls due
            clock.state, clock.running_since, clock.due_at, clock.warn_at = ClockState.PAUSED, None, None, None
        clocks.append(clock)
    SlaClock.objects.bulk_create(clocks)
    for clock in clocks:
        events.append(_event(clock, ClockEvent.STARTED, at, f"{definition.name}, {work.priority}"))
        if paused is not None:
            events.append(_event(clock, ClockEvent.PAUSED, at, paused))
    SlaClockEvent.objects.bulk_create(events)
    return clocks


def start(work, *, at: datetime | None = None, paused: str | None = None) -> None:
    """Give new work its SLA and start its clocks (from its opening time); ``paused`` (the
    pause's note): work that waits from the start (a request awaiting approval) gets them
    paused at once. The clocks are the work's only ones, so its status is known without reading
    them back: the work row is written once."""
    at = at or work.opened_at or timezone.now()
    definition = definition_for(work)
    clocks = _new_clocks(work, definition, at, paused=paused)
    status, due = status_of(clocks)
    Work.objects.filter(pk=work.pk).update(sla_definition=definition, sla_status=status, sla_due_at=due)
    work.sla_definition, work.sla_status, work.sla_due_at = definition, status, due


def pause(work, *, at: datetime | None = None, note: str = "") -> None:
    """On hold: bank the time used so far; nothing falls due while paused. A clock found already
    past due is recorded as breached (and escalated) before it pauses."""
    at = at or timezone.now()
    clocks, events, late = _current(work, states=(ClockState.RUNNING,)), [], []
    for clock in clocks:
        due_at = clock.due_at
        _bank(clock, calendar_of(clock.calendar), at)
        if clock.breached_at is None and clock.elapsed > clock.target_duration:
            clock.breached_at = due_at or at
            events.append(_event(clock, ClockEvent.BREACHED, clock.breached_at))
            late.append(clock)
        clock.state = ClockState.PAUSED
        events.append(_event(clock, ClockEvent.PAUSED, at, note))
    _save(clocks, events)
    _breached(work, late)
    refresh(work)


def resume(work, *, at: datetime | None = None) -> None:
    at = at or timezone.now()
    clocks, events = _current(work, states=(ClockState.PAUSED,)), []
    for clock in clocks:
        clock.state = ClockState.RUNNING
        _set_due(clock, calendar_of(clock.calendar), at)
        events.append(_event(clock, ClockEvent.RESUMED, at))
    _save(clocks, events)
    refresh(work)


def stop(work, *, at: datetime | None = None, targets=None, note: str = "") -> None:
    """Stop the running or paused clocks of ``targets`` (all by default): met if within target."""
    at = at or timezone.now()
    clocks, events, late = _current(work, targets=targets), [], []
    for clock in clocks:
        due_at = clock.due_at
        _bank(clock, calendar_of(clock.calendar), at)
        if clock.breached_at is None and clock.elapsed > clock.target_duration:
            clock.breached_at = due_at or at
            events.append(_event(clock, ClockEvent.BREACHED, clock.breached_at))
            late.append(clock)
        clock.state = ClockState.STOPPED
        clock.stopped_at = at
        outcome = "met" if clock.elapsed <= clock.target_duration else "breached"
        events.append(_event(clock, ClockEvent.STOPPED, at, f"{outcome}{'; ' + note if note else ''}"))
    _save(clocks, events)
    _breached(work, late)
    refresh(work)


def stop_response(work, *, at: datetime | None = None, note: str = "") -> None:
    stop(work, at=at, targets=(ClockTarget.RESPONSE,), note=note)


def cancel(work, *, at: datetime | None = None) -> None:
    """Cancelled work is not measured: its open clocks are cancelled."""
    at = at or timezone.now()
    clocks, events = _current(work), []
    for clock in clocks:
        _bank(clock, calendar_of(clock.calendar), at)
        clock.state = ClockState.CANCELLED
        clock.stopped_at = at
        events.append(_event(clock, ClockEvent.CANCELLED, at))
    _save(clocks, events)
    refresh(work)


def restart(work, *, at: datetime | None = None) -> None:
    """Reopened: retire the current clocks (history) and start new ones from ``at``."""
    at = at or timezone.now()
    clocks, events = _current(work, states=None), []
    for clock in clocks:
        if clock.state in (ClockState.RUNNING, ClockState.PAUSED):
            _bank(clock, calendar_of(clock.calendar), at)
            clock.state = ClockState.CANCELLED
            clock.stopped_at = at
        clock.is_current = False
        events.append(_event(clock, ClockEvent.RETIRED, at))
    _save(clocks, events)
    definition = definition_for(work)
    Work.objects.filter(pk=work.pk).update(sla_definition=definition)
    work.sla_definition = definition
    _new_clocks(work, definition, at)
    refresh(work)


def retarget(work, *, at: datetime | None = None) -> None:
    """The priority changed: re-select the definition and apply its targets for the new priority
    to the business time already used. A target the new priority does not have is cancelled; one
    it newly has starts counting from when the work was opened."""
    at = at or timezone.now()
    definition = definition_for(work)
    Work.objects.filter(pk=work.pk).update(sla_definition=definition)
    work.sla_definition = definition
    current = _current(work, states=None)
    # Work started, acknowledged or answered has had its response: a response target the new
    # priority has again must not start an already-late clock from the opening time.
    responded = getattr(work, "acknowledged_at", None) is not None or work.state not in _states(
        work, "unanswered"
    )
    clocks, events, seen = [], [], set()
    for clock in current:
        if clock.state == ClockState.CANCELLED:
            # Cancelled by an earlier priority without this target: if the new priority has
            # it again, a new clock replaces it (below) and it becomes history.
            comes_back = not (clock.target == ClockTarget.RESPONSE and responded)
            if (
                comes_back
                and _open(work)
                and definition
                and definition.target_minutes(work.priority, clock.target)
            ):
                clock.is_current = False
                events.append(_event(clock, ClockEvent.RETIRED, at, f"{clock.target} target is back"))
                clocks.append(clock)
            else:
                seen.add(clock.target)
            continue
        seen.add(clock.target)
        if clock.state not in (ClockState.RUNNING, ClockState.PAUSED):
            continue
        minutes = definition.target_minutes(work.priority, clock.target) if definition else None
        calendar = calendar_of(clock.calendar)
        running = clock.state == ClockState.RUNNING
        _bank(clock, calendar, at)
        if not minutes:
            clock.state = ClockState.CANCELLED
            clock.stopped_at = at
            events.append(
                _event(clock, ClockEvent.CANCELLED, at, f"no {clock.target} target for {work.priority}")
            )
        else:
            clock.definition = definition
            clock.priority = work.priority
            clock.target_duration = timedelta(minutes=minutes)
            events.append(_event(clock, ClockEvent.RETARGETED, at, f"{definition.name}, {work.priority}"))
            if running:
                _set_due(clock, calendar, at)
        clocks.append(clock)
    _save(clocks, events)
    if definition is not None and _open(work):
        skip = set(seen)
        if responded:
            skip.add(ClockTarget.RESPONSE)
        started = _new_clocks(work, definition, work.opened_at or at, skip=skip)
        if started and work.state in _states(work, "paused"):
            pause(work, at=at, note="on hold")
            return
    refresh(work)


def status_of(clocks, at: datetime | None = None) -> tuple[str, datetime | None]:
    """The worst status of the clocks, and the earliest due time of a running, unbreached one."""
    at = at or timezone.now()
    statuses = {c.status(at) for c in clocks if c.state != ClockState.CANCELLED}
    status = next((s for s in SEVERITY if s in statuses), "")
    dues = [c.due_at for c in clocks if c.state == ClockState.RUNNING and c.breached_at is None and c.due_at]
    return status, min(dues, default=None)


def refresh(work) -> None:
    """Store the work's SLA status and next due time (no version bump: not a user edit)."""
    clocks = SlaClock.objects.filter(work_id=work.pk, is_current=True)
    status, due = status_of(list(clocks))
    Work.objects.filter(pk=work.pk).update(sla_status=status, sla_due_at=due)
    work.sla_status, work.sla_due_at = status, due


def live_status(work, at: datetime | None = None) -> str:
    """The stored status, corrected for a due time that passed since the last sweep."""
    at = at or timezone.now()
    if work.sla_due_at is not None and work.sla_due_at <= at:
        return SlaStatus.BREACHED
    return work.sla_status


def breached_q(at: datetime | None = None) -> Q:
    """Work whose SLA is breached now: recorded breaches, and running clocks already past due."""
    at = at or timezone.now()
    return Q(sla_status=SlaStatus.BREACHED) | Q(sla_due_at__lte=at)


# --- Calendar edits ----------------------------------------------------------------------------

RECALENDAR_BATCH = 500
_MOVED = Updater(SlaClock, ["elapsed", "running_since", "due_at", "warn_at"])
_EVENTS = Copier(SlaClockEvent, ["clock_id", "kind", "at", "elapsed", "note"])
_WORK_SLA = Updater(Work, ["sla_status", "sla_due_at"])


def recalendar(calendar_id: int, before: Calendar, at: datetime, *, batch: int = RECALENDAR_BATCH) -> int:
    """Working hours or holidays of a calendar changed at ``at``: its running clocks take the
    new calendar from then on. The business time each used up to ``at`` is measured on the
    calendar as it was (``before``), then the due and at-risk times are worked out again on
    the new one; the work's next due time and status follow. A clock that paused, resumed or
    started after ``at`` already runs on the new calendar and is left alone. Warnings and
    breaches already recorded stay recorded.

    Batches of clocks in pk order, each in its own transaction with the work rows and then
    the clocks locked (the order the transitions use). Answers how many clocks moved."""
    calendar_row = BusinessCalendar.objects.filter(pk=calendar_id).first()
    if calendar_row is None:
        return 0
    after = calendar_of(calendar_row)
    if after == before:
        return 0  # a new name or description: the same working time
    running = SlaClock.objects.filter(
        calendar_id=calendar_id, state=ClockState.RUNNING, is_current=True, running_since__lte=at
    ).exclude(breached_at__isnull=True, due_at__lte=at)  # past due, not yet recorded: the sweep's
    moved, last_pk = 0, 0
    while True:
        with transaction.atomic():
            page = list(running.filter(pk__gt=last_pk).order_by("pk").values_list("pk", "work_id")[:batch])
            if not page:
                return moved
            last_pk = page[-1][0]
            work_ids = sorted({work_id for _, work_id in page})
            list(Work.objects.filter(pk__in=work_ids).select_for_update().order_by("pk").values_list("pk"))
            clocks = list(
                running.filter(pk__in=[pk for pk, _ in page]).select_for_update(of=("self",)).order_by("pk")
            )
            note = f"{calendar_row} changed"[:300]
            for clock in clocks:
                clock.elapsed += before.elapsed(clock.running_since, at)
                _set_due(clock, after, at)
            _MOVED.write([(c.pk, c.elapsed, c.running_since, c.due_at, c.warn_at) for c in clocks])
            _EVENTS.write([(c.pk, ClockEvent.RECALCULATED, at, c.elapsed, note) for c in clocks])
            _refresh_many(work_ids)
            moved += len(clocks)


def _refresh_many(work_ids) -> None:
    """``refresh`` for many works: their current clocks in one query, one UPDATE per batch."""
    clocks: dict[int, list[SlaClock]] = {}
    for clock in SlaClock.objects.filter(work_id__in=work_ids, is_current=True):
        clocks.setdefault(clock.work_id, []).append(clock)
    _WORK_SLA.write([(work_id, *status_of(clocks.get(work_id, []))) for work_id in work_ids])
