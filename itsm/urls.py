from django.urls import include, path

from incidents import urls_desk as incident_desk_urls
from incidents import urls_portal as incident_portal_urls
from itsm.views import pages
from notifications import urls as notification_urls
from oncall import urls as oncall_urls
from sla import views as sla_views

desk_patterns = (
    [
        path("", pages.DeskHomeView.as_view(), name="home"),
        *incident_desk_urls.urlpatterns,
        *oncall_urls.desk_urlpatterns,
        *notification_urls.desk_urlpatterns,
        path("sla/compliance/", sla_views.ComplianceReportView.as_view(), name="sla-compliance"),
    ],
    "desk",
)
portal_patterns = (
    [path("", pages.PortalHomeView.as_view(), name="home"), *incident_portal_urls.urlpatterns],
    "portal",
)

urlpatterns = [
    path("", pages.home, name="home"),
    path("login/", pages.LoginView.as_view(), name="login"),
    path("logout/", pages.LogoutView.as_view(), name="logout"),
    path("desk/", include(desk_patterns)),
    path("portal/", include(portal_patterns)),
    *oncall_urls.feed_urlpatterns,
]
