from django.urls import include, path

from incidents import urls_desk as incident_desk_urls
from incidents import urls_portal as incident_portal_urls
from itsm.views import pages
from oncall import urls as oncall_urls

desk_patterns = (
    [
        path("", pages.DeskHomeView.as_view(), name="home"),
        *incident_desk_urls.urlpatterns,
        *oncall_urls.desk_urlpatterns,
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
