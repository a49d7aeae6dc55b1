"""Desk pages for problems: the queue, and the problem's page with its tabs (overview with the
RCA panel and the actions, linked incidents and changes, tasks, timeline).

Thin views, as the incident pages: the policy says what the user may read and do, a form shapes
the input, a workflow or service does the write (and checks again), and a refusal comes back on
the page with its message and field errors.

- ``base``: the tabs, the tab base view and its action table (``ProblemTabView.action_table``).
- ``queue``: the problem queue (and its ``PAGE_SIZE``).
- ``known_errors``: the known error database search.
- ``from_incident``: raise a problem from an incident; the known errors matching an incident.
- ``overview``: the fields, the RCA panel and the action forms.
- ``records``: linked incidents and changes, the action URL, tasks, the timeline.
"""

from .from_incident import IncidentKnownErrorsView, ProblemNewView
from .known_errors import KnownErrorSearchView
from .overview import OverviewView, ProblemEditView
from .queue import QUEUE, ProblemListView
from .records import IncidentsView, NotesView, ProblemActionView, TaskActionView, TasksView, TimelineView

__all__ = [
    "QUEUE",
    "IncidentKnownErrorsView",
    "IncidentsView",
    "KnownErrorSearchView",
    "NotesView",
    "OverviewView",
    "ProblemActionView",
    "ProblemEditView",
    "ProblemListView",
    "ProblemNewView",
    "TaskActionView",
    "TasksView",
    "TimelineView",
]
