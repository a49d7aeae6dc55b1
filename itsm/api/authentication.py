"""API sign-in: DRF's token authentication reading the token, its user and the user's roles in
one query (``itsm.auth.with_held_roles``), as ``itsm.auth.UserBackend`` does for sessions."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from itsm.auth import take_held_roles, with_held_roles


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        model = self.get_model()
        tokens = with_held_roles(model.objects.select_related("user"), "user_id")
        try:
            token = tokens.get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        take_held_roles(token, token.user)
        return (token.user, token)
