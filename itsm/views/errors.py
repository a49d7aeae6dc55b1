"""The site's own error pages (404, 403, 500) in its look, and the favicon.

``config/urls.py`` names them as Django's handlers. With ``DEBUG`` on (the demo) Django would
answer a missing page with its debug page, which lists every URL pattern:
``itsm.middleware.NotFoundPageMiddleware`` sends those to ``page_not_found`` too. The 500 page
renders without the request's context: no database, no session, nothing that may be what failed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotFound, HttpResponseServerError
from django.template import loader
from django.views.decorators.http import require_safe

FAVICON = Path(__file__).resolve().parent.parent / "static" / "itsm" / "favicon.svg"


def page_not_found(request, exception=None):
    return HttpResponseNotFound(loader.render_to_string("404.html", {"path": request.path}, request))


def permission_denied(request, exception=None):
    return HttpResponseForbidden(loader.render_to_string("403.html", {}, request))


def server_error(request):
    return HttpResponseServerError(loader.get_template("500.html").render())


@lru_cache(maxsize=1)
def _favicon() -> bytes:
    return FAVICON.read_bytes()


@require_safe
def favicon(request):
    """``/favicon.ico`` for browsers that ask for it without reading the page's link."""
    response = HttpResponse(_favicon(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
