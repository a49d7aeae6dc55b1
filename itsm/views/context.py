from itsm import policy
from itsm.policy.rules import PERMISSIONS


def navigation(request):
    """What the page chrome needs: which doors the signed-in user may use (the desk's unread
    count comes from ``notifications.context.unread``)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_desk": False, "nav_admin": False, "nav_sla_report": False}
    return {
        "nav_desk": policy.has_permission(user, "desk.access"),
        "nav_admin": policy.has_permission(user, "admin.access"),
        # The SLA compliance page comes with its own permission (absent: no link).
        "nav_sla_report": "sla.report" in PERMISSIONS and policy.has_permission(user, "sla.report"),
    }
