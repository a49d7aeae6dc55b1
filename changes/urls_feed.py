"""The public change-calendar feed (mounted at the site root by ``config/urls.py``, no namespace):
``/changes/feeds/<id>/<secret>.ics``. No sign-in: calendar apps subscribe with the link."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.urls import path
from django.views.decorators.http import require_safe

from changes import feeds
from changes.models import CalendarFeedToken
from itsm.validators import is_possible_pk


@require_safe
def feed(request, pk: int, token: str):
    """The iCalendar feed behind a secret link; any wrong, old or refused link is 404."""
    found = feeds.find(pk, token) if is_possible_pk(CalendarFeedToken, pk) else None
    if found is None:
        raise Http404("No such feed.")
    response = HttpResponse(feeds.calendar_text(found), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="change-calendar.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


urlpatterns = [path("changes/feeds/<int:pk>/<str:token>.ics", feed, name="change-calendar-feed")]
