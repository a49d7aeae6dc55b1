"""Routing work to whoever is on call: for an assignment group linked to a schedule (incident
assignment), and for a schedule itself (an escalation stage that targets a schedule)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from itsm import policy
from oncall import selectors
from oncall.models import GroupSchedule, Schedule, instant_error


def schedule_assignee(schedule: Schedule, at: datetime | None = None):
    """The person on call for ``schedule`` at ``at`` (default now) who can take the work: an
    active user holding ``incidents.manage``; None when nobody is on call or they cannot."""
    at = at or timezone.now()
    if instant_error(at):
        return None
    user = selectors.who_is_on_call(schedule=schedule, at=at).user
    if user is None or not user.is_active or not policy.has_permission(user, "incidents.manage"):
        return None
    return user


def on_call_assignee(group, at: datetime | None = None):
    """Whoever is on call at ``at`` (default now) in the schedule ``group`` is routed to; None
    when the group has no schedule or nobody who can take the work is on call."""
    if group is None:
        return None
    link = GroupSchedule.objects.filter(group=group).select_related("schedule").first()
    if link is None:
        return None
    return schedule_assignee(link.schedule, at)
