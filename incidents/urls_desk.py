"""Desk pages for incidents (mounted under /desk/ with the ``desk`` namespace)."""

from django.urls import path

from incidents.actions import ACTIONS
from incidents.models import Incident
from incidents.views import desk
from itsm.views.assign import AssignToMeView
from itsm.views.queue import QueueBulkView

urlpatterns: list = [
    path("incidents/", desk.IncidentListView.as_view(), name="incident-list"),
    path("incidents/bulk/", QueueBulkView.as_view(queue=desk.QUEUE), name="incident-bulk"),
    path("incidents/<int:pk>/", desk.OverviewView.as_view(), name="incident-detail"),
    path(
        "incidents/<int:pk>/assign-to-me/",
        AssignToMeView.as_view(model=Incident, actions=ACTIONS, detail="desk:incident-detail"),
        name="incident-assign-to-me",
    ),
    path("incidents/<int:pk>/edit/", desk.IncidentEditView.as_view(), name="incident-edit"),
    path(
        "incidents/<int:pk>/actions/<slug:action>/", desk.IncidentActionView.as_view(), name="incident-action"
    ),
    path("incidents/<int:pk>/sla/", desk.SlaView.as_view(), name="incident-sla"),
    path("incidents/<int:pk>/sla/<slug:action>/", desk.SlaView.as_view(), name="incident-sla-action"),
    path("incidents/<int:pk>/conversation/", desk.ConversationView.as_view(), name="incident-conversation"),
    path("incidents/<int:pk>/journal/", desk.JournalView.as_view(), name="incident-journal"),
    path(
        "incidents/<int:pk>/notes/<int:note_id>/edit/", desk.NoteEditView.as_view(), name="incident-note-edit"
    ),
    path(
        "incidents/<int:pk>/notes/<int:note_id>/delete/",
        desk.NoteDeleteView.as_view(),
        name="incident-note-delete",
    ),
    path("incidents/<int:pk>/tasks/", desk.TasksView.as_view(), name="incident-tasks"),
    path(
        "incidents/<int:pk>/tasks/<int:task_pk>/<slug:action>/",
        desk.TaskActionView.as_view(),
        name="incident-task-action",
    ),
    path("incidents/<int:pk>/time/", desk.TimeView.as_view(), name="incident-time"),
    path("incidents/<int:pk>/csat/", desk.CsatView.as_view(), name="incident-csat"),
    path("incidents/<int:pk>/timeline/", desk.TimelineView.as_view(), name="incident-timeline"),
    path("incidents/<int:pk>/attachments/", desk.AttachView.as_view(), name="incident-attach"),
]
