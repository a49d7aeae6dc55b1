from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("itsm.api.urls")),
    path("", include("itsm.urls")),
]
