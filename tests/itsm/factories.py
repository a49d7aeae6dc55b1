"""People, groups and files for tests. Users with roles: ``conftest.make_user``."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from itsm import attachments
from itsm.models import AssignmentGroup, Attachment, GroupMembership


def make_group(name: str, *, members=(), leads=(), **fields) -> AssignmentGroup:
    """An assignment group with its ``members`` and ``leads``."""
    group = AssignmentGroup.objects.create(name=name, **fields)
    GroupMembership.objects.bulk_create(
        [GroupMembership(group=group, user=user, role=GroupMembership.Role.LEAD) for user in leads]
        + [GroupMembership(group=group, user=user, role=GroupMembership.Role.MEMBER) for user in members]
    )
    return group


def attach_file(record, *, by, name: str = "spooler.log", content: bytes = b"Spooler timed out.\n") -> Attachment:
    """A plain-text file on ``record``, attached by ``by`` as the pages attach one
    (``itsm.attachments.attachment_add``). Point ``settings.MEDIA_ROOT`` at a temporary folder."""
    [added] = attachments.attachment_add(
        record=record, actor=by, files=[SimpleUploadedFile(name, content, content_type="text/plain")]
    )
    return added
