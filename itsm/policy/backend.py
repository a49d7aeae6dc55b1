"""Lets ``user.has_perm("incidents.manage")`` answer from the policy's named permissions."""

from itsm.policy.rules import PERMISSIONS


class PolicyBackend:
    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm, obj=None):
        if obj is not None or perm not in PERMISSIONS:
            return False
        from itsm.policy import has_permission

        return has_permission(user_obj, perm)

    def has_module_perms(self, user_obj, app_label):
        return False
