import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


def stored_name(instance, filename: str) -> str:
    """Where a file is kept: a random, non-guessable name, never the uploader's (which stays
    only as the display ``name``), and no extension a web server could act on."""
    return f"attachments/{timezone.now():%Y/%m}/{secrets.token_hex(16)}"


class Attachment(models.Model):
    """A file attached to a record of any kind (an incident, a request…), optionally to one of
    its notes. Written only by ``itsm.attachments``; read only through its ``readable`` rule."""

    record_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    record_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("record_type", "record_id")
    note_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note_id = models.PositiveBigIntegerField(null=True, blank=True)
    note = GenericForeignKey("note_type", "note_id")
    # A file on a note the customer does not read (a work note): the lists leave it out for readers
    # who may not read the work journal; the download asks about the note itself as well.
    internal = models.BooleanField(default=False)
    file = models.FileField(upload_to=stored_name, max_length=255)
    name = models.CharField(max_length=160, help_text="The file's name as uploaded, made safe.")
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    mime_type = models.CharField(
        max_length=120, help_text="Read from the file's content, not from the browser."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        indexes = [
            models.Index(fields=["record_type", "record_id", "uploaded_at"], name="attachment_record"),
            models.Index(fields=["note_type", "note_id"], name="attachment_note"),
        ]

    def __str__(self) -> str:
        return self.name
