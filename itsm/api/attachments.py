"""``/<records>/{id}/attachments/`` for any kind of record (``itsm.attachments`` decides):

* ``GET``: the files the caller may read, paginated, oldest first; ``?note=<id>`` those of a note.
* ``POST`` (``multipart/form-data``): ``attachments`` (one or more files) and optionally ``note``
  (a note of the record): 201 with what was attached; a refusal is a 400 naming the field.
* ``GET …/attachments/{attachment_id}/``: the file itself (``application/octet-stream``, an
  attachment, ``nosniff``; its sniffed type is the list's ``mime_type``);
  ``DELETE``: remove it (whoever attached it, or an ITSM administrator).

A record's viewset adds ``AttachmentsMixin`` and says how to find one of its notes
(``attachment_note``).
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from itsm import attachments, policy
from itsm.api.parsers import JSONParser
from itsm.errors import InvalidInput
from itsm.models import Attachment
from itsm.validators import is_possible_pk


class AttachmentSerializer(serializers.ModelSerializer):
    note = serializers.IntegerField(
        source="note_id", read_only=True, allow_null=True, help_text="The note it is on."
    )
    internal = serializers.BooleanField(
        read_only=True, help_text="On a work note: for the service desk only."
    )
    uploaded_by = serializers.SerializerMethodField(
        help_text='Username; customers read agents as "Service desk".'
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "name",
            "size",
            "mime_type",
            "note",
            "internal",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_uploaded_by(self, attachment) -> str | None:
        return policy.person_name(
            self.context["request"].user, attachment.uploaded_by, self.context["record"], nobody=None
        )

    def get_download_url(self, attachment) -> str:
        view = self.context["view"]
        name = f"{view.basename}-attachment"
        return self.context["request"].build_absolute_uri(
            reverse(name, args=[attachment.record_id, attachment.pk])
        )


class AttachmentUpload(serializers.Serializer):
    """What a multipart upload carries (documented; ``itsm.attachments`` checks the files)."""

    attachments = serializers.ListField(child=serializers.FileField(), help_text="One or more files.")
    note = serializers.IntegerField(required=False, help_text="Attach to this note of the record.")


def _note_id(raw):
    if raw in (None, ""):
        return None
    if not (isinstance(raw, str) and raw.isdigit() and is_possible_pk(Attachment, raw)):
        raise InvalidInput("No such note.", fields={"note": ["Give the id of one of this record's notes."]})
    return int(raw)


class AttachmentsMixin:
    """The attachments collection and file of a record's viewset."""

    def attachment_note(self, record, note_id: int):
        """The record's note with that id, or None (a viewset of a kind with notes says how)."""
        return None

    def _note_or_400(self, record, raw):
        note_id = _note_id(raw)
        if note_id is None:
            return None
        note = self.attachment_note(record, note_id)
        if note is None or not attachments.note_readable(self.request.user, record, note):
            raise InvalidInput(
                "No such note.", fields={"note": ["Give the id of one of this record's notes."]}
            )
        return note

    @extend_schema(
        methods=["get"],
        parameters=[
            OpenApiParameter("note", int, required=False, description="Only the files of this note.")
        ],
        responses=AttachmentSerializer(many=True),
    )
    @extend_schema(
        methods=["post"],
        request={"multipart/form-data": AttachmentUpload},
        responses={201: AttachmentSerializer(many=True)},
    )
    @action(
        detail=True, methods=["get", "post"], filter_backends=[],
        parser_classes=[MultiPartParser, JSONParser],
    )  # fmt: skip
    def attachments(self, request, pk=None):
        """The record's files the caller may read (``?note=``: one note's), or attach files
        (``multipart/form-data``: ``attachments``, and ``note`` to put them on a note). Allowed
        types and sizes are the installation's; a refused file is a 400 naming ``attachments``."""
        record = self.get_object()
        context = {**self.get_serializer_context(), "record": record}
        if request.method == "POST":
            note = self._note_or_400(record, request.data.get("note"))
            files = request.FILES.getlist(attachments.FIELD)
            if not files:
                raise InvalidInput(
                    "No file was sent.",
                    fields={attachments.FIELD: ["Send one or more files as multipart/form-data."]},
                )
            added = attachments.attachment_add(record=record, actor=request.user, files=files, note=note)
            return Response(
                AttachmentSerializer(added, many=True, context=context).data, status=status.HTTP_201_CREATED
            )
        note = self._note_or_400(record, request.query_params.get("note"))
        files = attachments.attachments_of(request.user, record, note=note).order_by("uploaded_at", "id")
        page = self.paginate_queryset(files)
        return self.get_paginated_response(AttachmentSerializer(page, many=True, context=context).data)

    @extend_schema(
        methods=["get"],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")
        },
    )
    @extend_schema(methods=["delete"], responses={204: None})
    @action(
        detail=True, methods=["get", "delete"], url_path=r"attachments/(?P<attachment_id>[0-9]+)",
        url_name="attachment", filter_backends=[], pagination_class=None,
    )  # fmt: skip
    def attachment(self, request, pk=None, attachment_id=None):
        """The file itself, as ``application/octet-stream`` (its type is the list's ``mime_type``); ``DELETE``
        removes it (whoever attached it, or an ITSM administrator)."""
        record = self.get_object()
        item = attachments.attachment_or_404(request.user, attachment_id, record=record)
        if request.method == "DELETE":
            attachments.attachment_remove(attachment=item, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        # Always application/octet-stream, as documented (the list gives each file's
        # ``mime_type``): one content type a generated client can rely on.
        return attachments.download(item, typed=False)
