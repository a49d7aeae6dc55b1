"""The desk's incident queue: the incidents the user may read, filtered, sorted and paged, with the
columns the user may see.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.views import View

from incidents.forms import QueueFilter
from incidents.models import Incident
from incidents.views.desk.base import sla_label
from itsm import policy
from itsm.pagination import paginate
from itsm.views.base import DeskMixin
from itsm.views.queue import queue_columns
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


class IncidentListView(DeskMixin, View):
    """Incidents the user may read, filtered, sorted and 25 to a page. The count stops at 1,000
    ("more than 1,000 incidents"), and past the counted pages "Next" follows a cursor
    (``itsm.pagination``), so a big queue is not counted in full and Next never pays a deep OFFSET."""

    def get(self, request):
        user = request.user
        hidden = policy.hidden_fields(user, Incident)
        queryset = (
            policy.readable(user, Incident)
            .select_related(*(name for name in QUEUE_RELATED if name not in hidden))
            .order_by("-opened_at", "-pk")
        )
        filterset = QueueFilter(request.GET or None, queryset=queryset, request=request)
        valid = filterset.is_valid() if filterset.is_bound else True
        page = paginate(request, filterset.qs, PAGE_SIZE)
        page.object_list = list(page.object_list)
        if "sla_status" not in hidden:
            # From the row's stored status and due time: no query per row.
            now = timezone.now()
            for incident in page.object_list:
                incident.sla_live = live_status(incident, now)
                incident.sla_live_label = sla_label(incident.sla_live)
        columns = queue_columns(request, filterset, QUEUE_COLUMNS, hidden)
        context = {
            "view": self,
            "page": page,
            "filterset": filterset,
            "form": filterset.form,
            "columns": columns,
            "shown": {column["name"]: True for column in columns},
            "filtered": filterset.is_filtered(),
            "show_sla_due": "sla_due_at" not in hidden,
        }
        return render(request, "incidents/desk/list.html", context, status=200 if valid else 400)
