"""The navigation's link to the knowledge base, as a template context processor: the desk's
article list for desk users who may read articles, the portal's knowledge search for the others
who may read any article (customers read published articles for everyone)."""

from itsm import policy
from knowledge.models import Article


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_knowledge_desk": False, "nav_knowledge_portal": False}
    may_read = policy.can(user, "read", Article)
    desk = may_read and policy.has_permission(user, "desk.access")
    # One "Knowledge" link: desk users get the desk's list (whose articles link to the portal's
    # page, "as readers see it"); everyone else the portal's search.
    return {"nav_knowledge_desk": desk, "nav_knowledge_portal": may_read and not desk}
