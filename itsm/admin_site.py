"""The admin site opens to the people the policy names, not to a hand-set ``is_staff`` flag; its
autocomplete (the people, group and organisation pickers of the admin forms) answers from the
policy too."""

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm

from itsm import people, policy


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


class PolicyAutocompleteView(AutocompleteJsonView):
    """Django admin's autocomplete for a field of a record type the policy declares: the people
    its ``itsm.people`` source allows the reader (an assignee field: the holders of the permission
    its service checks, as the desk's pickers offer), or else the choices the policy lets the
    reader pick (``policy.limit_choices``, what the form field accepts); nothing for a field
    hidden from the reader. Not the user admin's view permission: an agent who may edit an
    incident here picks its assignee without managing accounts. Any other field: Django's rule."""

    def process_request(self, request):
        answer = super().process_request(request)  # refuses a malformed model or field
        # The record type asked about (an incident), not the model declaring the field (Work).
        self.source_model = apps.get_model(request.GET["app_label"], request.GET["model_name"])
        return answer

    def choices(self):
        """What the field may be given, for this reader; None when the policy does not declare it."""
        user, field, model = self.request.user, self.source_field, self.source_model
        source = people.SOURCES.get(f"{model._meta.label_lower}.{field.name}")
        if source is not None:
            return source.allowed(user)
        if not policy.is_declared(model) or not policy.can(user, "read", model):
            return None
        related = field.related_model._default_manager.all()
        if field.name in policy.hidden_fields(user, model):
            return related.none()
        return policy.limit_choices(user, field.name, related)

    def has_perm(self, request, obj=None):
        self.allowed = self.choices()
        return self.allowed is not None or super().has_perm(request, obj)

    def get_queryset(self):
        if self.allowed is None:
            return super().get_queryset()
        found = self.allowed.complex_filter(self.source_field.get_limit_choices_to())
        found, distinct = self.model_admin.get_search_results(self.request, found, self.term)
        if distinct:
            found = found.distinct()
        return found.order_by(*(self.model_admin.get_ordering(self.request) or ()), "pk")

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        if isinstance(obj, get_user_model()):
            result["text"] = people.label(self.request.user, obj)  # "Full Name (username)"
        return result


class ItsmAdminSite(admin.AdminSite):
    site_header = "ITSM administration"
    site_title = "ITSM administration"
    index_title = "Configuration"
    login_form = PolicyAdminAuthenticationForm

    def has_permission(self, request):
        return request.user.is_active and policy.has_permission(request.user, "admin.access")

    def autocomplete_view(self, request):
        return PolicyAutocompleteView.as_view(admin_site=self)(request)
