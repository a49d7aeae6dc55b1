"""The desk's problem queue: the problems the user may read, filtered, sorted and paged, with the
columns the user may see."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views import View

from itsm import policy
from itsm.pagination import paginate
from itsm.views.assign import take_context
from itsm.views.base import DeskMixin
from itsm.views.queue import queue_columns
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


class ProblemListView(DeskMixin, View):
    """Problems the user may read, filtered, sorted and 25 to a page. The count stops at 1,000
    and past the counted pages "Next" follows a cursor (``itsm.pagination``), as on the incident
    queue. Desk users who may not read problems at all get a 404, as for every problem URL."""

    def get(self, request):
        user = request.user
        if not policy.can(user, "read", Problem):
            raise Http404("No such page.")  # as every problem URL: the desk hides problems from them
        hidden = policy.hidden_fields(user, Problem)
        queryset = (
            policy.readable(user, Problem)
            .select_related(*(name for name in QUEUE_RELATED if name not in hidden))
            .order_by("-opened_at", "-pk")
        )
        filterset = QueueFilter(request.GET or None, queryset=queryset, request=request)
        valid = filterset.is_valid() if filterset.is_bound else True
        page = paginate(request, filterset.qs, PAGE_SIZE)
        page.object_list = list(page.object_list)
        columns = queue_columns(request, filterset, QUEUE_COLUMNS, hidden)
        context = {
            "view": self,
            "page": page,
            "filterset": filterset,
            "form": filterset.form,
            "columns": columns,
            "filtered": filterset.is_filtered(),
        }
        context.update(take_context(request, Problem, ACTIONS, page.object_list, "desk:problem-assign-to-me"))
        return render(request, "problems/desk/list.html", context, status=200 if valid else 400)
