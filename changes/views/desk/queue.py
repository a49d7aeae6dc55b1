"""The desk's change queue (every change the user may read, filtered, sorted and paged) and the
CAB queue (the changes submitted for a decision, for holders of ``changes.approve``)."""

from __future__ import annotations

from django.db.models import F
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views import View

from changes import services
from changes.actions import ACTIONS
from changes.models import Change
from changes.page_forms import QueueFilter
from itsm import policy, queues
from itsm.pagination import paginate
from itsm.views import queue_rows
from itsm.views.assign import take_context
from itsm.views.base import DeskMixin
from itsm.views.queue import QueuePage, render_queue

PAGE_SIZE = 25
# The queue's columns, in order (name, heading, sort parameter); hidden fields are dropped.
QUEUE_COLUMNS = (
    ("number", "Number", "number"),
    ("short_description", "Short description", None),
    ("change_type", "Type", None),
    ("state", "State", "state"),
    ("risk_level", "Risk", None),
    ("planned_start", "Planned start", "planned_start"),
    ("assignment_group", "Group", None),
    ("assignee", "Assignee", None),
    ("opened_at", "Opened", "opened_at"),
)
QUEUE_RELATED = ("assignee", "assignment_group")


def title_cell(change, rows, link, name=None):
    """The short description, and "PIR overdue" when its review is late (``_mark_overdue``)."""
    late = mark_safe(' <span class="badge chg-overdue">PIR overdue</span>') if getattr(change, "pir_late", False) else ""
    return format_html('<td><a href="{}">{}</a>{}</td>', link, change.short_description, late)


def type_cell(change, rows, link, name=None):
    return format_html('<td class="nowrap">{}</td>', change.get_change_type_display())


def risk_cell(change, rows, link, name=None):
    if not change.risk_level:
        return format_html('<td class="nowrap">{}</td>', queue_rows.DASH)
    score = format_html(' <span class="chg-score">{}</span>', change.risk_score) if change.risk_score else ""
    return format_html(
        '<td class="nowrap"><span class="badge chg-risk chg-risk-{}">{}{}</span></td>',
        change.risk_level, change.get_risk_level_display(), score,
    )  # fmt: skip


QUEUE = queues.Queue(
    kind="change",
    label="Changes",
    model=Change,
    filterset=QueueFilter,
    columns=QUEUE_COLUMNS,
    url_name="desk:change-list",
    bulk=services.BULK,
    bulk_url_name="desk:change-bulk",
    related=QUEUE_RELATED,
    detail_url_name="desk:change-detail",
    cells=(
        ("short_description", title_cell), ("change_type", type_cell), ("risk_level", risk_cell),
        ("planned_start", queue_rows.date_cell("planned_start")),
    ),
)
CAB_COLUMNS = (
    ("number", "Number", None),
    ("short_description", "Short description", None),
    ("change_type", "Type", None),
    ("risk_level", "Risk", None),
    ("planned_start", "Planned start", None),
    ("requester", "Requested by", None),
    ("assignee", "Assignee", None),
    ("opened_at", "Opened", None),
)
CAB_RELATED = ("assignee", "requester", "governance_template")


def _related(names, hidden) -> list[str]:
    return [name for name in names if name not in hidden]


def _mark_overdue(changes, hidden) -> None:
    """Whether each change's review is overdue, from its own row: no query per row."""
    if "pir_due_at" in hidden:
        return
    now = timezone.now()
    for change in changes:
        change.pir_late = bool(change.pir_due_at and not change.pir_recorded_at and change.pir_due_at < now)


class ChangeListView(DeskMixin, View):
    """Changes the user may read — open ones until another state is chosen — filtered, sorted
    and 25, 50 or 100 to a page (saved views, columns and CSV export: ``itsm.views.queue``). The count stops at 1,000 and
    past the counted pages "Next" follows a cursor (``itsm.pagination``), as on the other queues.
    Desk users who may not read changes get a 404, as for every change URL."""

    def get(self, request):
        user = request.user
        if not policy.can(user, "read", Change):
            raise Http404("No such page.")
        queue = QueuePage(request, QUEUE, page_size=PAGE_SIZE)
        if queue.wants_csv:
            return queue.csv_response(name="changes")
        page = queue.page()
        _mark_overdue(page.object_list, queue.hidden)
        context = {
            "view": self,
            **queue.context(page),
            "may_create": policy.can(user, "create", Change),
            "may_decide": policy.has_permission(user, "changes.approve"),
        }
        take = take_context(
            request, Change, ACTIONS, page.object_list, "desk:change-assign-to-me",
            groups=queue.read_member_group_ids,
        )  # fmt: skip
        context.update(take)
        context["rows"] = queue.rows(page, context)
        return render_queue(request, "changes/desk/list.html", context, status=200 if queue.valid else 400)


class CabQueueView(DeskMixin, View):
    """The changes awaiting the CAB's decision, the soonest planned first (those without a
    planned start last), 25 to a page. Only for holders of ``changes.approve``; another desk user
    is told politely that the CAB queue is not theirs (403)."""

    template_name = "changes/desk/cab.html"

    def get(self, request):
        user = request.user
        if not policy.can(user, "read", Change):
            raise Http404("No such page.")
        if not policy.has_permission(user, "changes.approve"):
            return render(request, self.template_name, {"refused": True}, status=403)
        hidden = policy.hidden_fields(user, Change)
        queryset = (
            policy.readable(user, Change)
            .filter(state="submitted")
            .select_related(*_related(CAB_RELATED, hidden))
            .order_by(F("planned_start").asc(nulls_last=True), "pk")
        )
        page = paginate(request, queryset, PAGE_SIZE)
        page.object_list = list(page.object_list)
        now = timezone.now()
        for change in page.object_list:
            change.mine = user.pk in (change.requester_id, change.assignee_id)
            change.notice_hours = (
                int((change.planned_start - now).total_seconds() // 3600) if change.planned_start else None
            )
        columns = [
            {"name": name, "label": label, "sort": None, "direction": None}
            for name, label, _ in CAB_COLUMNS
            if name not in hidden
        ]
        context = {"view": self, "page": page, "columns": columns, "may_create": policy.can(user, "create", Change)}
        return render(request, self.template_name, context)
