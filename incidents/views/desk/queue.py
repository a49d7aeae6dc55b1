"""The desk's incident queue: the incidents the user may read, filtered, sorted and paged, with the
columns the user may see (and chose), saved views, CSV export and bulk actions.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from incidents import services
from incidents.actions import ACTIONS
from incidents.forms import BulkForm, QueueFilter
from incidents.models import Incident
from incidents.views.desk.base import sla_label
from itsm import policy, queues
from itsm.errors import ItsmError
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
QUEUE = queues.Queue(
    kind="incident",
    label="Incidents",
    model=Incident,
    filterset=QueueFilter,
    columns=QUEUE_COLUMNS,
    url_name="desk:incident-list",
    related=QUEUE_RELATED,
    bulk_url_name="desk:incident-bulk",
)


class IncidentListView(DeskMixin, View):
    """Incidents the user may read — open ones until another state is chosen — filtered, sorted
    and 25, 50 or 100 to a page. The count stops at 1,000 ("more than 1,000 incidents"), and past
    the counted pages "Next" follows a cursor (``itsm.pagination``), so a big queue is not counted
    in full and Next never pays a deep OFFSET. ``?format=csv`` downloads the whole filtered queue."""

    def get(self, request):
        user = request.user
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
        context = {
            "view": self,
            **queue.context(page),
            "show_sla_due": "sla_due_at" not in queue.hidden,
            "hidden": queue.hidden,
        }
        # The row writes its cells in the columns' fixed order, each if shown (no loop per cell).
        context["shown"] = {column["name"]: True for column in context["columns"]}
        context.update(take_context(request, Incident, ACTIONS, page.object_list, "desk:incident-assign-to-me"))
        if any(policy.can(user, action, Incident) for action in services.BULK_ACTIONS):
            context["bulk_form"] = BulkForm(user=user)
        return render_queue(request, "incidents/desk/list.html", context, status=200 if queue.valid else 400)


class IncidentBulkView(DeskMixin, View):
    """The queue's bulk form: the selected incidents go to ``incident_bulk`` (which checks each
    one); the message says how many changed and which were refused, and why."""

    def post(self, request):
        back = request.POST.get("next", "")
        if not back.startswith("/") or not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = QUEUE.url
        form = BulkForm(request.POST, user=request.user)
        if not form.is_valid():
            problems = "; ".join(f"{form.fields[n].label or n}: {' '.join(e)}" for n, e in form.errors.items() if n in form.fields)
            messages.error(request, f"Nothing was changed: {problems or 'please check the form.'}")
            return redirect(back)
        ids = form.selected()
        if not ids:
            messages.error(request, "Nothing was changed: tick the incidents to act on first.")
            return redirect(back)
        data = form.cleaned_data
        try:
            result = services.incident_bulk(
                actor=request.user, action=data["action"], ids=ids, comment=data["comment"],
                resolution_code=data["resolution_code"] or "resolved", assignee=data["assignee"],
                assignment_group=data["assignment_group"],
            )  # fmt: skip
        except ItsmError as exc:
            details = " ".join(p for problems in exc.fields.values() for p in problems)
            messages.error(request, f"Nothing was changed: {exc.message} {details}".strip())
            return redirect(back)
        changed = result["affected"]
        noun = "incident" if result["requested"] == 1 else "incidents"
        summary = f"{changed} of {result['requested']} {noun} changed."
        if changed:
            messages.success(request, summary)
        for refusal in result["refused"]:
            who = refusal["number"] or f"#{refusal['id']}"
            messages.warning(request, f"{who} was not changed: {refusal['reason']}")
        if not changed:
            messages.error(request, summary)
        return redirect(back)
