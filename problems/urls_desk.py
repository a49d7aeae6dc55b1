"""Desk pages for problems (mounted under /desk/ with the ``desk`` namespace)."""

from django.urls import path

from itsm.views.assign import AssignToMeView
from itsm.views.queue import QueueBulkView
from problems.actions import ACTIONS
from problems.models import Problem
from problems.views import desk

urlpatterns: list = [
    path("problems/", desk.ProblemListView.as_view(), name="problem-list"),
    path("problems/bulk/", QueueBulkView.as_view(queue=desk.QUEUE), name="problem-bulk"),
    path("known-errors/", desk.KnownErrorSearchView.as_view(), name="known-errors"),
    path("problems/new/", desk.ProblemNewView.as_view(), name="problem-new"),
    path(
        "incidents/<int:pk>/known-errors/", desk.IncidentKnownErrorsView.as_view(), name="incident-known-errors"
    ),
    path("problems/<int:pk>/", desk.OverviewView.as_view(), name="problem-detail"),
    path(
        "problems/<int:pk>/assign-to-me/",
        AssignToMeView.as_view(model=Problem, actions=ACTIONS, detail="desk:problem-detail"),
        name="problem-assign-to-me",
    ),
    path("problems/<int:pk>/edit/", desk.ProblemEditView.as_view(), name="problem-edit"),
    path("problems/<int:pk>/incidents/", desk.IncidentsView.as_view(), name="problem-incidents"),
    path("problems/<int:pk>/notes/", desk.NotesView.as_view(), name="problem-notes"),
    path("problems/<int:pk>/tasks/", desk.TasksView.as_view(), name="problem-tasks"),
    path("problems/<int:pk>/timeline/", desk.TimelineView.as_view(), name="problem-timeline"),
    path("problems/<int:pk>/actions/<slug:action>/", desk.ProblemActionView.as_view(), name="problem-action"),
    path(
        "problems/<int:pk>/tasks/<int:task_pk>/<slug:action>/",
        desk.TaskActionView.as_view(),
        name="problem-task-action",
    ),
]
