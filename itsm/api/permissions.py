from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from itsm import policy, services


class PolicyPermission(BasePermission):
    """Model- and object-level checks from the policy; the queryset already hides unreadable rows
    (they answer 404). Extra actions (``@action``) declare ``policy_action`` and are checked by
    the workflow they call."""

    message = "You may not do this."

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if not hasattr(view, "get_policy_model"):
            return request.method in SAFE_METHODS  # the API root: a list of links, no records
        model = view.get_policy_model()
        if getattr(view, "action", None) in (None, "list", "retrieve", "metadata"):
            return policy.can(request.user, "read", model)
        if view.action == "create":
            return policy.can(request.user, "create", model)
        # Updates and deletes are decided on the record, after the lookup: a record the user
        # may not read answers 404 (SPEC §4), even when the user may never delete any record.
        return policy.can(request.user, "read", model)

    def has_object_permission(self, request, view, obj):
        if view.action in ("update", "partial_update"):
            if policy.refused_in_state(request.user, "update", obj):
                # Said as the service says it: "You may not change this incident while it is closed."
                raise PermissionDenied(services.refusal(request.user, "update", obj, doing="change"))
            return policy.can(request.user, "update", obj)
        if view.action == "destroy":
            return policy.can(request.user, "delete", obj)
        return True
