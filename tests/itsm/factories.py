"""People and groups for tests. Users with roles: ``conftest.make_user``."""

from __future__ import annotations

from itsm.models import AssignmentGroup, GroupMembership


def make_group(name: str, *, members=(), leads=(), **fields) -> AssignmentGroup:
    """An assignment group with its ``members`` and ``leads``."""
    group = AssignmentGroup.objects.create(name=name, **fields)
    GroupMembership.objects.bulk_create(
        [GroupMembership(group=group, user=user, role=GroupMembership.Role.LEAD) for user in leads]
        + [GroupMembership(group=group, user=user, role=GroupMembership.Role.MEMBER) for user in members]
    )
    return group
