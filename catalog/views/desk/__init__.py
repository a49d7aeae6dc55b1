"""Desk pages for requests: the request queue and the request's page with its tabs (overview
with the submitted form data and the actions, approvals, tasks, notes, timeline).

Thin views, as the incident, problem and change pages: the policy says what the user may read
and do, a form shapes the input, a workflow or service does the write (and checks again), and a
refusal comes back on the page with its message and field errors.

- ``base``: the tabs, the tab base view and its action table (``RequestTabView.action_table``).
- ``forms``: the queue's filters, the edit form, the note composer.
- ``queue``: the request queue (and its ``PAGE_SIZE``).
- ``overview``: the fields, the submitted form data, the action forms; the edit form.
- ``records``: approvals, tasks, notes, timeline, and the action URL.
"""

from .overview import OverviewView, RequestAttachView, RequestEditView
from .queue import QUEUE, RequestListView
from .records import (
    ApprovalsView,
    NoteDeleteView,
    NoteEditView,
    NotesView,
    RequestActionView,
    TaskActionView,
    TasksView,
    TimelineView,
)

__all__ = [
    "QUEUE",
    "ApprovalsView",
    "NoteDeleteView",
    "NoteEditView",
    "NotesView",
    "OverviewView",
    "RequestActionView",
    "RequestAttachView",
    "RequestEditView",
    "RequestListView",
    "TaskActionView",
    "TasksView",
    "TimelineView",
]
