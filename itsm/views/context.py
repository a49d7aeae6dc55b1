from django.utils.functional import SimpleLazyObject

from itsm import policy
from itsm.policy.rules import PERMISSIONS


def navigation(request):
    """What the page chrome needs: which doors the signed-in user may use, and (for the desk)
    how many unread notifications it has: one query, made only when a page shows the count."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_desk": False, "nav_admin": False, "nav_unread": 0, "nav_sla_report": False}
    nav_desk = policy.has_permission(user, "desk.access")
    unread = 0
    if nav_desk:
        from notifications.services import unread_count

        unread = SimpleLazyObject(lambda: unread_count(user))
    return {
        "nav_desk": nav_desk,
        "nav_admin": policy.has_permission(user, "admin.access"),
        "nav_unread": unread,
        # The SLA compliance page comes with its own permission (absent: no link).
        "nav_sla_report": "sla.report" in PERMISSIONS and policy.has_permission(user, "sla.report"),
    }
