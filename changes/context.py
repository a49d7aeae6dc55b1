"""The desk navigation's link to the change queue, as a template context processor."""

from changes.models import Change
from itsm import policy


def navigation(request):
    """Whether the signed-in user may read changes (the roles are read once per request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_changes": False}
    return {"nav_changes": policy.can(user, "read", Change)}
