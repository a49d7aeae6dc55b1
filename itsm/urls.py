"""itsm's own pages: the front door, sign in and out (at the site root), and the desk's Work
queue (``desk_urlpatterns``, mounted under /desk/ in the ``desk`` namespace by config/urls.py)."""

from django.urls import path, register_converter

from itsm.views import errors, pages, people, search

register_converter(search.RecordNumberConverter, "record_number")

urlpatterns = [
    path("", pages.home, name="home"),
    path("login/", pages.LoginView.as_view(), name="login"),
    path("logout/", pages.LogoutView.as_view(), name="logout"),
    path("favicon.ico", errors.favicon, name="favicon"),
    path("people/", people.suggest, name="people"),
]

desk_urlpatterns = [
    path("", pages.DeskHomeView.as_view(), name="home"),
    path("search/", search.DeskSearchView.as_view(), name="search"),
    # A record page by its number (/desk/incidents/INC0000005/): the domains' pages take the id.
    path("<slug:section>/<record_number:number>/", search.desk_record_by_number, name="record-by-number"),
]
portal_urlpatterns = [
    path("search/", search.PortalSearchView.as_view(), name="search"),
    path("<slug:section>/<record_number:number>/", search.portal_record_by_number, name="record-by-number"),
]
