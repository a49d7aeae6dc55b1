"""The project's URLs plus a desk page for requests, for tests whose request lifecycle names
one (the request workflow and its pages come with their own issue)."""

from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("desk/requests/<int:pk>/", lambda request, pk: HttpResponse(), name="test-request-page"),
    path("", include("config.urls")),
]
