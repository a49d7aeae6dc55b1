"""The navigation's links to the service catalog, and which catalog tabs a user gets, as a
template context processor."""

from functools import cache

from catalog import selectors
from catalog.models import CatalogItem, Request
from itsm import policy


def navigation(request):
    """The catalog links cost nothing beyond the roles (read once per request); the tabs' one
    query (approvals waiting for the user) runs only on a page that shows the tab strip."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_catalog": False, "nav_requests": False, "catalog_tabs": {}}

    @cache
    def catalog_tabs() -> dict:
        manager = policy.has_permission(user, "service_requests.manage")
        waiting = selectors.approvals_awaiting(user).count()
        return {
            "approvals": manager or waiting > 0,
            "waiting": waiting,
            "manage": policy.has_permission(user, "service_catalog.manage"),
        }

    return {
        "nav_catalog": policy.can(user, "read", CatalogItem),
        "nav_requests": policy.can(user, "read", Request),
        "catalog_tabs": catalog_tabs,
    }
