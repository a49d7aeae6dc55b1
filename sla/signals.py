"""Calendar edits move the running clocks, whichever door made them (API, admin, a script).

Before a business calendar, one of its working periods or one of its holidays is saved or
deleted, the calendar as it stands is remembered; once the transaction commits, one
background task (``sla.tasks.recalendar``) gives that calendar's running clocks their new due
times, measuring the time used until the change on the calendar as it was. However many rows
one transaction changes (an admin form replacing five working periods), the calendar is
remembered once, before the first change, and one task is queued.
"""

from __future__ import annotations

from functools import partial

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone
from django_q.tasks import async_task

from sla.models import BusinessCalendar, Holiday, WorkingPeriod

_PENDING = "_sla_calendars_changing"


def _calendar_id(sender, instance) -> int | None:
    return instance.pk if sender is BusinessCalendar else instance.calendar_id


def _pending() -> dict:
    pending = getattr(connection, _PENDING, None)
    if pending is None:
        pending = {}
        setattr(connection, _PENDING, pending)
    return pending


def _queued(entry) -> bool:
    """Whether the entry's task is still waiting for this transaction to commit (not rolled
    back, not run already)."""
    callback = entry.get("callback")
    return callback is not None and any(func is callback for _, func, _ in connection.run_on_commit)


def _live(calendar_id) -> bool:
    entry = _pending().get(calendar_id)
    return entry is not None and _queued(entry)


def changing(calendar_id: int | None):
    """About to change the calendar: the calendar as it is now (``None`` if this transaction
    already queued its move, or the calendar is new: no clock runs on it yet)."""
    if calendar_id is None or _live(calendar_id):
        return None
    calendar = BusinessCalendar.objects.filter(pk=calendar_id).first()
    return calendar.as_calendar() if calendar is not None else None


def changed(calendar_id: int | None, before) -> None:
    """The calendar changed from ``before``: queue the clocks' move for when the transaction
    commits, once per transaction. Only a change that happened registers; a save that failed
    between the two signals leaves nothing behind, and a rolled-back one is replaced."""
    if calendar_id is None or before is None or _live(calendar_id):
        return
    entry = {"before": before, "callback": partial(_queue, calendar_id)}
    _pending()[calendar_id] = entry
    transaction.on_commit(entry["callback"])


def _queue(calendar_id: int) -> None:
    entry = _pending().pop(calendar_id, None)
    if entry is not None:
        async_task(
            "sla.tasks.recalendar", calendar_id, entry["before"], timezone.now(), task_name="sla.recalendar"
        )


@receiver(pre_save, sender=BusinessCalendar)
@receiver(pre_save, sender=WorkingPeriod)
@receiver(pre_save, sender=Holiday)
@receiver(pre_delete, sender=BusinessCalendar)
@receiver(pre_delete, sender=WorkingPeriod)
@receiver(pre_delete, sender=Holiday)
def _before_change(sender, instance, raw=False, **kwargs):
    if not raw:  # fixtures loading
        instance._sla_calendar_before = changing(_calendar_id(sender, instance))


@receiver(post_save, sender=BusinessCalendar)
@receiver(post_save, sender=WorkingPeriod)
@receiver(post_save, sender=Holiday)
@receiver(post_delete, sender=WorkingPeriod)
@receiver(post_delete, sender=Holiday)
def _after_change(sender, instance, raw=False, **kwargs):
    if not raw:
        changed(_calendar_id(sender, instance), getattr(instance, "_sla_calendar_before", None))
