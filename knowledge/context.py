"""The navigation's links to the knowledge base, as a template context processor: the desk's
article list for desk users who may read articles, the portal's knowledge search for everyone
who may read any article (customers read published articles for everyone)."""

from itsm import policy
from knowledge.models import Article


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_knowledge_desk": False, "nav_knowledge_portal": False}
    may_read = policy.can(user, "read", Article)
    return {
        "nav_knowledge_desk": may_read and policy.has_permission(user, "desk.access"),
        "nav_knowledge_portal": may_read,
    }
