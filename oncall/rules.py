"""Who may read and manage on-call schedules, overrides, group routing and feed links."""

from __future__ import annotations

from itsm.policy.rules import (
    AGENT,
    MANAGE_INCIDENTS,
    MANAGER,
    PERMISSIONS,
    Act,
    Read,
    RecordRules,
    Update,
    register,
)

register(
    # On-call (seed 000): agents read schedules; managing them (participants, overrides,
    # group routing, feed links) takes whoever holds incidents.manage.
    RecordRules(
        label="oncall.schedule",
        states=(),
        initial_state="",
        create=PERMISSIONS[MANAGE_INCIDENTS],
        read=(Read(AGENT),),
        update=tuple(Update(role) for role in sorted(PERMISSIONS[MANAGE_INCIDENTS])),
        delete=PERMISSIONS[MANAGE_INCIDENTS],
        editable=(
            "name",
            "description",
            "time_zone",
            "rotation",
            "handoff_day",
            "handoff_time",
            "custom_rotation_hours",
            "start",
            "participants",
            "assignment_groups",
        ),
        actions={"override": (Act(MANAGE_INCIDENTS),), "reset_feed": (Act(MANAGE_INCIDENTS),)},
    ),
    RecordRules(
        label="oncall.override",
        states=(),
        initial_state="",
        create=PERMISSIONS[MANAGE_INCIDENTS],
        read=(Read(AGENT),),
        update=tuple(Update(role) for role in sorted(PERMISSIONS[MANAGE_INCIDENTS])),
        delete=PERMISSIONS[MANAGE_INCIDENTS],
        editable=("schedule", "user", "start", "end", "reason"),
    ),
    RecordRules(
        label="oncall.groupschedule",
        states=(),
        initial_state="",
        create=PERMISSIONS[MANAGE_INCIDENTS],
        read=(Read(AGENT),),
        update=tuple(Update(role) for role in sorted(PERMISSIONS[MANAGE_INCIDENTS])),
        delete=PERMISSIONS[MANAGE_INCIDENTS],
        editable=("group", "schedule"),
    ),
    # A person's feed link is its own secret: nobody reads it through a door; its owner
    # resets it, and so may a manager (e.g. when the link leaked).
    RecordRules(
        label="oncall.feedtoken",
        states=(),
        initial_state="",
        create=frozenset(),
        read=(),
        update=(),
        delete=frozenset(),
        actions={"reset_any": (Act(MANAGER),)},
    ),
)
