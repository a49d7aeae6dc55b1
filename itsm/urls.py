"""itsm's own pages: the front door, sign in and out (at the site root), and the desk's Work
queue (``desk_urlpatterns``, mounted under /desk/ in the ``desk`` namespace by config/urls.py)."""

from django.urls import path

from itsm.views import errors, pages, search

urlpatterns = [
    path("", pages.home, name="home"),
    path("login/", pages.LoginView.as_view(), name="login"),
    path("logout/", pages.LogoutView.as_view(), name="logout"),
    path("favicon.ico", errors.favicon, name="favicon"),
]

desk_urlpatterns = [
    path("", pages.DeskHomeView.as_view(), name="home"),
    path("search/", search.DeskSearchView.as_view(), name="search"),
]
portal_urlpatterns = [path("search/", search.PortalSearchView.as_view(), name="search")]
