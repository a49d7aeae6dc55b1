"""The desk's problem queue: the problems the user may read, filtered, sorted and paged, with the
columns the user may see."""

from __future__ import annotations

from django.http import Http404
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views import View

from itsm import policy, queues
from itsm.views.assign import take_context
from itsm.views.base import DeskMixin
from itsm.views.queue import QueuePage, render_queue
from problems import services
from problems.actions import ACTIONS
from problems.forms import QueueFilter
from problems.models import Problem

PAGE_SIZE = 25
# The queue's columns, in order (name, heading, sort parameter); hidden fields are dropped.
QUEUE_COLUMNS = (
    ("number", "Number", "number"),
    ("short_description", "Short description", None),
    ("state", "State", "state"),
    ("priority", "Priority", "priority"),
    ("is_known_error", "Known error", None),
    ("incident_count", "Incidents", None),
    ("assignment_group", "Group", None),
    ("assignee", "Assignee", None),
    ("opened_at", "Opened", "opened_at"),
    ("updated_at", "Updated", "updated_at"),
)
QUEUE_RELATED = ("assignee", "assignment_group")


def known_error_cell(problem, rows, link, name=None):
    return mark_safe("<td>Yes</td>" if problem.is_known_error else '<td><span class="muted">No</span></td>')


def incident_count_cell(problem, rows, link, name=None):
    return format_html('<td class="numeric">{}</td>', problem.incident_count)


QUEUE = queues.Queue(
    kind="problem",
    label="Problems",
    model=Problem,
    filterset=QueueFilter,
    columns=QUEUE_COLUMNS,
    url_name="desk:problem-list",
    bulk=services.BULK,
    bulk_url_name="desk:problem-bulk",
    related=QUEUE_RELATED,
    detail_url_name="desk:problem-detail",
    cells=(("is_known_error", known_error_cell), ("incident_count", incident_count_cell)),
)


class ProblemListView(DeskMixin, View):
    """Problems the user may read — open ones until another state is chosen — filtered, sorted
    and 25, 50 or 100 to a page (saved views, columns and CSV export: ``itsm.views.queue``). The count stops at 1,000
    and past the counted pages "Next" follows a cursor (``itsm.pagination``), as on the incident
    queue. Desk users who may not read problems at all get a 404, as for every problem URL."""

    def get(self, request):
        user = request.user
        if not policy.can(user, "read", Problem):
            raise Http404("No such page.")  # as every problem URL: the desk hides problems from them
        queue = QueuePage(request, QUEUE, page_size=PAGE_SIZE)
        if queue.wants_csv:
            return queue.csv_response(name="problems")
        page = queue.page()
        context = {"view": self, **queue.context(page)}
        take = take_context(
            request, Problem, ACTIONS, page.object_list, "desk:problem-assign-to-me",
            groups=queue.read_member_group_ids,
        )  # fmt: skip
        context.update(take)
        context["rows"] = queue.rows(page, context)
        return render_queue(request, "problems/desk/list.html", context, status=200 if queue.valid else 400)
