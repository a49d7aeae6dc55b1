"""Desk pages for incidents: the queue, and the incident's page with its tabs (overview, SLA and
escalation, conversation, work journal, tasks, time, CSAT, timeline) and a form for each action.

Thin views: the policy says what the user may read and do, a form shapes the input, a workflow
or service does the write (and checks again), and a refusal (``ItsmError``) comes back on the
page with its message and field errors.

- ``base``: the incident if the user may read it, the tabs, the tab base view, shared helpers.
- ``queue``: the incident queue (and its ``PAGE_SIZE``).
- ``overview``: the fields, the edit form and the actions.
- ``sla``: the SLA clocks and the escalation policy, with the Acknowledge and Escalate forms.
- ``notes``: the conversation and the work journal; editing and deleting a note.
- ``records``: tasks, time, CSAT and the timeline.
- ``attachments``: attaching files from the overview's attachments card.

The views are re-exported here for the URL conf; settings such as ``PAGE_SIZE`` live (and are
patched) in their own module.
"""

from .attachments import AttachView
from .notes import ConversationView, JournalView, NoteDeleteView, NoteEditView
from .overview import IncidentActionView, IncidentEditView, OverviewView
from .queue import QUEUE, IncidentListView
from .records import CsatView, TaskActionView, TasksView, TimelineView, TimeView
from .sla import SlaView

__all__ = [
    "QUEUE",
    "AttachView",
    "ConversationView",
    "CsatView",
    "IncidentActionView",
    "IncidentEditView",
    "IncidentListView",
    "JournalView",
    "NoteDeleteView",
    "NoteEditView",
    "OverviewView",
    "SlaView",
    "TaskActionView",
    "TasksView",
    "TimeView",
    "TimelineView",
]
