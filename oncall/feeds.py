"""The calendar feeds: a schedule's blocks, or one person's own shifts, as iCalendar.

A feed is reached through a secret link (``FeedToken``), so calendar apps can subscribe
without signing in. It covers the past week and the next 90 days.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from itsm import policy
from oncall import ics, selectors
from oncall.models import FeedToken, Schedule
from oncall.rotation import OVERRIDE, Block

PAST = timedelta(days=7)
AHEAD = timedelta(days=90)


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


def feed_path(token: FeedToken) -> str:
    return reverse("oncall-feed", kwargs={"pk": token.pk, "token": token.token})


def find(pk: int, secret: str) -> FeedToken | None:
    """The feed whose link this is, compared in constant time; None for any wrong or old link,
    or a person who may no longer read schedules."""
    token = FeedToken.objects.select_related("schedule", "user").filter(pk=pk).first()
    if token is None or not hmac.compare_digest(token.token.encode(), secret.encode()):
        return None
    if token.user is not None and not policy.can(token.user, "read", Schedule):
        return None
    return token


def window(now: datetime) -> tuple[datetime, datetime]:
    """From midnight UTC a week ago (so that event ids stay put all day) to 90 days ahead."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - PAST
    return start, now + AHEAD


def _uid(schedule: Schedule, block: Block) -> str:
    who = f"o{block.override}" if block.source == OVERRIDE else f"u{block.user.pk}"
    return f"oncall-{schedule.pk}-{who}-{ics.utc(block.start)}@itsm"


def _suffix(block: Block) -> str:
    return " (override)" if block.source == OVERRIDE else ""


def schedule_calendar(schedule: Schedule, now: datetime | None = None) -> str:
    now = now or timezone.now()
    start, end = window(now)
    blocks = selectors.blocks_by_schedule([schedule], start=start, end=end)[schedule.pk]
    events = [
        ics.Event(
            uid=_uid(schedule, block),
            start=block.start,
            end=block.end,
            summary=f"On call: {display_name(block.user)}{_suffix(block)}",
            description=f"{schedule.name}: {display_name(block.user)} is on call ({block.source}).",
        )
        for block in blocks
        if block.user is not None
    ]
    return ics.calendar(name=f"On call: {schedule.name}", events=events, now=now)


def person_calendar(user, now: datetime | None = None) -> str:
    now = now or timezone.now()
    start, end = window(now)
    events = [
        ics.Event(
            uid=_uid(schedule, block),
            start=block.start,
            end=block.end,
            summary=f"On call: {schedule.name}{_suffix(block)}",
            description=f"You are on call for {schedule.name} ({block.source}).",
        )
        for schedule, block in selectors.person_shifts(user=user, start=start, end=end)
    ]
    return ics.calendar(name=f"My on-call shifts ({display_name(user)})", events=events, now=now)


def calendar_for(token: FeedToken) -> tuple[str, str]:
    """The feed's body and a file name for it."""
    if token.schedule is not None:
        schedule = selectors.with_rotation(Schedule.objects.filter(pk=token.schedule_id)).get()
        return schedule_calendar(schedule), f"oncall-{schedule.pk}.ics"
    return person_calendar(token.user), "my-oncall-shifts.ics"
