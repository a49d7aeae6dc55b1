"""Desk pages for requests (mounted under /desk/ with the ``desk`` namespace). The catalog item
pages have their own module."""

from django.urls import path

from catalog.actions import ACTIONS
from catalog.models import Request
from catalog.views import desk
from itsm.views.assign import AssignToMeView
from itsm.views.queue import QueueBulkView

urlpatterns: list = [
    path("requests/", desk.RequestListView.as_view(), name="request-list"),
    path("requests/bulk/", QueueBulkView.as_view(queue=desk.QUEUE), name="request-bulk"),
    path("requests/<int:pk>/", desk.OverviewView.as_view(), name="request-detail"),
    path(
        "requests/<int:pk>/assign-to-me/",
        AssignToMeView.as_view(model=Request, actions=ACTIONS, detail="desk:request-detail"),
        name="request-assign-to-me",
    ),
    path("requests/<int:pk>/edit/", desk.RequestEditView.as_view(), name="request-edit"),
    path("requests/<int:pk>/attachments/", desk.RequestAttachView.as_view(), name="request-attach"),
    path("requests/<int:pk>/approvals/", desk.ApprovalsView.as_view(), name="request-approvals"),
    path("requests/<int:pk>/tasks/", desk.TasksView.as_view(), name="request-tasks"),
    path("requests/<int:pk>/notes/", desk.NotesView.as_view(), name="request-notes"),
    path(
        "requests/<int:pk>/notes/<int:note_id>/edit/", desk.NoteEditView.as_view(), name="request-note-edit"
    ),
    path(
        "requests/<int:pk>/notes/<int:note_id>/delete/",
        desk.NoteDeleteView.as_view(),
        name="request-note-delete",
    ),
    path("requests/<int:pk>/timeline/", desk.TimelineView.as_view(), name="request-timeline"),
    path("requests/<int:pk>/actions/<slug:action>/", desk.RequestActionView.as_view(), name="request-action"),
    path(
        "requests/<int:pk>/tasks/<int:task_pk>/<slug:action>/",
        desk.TaskActionView.as_view(),
        name="request-task-action",
    ),
]
