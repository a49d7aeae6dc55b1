"""The site's own middleware: the signed-in user as a plain object (``SignedInUserMiddleware``),
the Content-Security-Policy header and the site's own 404 page with ``DEBUG`` on.

The Content-Security-Policy header (Django 5.2 has no CSP support of its own):

``SECURE_CSP`` is the policy, a dict of directive to sources; a source ``'nonce'`` stands for this
response's nonce (``request.csp_nonce``, for a ``<style>`` or ``<script>`` element the page
writes itself). ``SECURE_CSP_PATHS`` replaces directives under a URL prefix, the longest prefix
winning, for pages whose templates are not ours (see config/settings.py for why each is there).
Django 6.0's ``SECURE_CSP`` takes the same dict, so moving to it is a middleware swap.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.middleware import get_user
from django.http import Http404
from django.urls import Resolver404, get_resolver, resolve
from django.utils.functional import SimpleLazyObject

from itsm.auth import adopt_model_backend_session

NONCE = "'nonce'"
HEADER = "Content-Security-Policy"


def policy_for(path: str) -> dict[str, list[str]]:
    """The directives that apply to ``path``: ``SECURE_CSP`` with the longest matching
    ``SECURE_CSP_PATHS`` prefix's directives in place of its own."""
    directives = dict(getattr(settings, "SECURE_CSP", {}))
    overrides = getattr(settings, "SECURE_CSP_PATHS", {})
    prefixes = sorted((p for p in overrides if path.startswith(p)), key=len, reverse=True)
    if prefixes:
        directives.update(overrides[prefixes[0]])
    return directives


def header_value(directives: dict[str, list[str]], nonce: str) -> str:
    parts = []
    for name, sources in directives.items():
        values = [f"'nonce-{nonce}'" if source == NONCE else source for source in sources]
        parts.append(" ".join([name, *values]))
    return "; ".join(parts)


class SignedInUserMiddleware:
    """``request.user`` as the user object itself, not Django's lazy stand-in for it.

    ``AuthenticationMiddleware`` puts a ``SimpleLazyObject`` there so that a request which never
    asks who is signed in costs no query. Every page and API call of this site asks (the policy
    reads the user's roles, often a hundred times a page), and each attribute read through the
    stand-in costs a few function calls: on a desk queue page that was some 2,000 calls. Placed
    right after ``AuthenticationMiddleware``, this reads the user once (the same session and user
    queries the page would have made) and puts the object in its place. A request without a
    session cookie reads no row: it is the anonymous user. The user comes with its roles
    (``itsm.auth.UserBackend``); a session signed in before that backend is moved over to it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if isinstance(getattr(request, "user", None), SimpleLazyObject):
            adopt_model_backend_session(request)
            request.user = get_user(request)  # cached on the request: the stand-in would answer the same
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Sends the policy on every response that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(18)
        response = self.get_response(request)
        directives = policy_for(request.path)
        if directives and HEADER not in response:
            response[HEADER] = header_value(directives, request.csp_nonce)
        return response


class NotFoundPageMiddleware:
    """With ``DEBUG`` on, Django answers a missing page with its debug page, which lists every
    URL pattern of the site; the demo runs with ``DEBUG`` on, so a mistyped address would show
    a customer the site's map. This sends an address that matches no URL, and a view's 404, to
    the site's own page (``handler404``) instead. With ``DEBUG`` off it does nothing: Django
    calls ``handler404`` itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.DEBUG:
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404 as exc:
                return _not_found(request, exc)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return _not_found(request, exception)
        return None


def _not_found(request, exception):
    callback = get_resolver(getattr(request, "urlconf", None)).resolve_error_handler(404)
    return callback(request, exception=exception)
