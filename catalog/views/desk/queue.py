"""The desk's request queue: the requests the user may read, filtered, sorted and paged, with the
columns the user may see. It opens on open work (submitted, pending approval, approved, in
fulfilment); "Any state" shows every request."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django.utils.html import format_html
from django.views import View

from catalog import services
from catalog.actions import ACTIONS
from catalog.models import Request
from catalog.views.desk.forms import QueueFilter
from itsm import policy, queues
from itsm.views import queue_rows
from itsm.views.assign import take_context
from itsm.views.base import DeskMixin
from itsm.views.queue import QueuePage, render_queue
from sla.clocks import live_status
from sla.models import SlaStatus

PAGE_SIZE = 25
# The queue's columns, in order (name, heading, sort parameter); hidden fields are dropped.
QUEUE_COLUMNS = (
    ("number", "Number", "number"),
    ("short_description", "Short description", None),
    ("catalog_item", "Item", None),
    ("state", "State", "state"),
    ("priority", "Priority", "priority"),
    ("sla_status", "SLA", None),
    ("assignment_group", "Group", None),
    ("assignee", "Assignee", None),
    ("requester", "Requested by", None),
    ("opened_at", "Opened", "opened_at"),
    ("updated_at", "Updated", "updated_at"),
)
QUEUE_RELATED = ("assignee", "assignment_group", "requester", "catalog_item")


def item_cell(record, rows, link, name=None):
    """The item's name (a request older than the catalog has none: a dash)."""
    item = record.catalog_item
    return format_html("<td>{}</td>", queue_rows.DASH if item is None else item.name)


# What a queue row never shows: the answers and the item's form are JSON decoded per row.
QUEUE_DEFERRED = ("form_data", "description", "catalog_item__form_fields", "catalog_item__description")
DEFAULT_STATE = "open"
QUEUE = queues.Queue(
    kind="request",
    label="Requests",
    model=Request,
    filterset=QueueFilter,
    columns=QUEUE_COLUMNS,
    url_name="desk:request-list",
    bulk=services.BULK,
    bulk_url_name="desk:request-bulk",
    related=QUEUE_RELATED,
    deferred=QUEUE_DEFERRED,
    default_state=DEFAULT_STATE,
    detail_url_name="desk:request-detail",
    cells=(("catalog_item", item_cell),),
)


class RequestListView(DeskMixin, View):
    """Requests the user may read, filtered, sorted and 25, 50 or 100 to a page (saved views,
    columns and CSV export: ``itsm.views.queue``). The count stops at 1,000 and
    past the counted pages "Next" follows a cursor (``itsm.pagination``), as on the other queues.
    Desk users who may not read requests get a 404, as for every request URL."""

    def get(self, request):
        user = request.user
        if not policy.can(user, "read", Request):
            raise Http404("No such page.")
        queue = QueuePage(request, QUEUE, page_size=PAGE_SIZE)
        if queue.wants_csv:
            return queue.csv_response(name="requests")
        page = queue.page()
        if "sla_status" not in queue.hidden:
            # From the row's stored status and due time: no query per row.
            now = timezone.now()
            for record in page.object_list:
                record.sla_live = live_status(record, now)
                record.sla_live_label = (
                    SlaStatus(record.sla_live).label if record.sla_live in SlaStatus.values else ""
                )
        context = {"view": self, **queue.context(page)}
        take = take_context(
            request, Request, ACTIONS, page.object_list, "desk:request-assign-to-me",
            groups=queue.read_member_group_ids,
        )  # fmt: skip
        context.update(take)
        context["rows"] = queue.rows(page, context)
        return render_queue(request, "catalog/desk/list.html", context, status=200 if queue.valid else 400)
