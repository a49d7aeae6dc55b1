"""Desk pages for changes: the change queue and the CAB queue, the new-change form, the change
calendar, the emergency change raised from an incident, and the change's page with its tabs
(overview with the CAB panel, gates, conflicts and PIR; risk and impact; work notes; tasks;
timeline).

Thin views, as the incident and problem pages: the policy says what the user may read and do, a
form shapes the input, a workflow or service does the write (and checks again), and a refusal
comes back on the page with its message and field errors.

- ``base``: the tabs, the tab base view and its action table (``ChangeTabView.action_table``).
- ``queue``: the change queue and the CAB queue.
- ``new``: the new-change form and the emergency change from an incident.
- ``overview``: the fields, the CAB panel, gates, conflicts, PIR and the action forms; the edit form.
- ``records``: risk and impact, work notes, tasks, timeline, and the action URL.
- ``calendar``: the month and week calendar of changes, maintenance windows and freezes.
"""

from .calendar import CalendarView, FeedView
from .new import ChangeNewView, EmergencyChangeView
from .overview import ChangeEditView, OverviewView
from .queue import QUEUE, CabQueueView, ChangeListView
from .records import ChangeActionView, NotesView, RiskView, TaskActionView, TasksView, TimelineView

__all__ = [
    "QUEUE",
    "CabQueueView",
    "CalendarView",
    "ChangeActionView",
    "ChangeEditView",
    "ChangeListView",
    "ChangeNewView",
    "EmergencyChangeView",
    "FeedView",
    "NotesView",
    "OverviewView",
    "RiskView",
    "TaskActionView",
    "TasksView",
    "TimelineView",
]
