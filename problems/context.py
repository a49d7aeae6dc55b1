"""The desk navigation's link to the problem queue, as a template context processor."""

from itsm import policy
from problems.models import Problem


def navigation(request):
    """Whether the signed-in user may read problems (the roles are read once per request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_problems": False}
    return {"nav_problems": policy.can(user, "read", Problem)}
