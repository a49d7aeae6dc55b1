"""The API's URLs (mounted under /api/): every app's viewsets on one router, the schema and its
docs. Apps expose viewsets; only this module knows them all."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from catalog.api.views import CatalogCategoryViewSet, CatalogItemViewSet, RequestTaskViewSet, RequestViewSet
from changes.api.calendar import ChangeCalendarViewSet
from changes.api.emergency import emergency_change
from changes.api.views import (
    ChangeFreezeViewSet,
    ChangeTaskViewSet,
    ChangeViewSet,
    GovernanceTemplateViewSet,
    MaintenanceWindowViewSet,
)
from escalation.api import EscalationPolicyViewSet
from incidents.api.events import EventViewSet
from incidents.api.views import IncidentTaskViewSet, IncidentViewSet
from itsm.api import views
from itsm.api.saved_views import SavedViewViewSet
from knowledge.api.views import ArticleViewSet, promote_to_knowledge
from notifications.api import NotificationViewSet
from oncall.api.views import ScheduleViewSet
from problems.api.known_errors import KnownErrorViewSet, match_known_errors
from problems.api.views import ProblemTaskViewSet, ProblemViewSet
from sla.api.views import BusinessCalendarViewSet, HolidayViewSet
from sla.api_report import ComplianceView

router = DefaultRouter()
router.register("work", views.WorkViewSet, basename="work")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("assignment-groups", views.AssignmentGroupViewSet, basename="assignment-group")
router.register("sla-definitions", views.SlaDefinitionViewSet, basename="sla-definition")
router.register("business-calendars", BusinessCalendarViewSet, basename="business-calendar")
router.register("holidays", HolidayViewSet, basename="holiday")
router.register("escalation-policies", EscalationPolicyViewSet, basename="escalation-policy")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("hosts", views.HostViewSet, basename="host")
router.register("host-groups", views.HostGroupViewSet, basename="host-group")
router.register("host-group-dependencies", views.HostGroupDependencyViewSet, basename="host-group-dependency")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("incident-tasks", IncidentTaskViewSet, basename="incident-task")
router.register("events", EventViewSet, basename="event")
router.register("problems", ProblemViewSet, basename="problem")
router.register("problem-tasks", ProblemTaskViewSet, basename="problem-task")
router.register("changes", ChangeViewSet, basename="change")
router.register("change-tasks", ChangeTaskViewSet, basename="change-task")
router.register("governance-templates", GovernanceTemplateViewSet, basename="governance-template")
router.register("maintenance-windows", MaintenanceWindowViewSet, basename="maintenance-window")
router.register("change-freezes", ChangeFreezeViewSet, basename="change-freeze")
router.register("change-calendar", ChangeCalendarViewSet, basename="change-calendar")
router.register("oncall-schedules", ScheduleViewSet, basename="oncall-schedule")
router.register("me", views.MeViewSet, basename="me")
router.register("saved-views", SavedViewViewSet, basename="saved-view")
router.register("known-errors", KnownErrorViewSet, basename="known-error")
router.register("articles", ArticleViewSet, basename="article")
router.register("catalog-categories", CatalogCategoryViewSet, basename="catalog-category")
router.register("catalog-items", CatalogItemViewSet, basename="catalog-item")
router.register("requests", RequestViewSet, basename="request")
router.register("request-tasks", RequestTaskViewSet, basename="request-task")

urlpatterns = [
    path("v1/sla-compliance/", ComplianceView.as_view(), name="sla-compliance"),
    path("v1/incidents/<int:pk>/match-known-errors/", match_known_errors, name="match-known-errors"),
    path("v1/incidents/<int:pk>/emergency-change/", emergency_change, name="emergency-change"),
    # Any integer (a negative one too) reaches the view, which answers a JSON 404 for no such incident.
    re_path(
        r"^v1/incidents/(?P<pk>-?[0-9]+)/promote-to-knowledge/$", promote_to_knowledge, name="promote-to-knowledge"
    ),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script for the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
