from django.urls import include, path

from itsm.views import pages

desk_patterns = ([path("", pages.DeskHomeView.as_view(), name="home")], "desk")
portal_patterns = ([path("", pages.PortalHomeView.as_view(), name="home")], "portal")

urlpatterns = [
    path("", pages.home, name="home"),
    path("login/", pages.LoginView.as_view(), name="login"),
    path("logout/", pages.LogoutView.as_view(), name="logout"),
    path("desk/", include(desk_patterns)),
    path("portal/", include(portal_patterns)),
]
