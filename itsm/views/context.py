from itsm import policy


def navigation(request):
    """What the page chrome needs: which doors the signed-in user may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_desk": False, "nav_admin": False}
    return {
        "nav_desk": policy.has_permission(user, "desk.access"),
        "nav_admin": policy.has_permission(user, "admin.access"),
    }
