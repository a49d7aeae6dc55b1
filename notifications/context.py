"""The desk navigation's unread-notification count, as a template context processor."""

from django.utils.functional import SimpleLazyObject

from itsm import policy
from notifications.services import unread_count


def unread(request):
    """How many unread notifications a desk user has: one query, made only when a page shows
    the count. A customer has no desk navigation, so it is never counted."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not policy.has_permission(user, "desk.access"):
        return {"nav_unread": 0}
    return {"nav_unread": SimpleLazyObject(lambda: unread_count(user))}
