"""itsm's own pages: the front door, sign in and out (at the site root), and the desk's Work
queue (``desk_urlpatterns``, mounted under /desk/ in the ``desk`` namespace by config/urls.py)."""

from django.urls import path, register_converter

from itsm.views import attachments, errors, pages, people, saved, search

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
    path("views/", saved.SavedViewCreateView.as_view(), name="saved-view-create"),
    path("views/<int:pk>/", saved.SavedViewChangeView.as_view(), name="saved-view-change"),
    # A record page by its number (/desk/incidents/INC0000005/): the domains' pages take the id.
    path("<slug:section>/<record_number:number>/", search.desk_record_by_number, name="record-by-number"),
]
portal_urlpatterns = [
    path("search/", search.PortalSearchView.as_view(), name="search"),
    path("<slug:section>/<record_number:number>/", search.portal_record_by_number, name="record-by-number"),
]

# Files on any record (itsm.views.attachments): downloads ask the policy; a domain mounts uploads.
desk_urlpatterns += [
    path("attachments/<int:pk>/", attachments.DeskDownloadView.as_view(), name="attachment-download"),
    path("attachments/<int:pk>/remove/", attachments.DeskRemoveView.as_view(), name="attachment-remove"),
]
portal_urlpatterns += [
    path("attachments/<int:pk>/", attachments.PortalDownloadView.as_view(), name="attachment-download"),
]
