"""Files on incidents and their notes (``itsm.attachments`` checks, stores and journals them):
a note with its files in one write, and the attachments card of the incident pages."""

from __future__ import annotations

from django.urls import reverse

from incidents import services
from incidents.forms import NoteForm
from incidents.forms_portal import CommentForm
from incidents.models import Incident, IncidentNote
from itsm import attachments
from itsm.views import attachments as attachment_views
from itsm.views import panels


def note_add_with_files(*, incident: Incident, actor, kind: str, body: str, files=()) -> IncidentNote:
    """A comment or work note (``services.note_add``) and its files, both or neither."""
    with attachments.atomic():
        note = services.note_add(incident=incident, actor=actor, kind=kind, body=body)
        attachments.attachment_add(record=incident, actor=actor, files=files, note=note)
    return note


def desk_card(request, incident: Incident) -> dict | None:
    return attachment_views.card(
        request, incident, upload_url=reverse("desk:incident-attach", args=[incident.pk]), door="desk"
    )


def portal_card(request, incident: Incident, *, files=None) -> dict | None:
    return attachment_views.card(
        request, incident, upload_url=reverse("portal:incident-attach", args=[incident.pk]), door="portal",
        files=files,
    )  # fmt: skip


def register() -> None:
    panels.register(panels.Panel(
        slot="desk:incident:main", name="attachments", template="itsm/_attachments.html", context=desk_card,
        order=50, probes=(attachments.ATTACHED,),
    ))  # fmt: skip


# --- Forms: the note and comment forms with files -------------------------------------------


class NoteFilesForm(NoteForm):
    """The desk's comment or work note, with optional files."""

    attachments = attachment_views.FilesField(required=False)


class CommentFilesForm(CommentForm):
    """The portal's comment, with optional files."""

    attachments = attachment_views.FilesField(required=False)
