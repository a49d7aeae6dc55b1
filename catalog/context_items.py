"""The desk navigation's link to catalog item management, as a template context processor
(the request queue's link is ``catalog.context``'s)."""

from itsm import policy


def navigation(request):
    """Whether the signed-in desk user may manage the catalog (``service_catalog.manage``)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_catalog_items": False}
    return {"nav_catalog_items": policy.has_permission(user, "service_catalog.manage")}
