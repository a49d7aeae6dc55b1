"""Desk pages for changes (mounted under /desk/ with the ``desk`` namespace)."""

from django.urls import path

from changes.actions import ACTIONS
from changes.models import Change
from changes.views import desk
from itsm.views.assign import AssignToMeView
from itsm.views.queue import QueueBulkView

urlpatterns: list = [
    path("changes/", desk.ChangeListView.as_view(), name="change-list"),
    path("changes/bulk/", QueueBulkView.as_view(queue=desk.QUEUE), name="change-bulk"),
    path("changes/cab/", desk.CabQueueView.as_view(), name="change-cab"),
    path("changes/new/", desk.ChangeNewView.as_view(), name="change-new"),
    path("changes/calendar/", desk.CalendarView.as_view(), name="change-calendar"),
    path("changes/calendar/feed/", desk.FeedView.as_view(), name="change-feed"),
    path("changes/<int:pk>/", desk.OverviewView.as_view(), name="change-detail"),
    path(
        "changes/<int:pk>/assign-to-me/",
        AssignToMeView.as_view(model=Change, actions=ACTIONS, detail="desk:change-detail"),
        name="change-assign-to-me",
    ),
    path("changes/<int:pk>/edit/", desk.ChangeEditView.as_view(), name="change-edit"),
    path("changes/<int:pk>/risk/", desk.RiskView.as_view(), name="change-risk"),
    path("changes/<int:pk>/notes/", desk.NotesView.as_view(), name="change-notes"),
    path("changes/<int:pk>/tasks/", desk.TasksView.as_view(), name="change-tasks"),
    path("changes/<int:pk>/timeline/", desk.TimelineView.as_view(), name="change-timeline"),
    path("changes/<int:pk>/actions/<slug:action>/", desk.ChangeActionView.as_view(), name="change-action"),
    path(
        "changes/<int:pk>/tasks/<int:task_pk>/<slug:action>/",
        desk.TaskActionView.as_view(),
        name="change-task-action",
    ),
    path(
        "incidents/<int:pk>/emergency-change/", desk.EmergencyChangeView.as_view(), name="incident-emergency-change"
    ),
]
