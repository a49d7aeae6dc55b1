"""The site's URLs: each app exposes its own patterns (desk pages, portal pages, root pages) and
only this module puts them together, so no app imports another app's URLs."""

from django.contrib import admin
from django.urls import include, path

from catalog import urls_desk as catalog_desk_urls
from catalog import urls_items as catalog_item_urls
from catalog import urls_portal as catalog_portal_urls
from changes import urls_desk as change_desk_urls
from changes import urls_feed as change_feed_urls
from incidents import urls_desk as incident_desk_urls
from incidents import urls_portal as incident_portal_urls
from itsm import urls as itsm_urls
from knowledge import urls_desk as knowledge_desk_urls
from knowledge import urls_portal as knowledge_portal_urls
from notifications import urls as notification_urls
from oncall import urls as oncall_urls
from problems import urls_desk as problem_desk_urls
from sla import views as sla_views

desk_patterns = (
    [
        *itsm_urls.desk_urlpatterns,
        *incident_desk_urls.urlpatterns,
        *problem_desk_urls.urlpatterns,
        *change_desk_urls.urlpatterns,
        *catalog_desk_urls.urlpatterns,
        *knowledge_desk_urls.urlpatterns,
        *catalog_item_urls.desk_urlpatterns,
        *oncall_urls.desk_urlpatterns,
        *notification_urls.desk_urlpatterns,
        path("sla/compliance/", sla_views.ComplianceReportView.as_view(), name="sla-compliance"),
    ],
    "desk",
)
portal_patterns = (
    [
        *incident_portal_urls.urlpatterns,
        *knowledge_portal_urls.urlpatterns,
        *catalog_portal_urls.urlpatterns,
        *catalog_item_urls.portal_urlpatterns,
        *itsm_urls.portal_urlpatterns,
    ],
    "portal",
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api")),
    *itsm_urls.urlpatterns,
    path("desk/", include(desk_patterns)),
    path("portal/", include(portal_patterns)),
    *oncall_urls.feed_urlpatterns,
    *change_feed_urls.urlpatterns,
]

handler404 = "itsm.views.errors.page_not_found"
handler403 = "itsm.views.errors.permission_denied"
handler500 = "itsm.views.errors.server_error"
