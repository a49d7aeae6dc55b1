"""Background entry points (django-q2): the PIR-overdue sweep (schedule ``changes.pir_overdue``,
every 15 minutes).

A change whose post-implementation review is due (``pir_due_at`` past), not recorded and not yet
notified, and that is not finished, is told of once: its assignee, else its group's leads. An
emergency change's PIR is due 72 hours after it was raised, whether or not the work is done yet;
any other change's when it is completed (``changes.workflows.change_complete``).

Only due rows are read (the partial index ``change_pir_overdue``), in batches; each batch locks
its changes with SKIP LOCKED, re-checks the condition on the locked rows and marks them
(``pir_overdue_notified_at``) in the same transaction as the messages, so two sweeps at once never
tell anyone twice and a second run finds nothing. A fixed number of queries per batch.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from changes import notices
from changes.models import Change, ChangeState
from itsm import audit

BATCH = 500
OWED = (ChangeState.APPROVED, ChangeState.IN_PROGRESS, ChangeState.REVIEW)


def pir_overdue(now=None):
    """Changes whose PIR is overdue and nobody has been told yet."""
    now = now or timezone.now()
    return Change.objects.filter(
        pir_due_at__lt=now, pir_recorded_at__isnull=True, pir_overdue_notified_at__isnull=True, state__in=OWED
    )


def pir_overdue_sweep(batch: int = BATCH) -> int:
    """Tell each change's people once that its PIR is overdue; answers how many changes."""
    now = timezone.now()
    due = pir_overdue(now)
    told, last_pk, people = 0, 0, {}
    while True:
        with transaction.atomic():
            page = list(due.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch])
            if not page:
                return told
            last_pk = page[-1]
            changes = list(
                due.filter(pk__in=page)
                .select_for_update(skip_locked=True)
                .select_related("assignee", "assignment_group")
                .order_by("pk")
            )
            if not changes:
                continue
            Change.objects.filter(pk__in=[c.pk for c in changes]).update(pir_overdue_notified_at=now)
            audit.write(
                audit.change_entry(c, None, "pir_overdue_notified_at", None, now, note="The PIR is overdue.")
                for c in changes
            )
            for change in changes:
                change.pir_overdue_notified_at = now
            notices.pir_overdue(changes, people=people)
            told += len(changes)
