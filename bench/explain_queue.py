"""Which index serves each filter and ordering of the incident queue: EXPLAIN ANALYZE of the
first page (25 rows) of the API queue's query for each one, on the database ``DATABASE_URL``
names (fill it with ``manage.py seed_bulk``).

    DATABASE_URL=postgres://…/itsm_bulk .venv/bin/python bench/explain_queue.py > /tmp/explain.md

Prints a markdown table: what, the indexes the plan uses, the execution time.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.utils import timezone  # noqa: E402

from incidents.models import Incident  # noqa: E402
from itsm.models import User  # noqa: E402
from itsm.ordering import total  # noqa: E402
from itsm.pagination import keyset_for  # noqa: E402
from sla.clocks import breached_q  # noqa: E402


def after(queryset, ordering, offset: int, user):
    """``queryset`` cut after the row at ``offset`` in ``ordering``, as a cursor page does."""
    keyset = keyset_for(queryset.order_by(*ordering), user=user)
    row = queryset.order_by(*ordering)[offset - 1]
    return queryset.filter(keyset.beyond(keyset.decode(keyset.encode(row))))


def cases():
    agent = User.objects.filter(username__contains="-agent-").order_by("pk").first()
    row = (
        Incident.objects.filter(state="in_progress")
        .order_by("-pk")
        .values("assignment_group_id", "requester_id")[0]
    )
    month_ago = timezone.now() - timezone.timedelta(days=30)
    base = Incident.objects.all()
    default = ("-opened_at", "-id")
    by_priority = tuple(total(Incident, ["priority"]))
    deep, deep_priority = (after(base, ordering, 50_000, agent) for ordering in (default, by_priority))
    return [
        ("default order (newest first)", base, default),
        ("state=in_progress", base.filter(state="in_progress"), default),
        ("state in open states", base.filter(state__in=["new", "in_progress", "on_hold"]), default),
        ("priority=P1", base.filter(priority="P1"), default),
        ("assignment_group", base.filter(assignment_group_id=row["assignment_group_id"]), default),
        ("assignee (mine)", base.filter(assignee=agent), default),
        ("unassigned", base.filter(assignee__isnull=True), default),
        ("requester", base.filter(requester_id=row["requester_id"]), default),
        ("impact=1", base.filter(impact=1), default),
        ("urgency=1", base.filter(urgency=1), default),
        ("source=storm", base.filter(source="storm"), default),
        ("major_incident=true", base.filter(major_incident=True), default),
        ("opened in the last 30 days", base.filter(opened_at__gte=month_ago), default),
        ("breached", base.filter(breached_q()), default),
        ("sla_status=at_risk", base.filter(Q(sla_status="at_risk")), default),
        # ?ordering=… made total as the API and the desk do (itsm.ordering.total), both ways
        *(
            (f"order by {sort}", base, tuple(total(Incident, [sort])))
            for field in ("priority", "state", "impact", "urgency", "updated_at", "number", "opened_at")
            for sort in (field, f"-{field}")
        ),
        # the page after row 50,000 of the default order, by cursor (itsm.pagination.Keyset)
        ("default order, the page after row 50,000 (cursor)", deep, default),
        ("order by priority, the page after row 50,000 (cursor)", deep_priority, by_priority),
    ]


def main() -> None:
    print("| Queue query (first 25 rows) | indexes used | ms |")
    print("|---|---|---:|")
    for name, queryset, order in cases():
        sql, params = queryset.order_by(*order)[:25].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN ANALYZE " + sql, params)
            plan = "\n".join(r[0] for r in cursor.fetchall())
        indexes = sorted(set(re.findall(r"(?:Index|Index Only) Scan(?: Backward)? using (\w+)", plan)))
        indexes += sorted(set(re.findall(r"Bitmap Index Scan on (\w+)", plan)))
        seq = sorted(set(re.findall(r"Seq Scan on (\w+)", plan)))
        used = ", ".join(indexes) + (f"; seq scan: {', '.join(seq)}" if seq else "")
        ms = re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)
        print(f"| {name} | {used} | {float(ms):.1f} |")
        if "-v" in sys.argv:
            print(plan, file=sys.stderr)


if __name__ == "__main__":
    main()
