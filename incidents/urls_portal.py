"""Portal pages for incidents, the portal's home among them (mounted under /portal/ with the
``portal`` namespace)."""

from django.urls import path

from incidents.views import portal

urlpatterns: list = [
    path("", portal.PortalHomeView.as_view(), name="home"),
    path("incidents/", portal.IncidentListView.as_view(), name="incident-list"),
    path("incidents/new/", portal.IncidentNewView.as_view(), name="incident-new"),
    path("incidents/<int:pk>/", portal.IncidentDetailView.as_view(), name="incident-detail"),
    path("incidents/<int:pk>/edit/", portal.IncidentEditView.as_view(), name="incident-edit"),
    path("incidents/<int:pk>/comment/", portal.IncidentCommentView.as_view(), name="incident-comment"),
    path("incidents/<int:pk>/csat/", portal.IncidentCsatView.as_view(), name="incident-csat"),
    path("incidents/<int:pk>/cancel/", portal.IncidentCancelView.as_view(), name="incident-cancel"),
    path("incidents/<int:pk>/attach/", portal.IncidentAttachView.as_view(), name="incident-attach"),
]
