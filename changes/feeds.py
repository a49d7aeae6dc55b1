"""The change calendar as an iCalendar feed behind a secret, resettable link, like the on-call
feeds (``oncall.feeds``): one link per person, showing what ``changes.schedule.calendar`` shows
that person (the changes it may read, every maintenance window and freeze).

The link carries no sign-in, so calendar apps can subscribe; it stops working when its owner
resets it, and at once for a person who may no longer read changes (a customer's link, had
one ever been made, shows nothing: the feed answers 404). It covers the past 30 days and the
next 180, inside the calendar's 366-day limit.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from changes import schedule
from changes.models import CalendarFeedToken, Change, new_feed_secret
from itsm import audit, policy
from itsm.errors import NotAllowed
from oncall import ics

PRODID = "-//ITSM//Change calendar//EN"
PAST = timedelta(days=30)
AHEAD = timedelta(days=180)
KIND_WORDS = {"change": "Change", "maintenance": "Maintenance", "freeze": "Change freeze"}


def feed_path(token: CalendarFeedToken) -> str:
    """The feed's path (``change-calendar-feed``); make it absolute with the request's host."""
    return reverse("change-calendar-feed", kwargs={"pk": token.pk, "token": token.token})


def _check_reader(user) -> None:
    if not policy.can(user, "read", Change):
        raise NotAllowed("The change calendar is for the service desk.")


def feed_token(*, user) -> CalendarFeedToken:
    """The person's own feed link, made on first use (readers of changes only)."""
    _check_reader(user)
    token, _ = CalendarFeedToken.objects.get_or_create(user=user)
    return token


@transaction.atomic
def feed_reset(*, actor) -> CalendarFeedToken:
    """A new secret for the actor's own feed link: the old link stops working at once."""
    _check_reader(actor)
    token, _ = CalendarFeedToken.objects.select_for_update().get_or_create(user=actor)
    token.token = new_feed_secret()
    token.save(update_fields=["token", "reset_at"])
    # The journal says that the link changed, never what it is.
    audit.log_changes(token, actor, [("feed_link", "", "reset")])
    return token


def find(pk: int, secret: str) -> CalendarFeedToken | None:
    """The feed whose link this is, compared in constant time; None for a wrong or old link, or a
    person who is inactive or may no longer read changes."""
    token = CalendarFeedToken.objects.select_related("user").filter(pk=pk).first()
    if token is None or not hmac.compare_digest(token.token.encode(), secret.encode()):
        return None
    if not token.user.is_active or not policy.can(token.user, "read", Change):
        return None
    return token


def window(now: datetime) -> tuple[datetime, datetime]:
    """From midnight UTC 30 days ago (event ids and the range stay put all day) to 180 days on."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - PAST
    return start, start + PAST + AHEAD


def _description(entry: dict) -> str:
    if entry["kind"] != "change":
        return f"{entry['label']}: {entry['title']}"
    facts = [f"{entry['change_type']} change", str(entry["state"]).replace("_", " ")]
    if entry.get("risk_level"):
        facts.append(f"risk {entry['risk_level']}")
    return f"{entry['title']} ({', '.join(facts)})"


def _event(entry: dict) -> ics.Event:
    """One calendar entry (``changes.schedule.calendar``) as an event."""
    word = KIND_WORDS.get(entry["kind"], entry["label"])
    return ics.Event(
        uid=f"{entry['kind']}-{entry['id']}@itsm-changes",
        start=entry["start"],
        end=entry["end"],
        summary=f"{word}: {entry['title']}",
        description=_description(entry),
    )


def calendar_text(token: CalendarFeedToken, now: datetime | None = None) -> str:
    """The whole feed for the token's owner, ready to serve as ``text/calendar``."""
    now = now or timezone.now()
    start, end = window(now)
    entries = schedule.calendar(start, end, user=token.user)
    name = f"Change calendar ({token.user.get_full_name() or token.user.get_username()})"
    return ics.calendar(name=name, events=[_event(entry) for entry in entries], now=now, prodid=PRODID)
