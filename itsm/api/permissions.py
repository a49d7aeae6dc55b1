from rest_framework.permissions import BasePermission

from itsm import policy

ACTION_FOR_METHOD = {
    "GET": "read", "HEAD": "read", "OPTIONS": "read",
    "POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete",
}


class PolicyPermission(BasePermission):
    """Model- and object-level checks from the policy; the queryset already hides unreadable rows
    (they answer 404). Extra actions (``@action``) declare ``policy_action`` and are checked by
    the workflow they call."""

    message = "You may not do this."

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        model = view.get_policy_model()
        if getattr(view, "action", None) in (None, "list", "retrieve", "metadata"):
            return policy.can(request.user, "read", model)
        if view.action == "create":
            return policy.can(request.user, "create", model)
        if view.action in ("update", "partial_update"):
            return policy.can(request.user, "update", model)
        if view.action == "destroy":
            return policy.can(request.user, "delete", model)
        return policy.can(request.user, "read", model)

    def has_object_permission(self, request, view, obj):
        if view.action in ("update", "partial_update"):
            return policy.can(request.user, "update", obj)
        if view.action == "destroy":
            return policy.can(request.user, "delete", obj)
        return True
