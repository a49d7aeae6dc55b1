"""The desk's incident queue: the incidents the user may read, filtered, sorted and paged, with the
columns the user may see (and chose), saved views, CSV export and bulk actions (the shared
``itsm.views.queue``, with the incidents' ``services.BULK``).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views import View

from incidents import services
from incidents.actions import ACTIONS
from incidents.forms import BulkForm, QueueFilter
from incidents.models import Incident
from incidents.views.desk.base import sla_label
from itsm import queues
from itsm.views import queue_rows
from itsm.views.assign import take_context
from itsm.views.base import DeskMixin
from itsm.views.queue import QueuePage, render_queue
from sla.clocks import live_status

PAGE_SIZE = 25
# The queue's columns, in order (name, heading, sort parameter); hidden fields are dropped.
QUEUE_COLUMNS = (
    ("number", "Number", "number"),
    ("short_description", "Short description", None),
    ("state", "State", "state"),
    ("priority", "Priority", "priority"),
    ("sla_status", "SLA", None),
    ("assignment_group", "Group", None),
    ("assignee", "Assignee", None),
    ("requester", "Requester", None),
    ("opened_at", "Opened", "opened_at"),
    ("updated_at", "Updated", "updated_at"),
)
QUEUE_RELATED = ("assignee", "assignment_group", "requester")


def state_cell(incident, rows, link, name=None):
    """The state, and "Customer replied" when the customer commented after it was resolved."""
    replied = ""
    if incident.customer_replied_at and "customer_replied_at" not in rows.hidden:
        replied = mark_safe(
            ' <span class="badge customer-replied" title="The customer commented after it was resolved">'
            "Customer replied</span>"
        )
    return f"<td>{queue_rows.state_badge(incident)}{replied}</td>"


QUEUE = queues.Queue(
    kind="incident",
    label="Incidents",
    model=Incident,
    filterset=QueueFilter,
    columns=QUEUE_COLUMNS,
    url_name="desk:incident-list",
    related=QUEUE_RELATED,
    bulk=services.BULK,
    bulk_url_name="desk:incident-bulk",
    bulk_form=BulkForm,
    detail_url_name="desk:incident-detail",
    cells=(("state", state_cell),),
)


class IncidentListView(DeskMixin, View):
    """Incidents the user may read — open ones until another state is chosen — filtered, sorted
    and 25, 50 or 100 to a page. The count stops at 1,000 ("more than 1,000 incidents"), and past
    the counted pages "Next" follows a cursor (``itsm.pagination``), so a big queue is not counted
    in full and Next never pays a deep OFFSET. ``?format=csv`` downloads the whole filtered queue."""

    def get(self, request):
        queue = QueuePage(request, QUEUE, page_size=PAGE_SIZE)
        if queue.wants_csv:
            return queue.csv_response(name="incidents")
        page = queue.page()
        if "sla_status" not in queue.hidden:
            # From the row's stored status and due time: no query per row.
            now = timezone.now()
            for incident in page.object_list:
                incident.sla_live = live_status(incident, now)
                incident.sla_live_label = sla_label(incident.sla_live)
        context = {"view": self, **queue.context(page)}
        take = take_context(
            request, Incident, ACTIONS, page.object_list, "desk:incident-assign-to-me",
            groups=queue.read_member_group_ids,
        )  # fmt: skip
        context.update(take)
        context["rows"] = queue.rows(page, context)
        return render_queue(request, "incidents/desk/list.html", context, status=200 if queue.valid else 400)
