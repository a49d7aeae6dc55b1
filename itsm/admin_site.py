"""The admin site opens to the people the policy names, not to a hand-set ``is_staff`` flag."""

from django import forms
from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm

from itsm import policy


class PolicyAdminAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "not_admin": "This account may not use the administration pages. "
        "Sign in with an administrator account, or use the desk or the portal.",
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not policy.has_permission(user, "admin.access"):
            raise forms.ValidationError(self.error_messages["not_admin"], code="not_admin")


class ItsmAdminSite(admin.AdminSite):
    site_header = "ITSM administration"
    site_title = "ITSM administration"
    index_title = "Configuration"
    login_form = PolicyAdminAuthenticationForm

    def has_permission(self, request):
        return request.user.is_active and policy.has_permission(request.user, "admin.access")
