"""The desk navigation's link to the request queue, as a template context processor."""

from catalog.models import Request
from itsm import policy


def navigation(request):
    """Whether the signed-in user may read requests (the roles are read once per request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_requests": False}
    return {"nav_requests": policy.can(user, "read", Request)}
