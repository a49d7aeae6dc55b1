"""Who may read and manage on-call schedules, overrides, group routing and feed links."""

from __future__ import annotations

from dataclasses import replace

from itsm.policy.rules import MANAGE_INCIDENTS, MANAGER, Act, kept_by_services, managed_by, register

SCHEDULE_FIELDS = (
    "name", "description", "time_zone", "rotation", "handoff_day", "handoff_time", "custom_rotation_hours",
    "start", "participants", "assignment_groups",
)  # fmt: skip

register(
    # On-call (seed 000): agents read schedules; managing them (participants, overrides,
    # group routing, feed links) takes whoever holds incidents.manage.
    replace(
        managed_by(MANAGE_INCIDENTS, "oncall.schedule", SCHEDULE_FIELDS),
        actions={"override": (Act(MANAGE_INCIDENTS),), "reset_feed": (Act(MANAGE_INCIDENTS),)},
    ),
    managed_by(MANAGE_INCIDENTS, "oncall.override", ("schedule", "user", "start", "end", "reason")),
    managed_by(MANAGE_INCIDENTS, "oncall.groupschedule", ("group", "schedule")),
    # A person's feed link is its own secret: nobody reads it through a door; its owner
    # resets it, and so may a manager (e.g. when the link leaked).
    replace(kept_by_services("oncall.feedtoken", read=()), actions={"reset_any": (Act(MANAGER),)}),
)
