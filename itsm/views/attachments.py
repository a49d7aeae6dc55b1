"""Attachments on desk and portal pages, for any kind of record (``itsm.attachments`` decides):
the file fields of the forms, the card a record page shows (``card``), downloading (only through
``attachment_or_404``: the reader must read the record and the note) and removing one.

A domain's page mounts an upload view (which calls its service) and shows ``card``; downloads and
removals are the same for every kind: ``desk:attachment-download``, ``portal:attachment-download``,
``desk:attachment-remove``.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from itsm import attachments, policy
from itsm.errors import ItsmError, NotFound
from itsm.prefetch import holds
from itsm.views.base import DeskMixin, PortalMixin


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """One or more files (``<input type=file multiple>``); what they are is the service's check."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Attach files")
        kwargs.setdefault("help_text", limits_text())
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        items = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if not items:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        return [super(FilesField, self).clean(item, initial) for item in items]


def limits_text() -> str:
    megabytes = settings.ATTACHMENT_MAX_BYTES / (1024 * 1024)
    size = f"{megabytes:.0f} MB" if megabytes >= 1 else f"{settings.ATTACHMENT_MAX_BYTES} bytes"
    return (
        f"Up to {attachments.MAX_FILES} files of at most {size} each: images, PDF, text, office "
        "documents or zip archives."
    )


class AttachForm(forms.Form):
    attachments = FilesField(label="Files", error_messages={"required": "Choose a file to attach."})


def human_size(value: int) -> str:
    return attachments._size(value)


def rows(user, record, files, *, door: str) -> list[dict]:
    """Each file as a page lists it: name, size, who attached it (as the reader may know them),
    where to download it, and on the desk whether the reader may remove it (the service's own
    rule, ``attachments.may_remove``)."""
    files = list(files)
    removable = attachments.removable(user, record, files) if door == "desk" else set()
    return [
        {
            "attachment": item,
            "url": reverse(f"{door}:attachment-download", args=[item.pk]),
            "size": human_size(item.size),
            "by": "You"
            if item.uploaded_by_id == user.pk
            else policy.person_name(user, item.uploaded_by, record),
            "can_remove": item.pk in removable,
        }
        for item in files
    ]


def by_note(user, record, files, *, door: str) -> dict[int, list[dict]]:
    """The ``rows`` of files on notes, by note id (for a conversation or journal)."""
    grouped: dict[int, list[dict]] = {}
    for row in rows(user, record, [item for item in files if item.note_id is not None], door=door):
        grouped.setdefault(row["attachment"].note_id, []).append(row)
    return grouped


def card(request, record, *, upload_url: str, door: str, files=None) -> dict:
    """The attachments card of a record page: the files the reader may read (one query, unless
    the page read them already, ``files``, or found that the record has none: ``ATTACHED``) and
    the upload form (the one just refused, with its errors, if the page comes back from one)."""
    user = request.user
    if files is None:
        files = list(attachments.attachments_of(user, record)) if holds(record, attachments.ATTACHED) else []
    may_attach = attachments.may_attach(user, record)
    form = getattr(request, "attach_form", None)
    if form is None and may_attach:
        form = AttachForm()
    return {
        "record": record,
        "files": rows(user, record, files, door=door),
        "form": form,
        "upload_url": upload_url,
        "reads_internal": attachments.reads_internal(user, record),
        "door": door,
    }


class AttachTabMixin:
    """The upload of a record page's attachments card, for a record tab view (``load`` and
    ``write`` of ``itsm.views.tabs``): the files go to ``attachments.attachment_add``, a refusal
    comes back on the page with the card's errors."""

    http_method_names = ["post"]

    def post(self, request, pk):
        record = self.load(pk)
        form = request.attach_form = AttachForm(request.POST, request.FILES)

        def attach(data) -> str:
            added = attachments.attachment_add(record=record, actor=request.user, files=data["attachments"])
            return f"Attached {', '.join(item.name for item in added)}."

        return self.write(record, form, "attach_form", attach, anchor="attachments")


class DownloadMixin:
    def get(self, request, pk):
        return attachments.download(attachments.attachment_or_404(request.user, pk))


class DeskDownloadView(DownloadMixin, DeskMixin, View):
    """A file, for a desk reader who may read it (404 otherwise)."""


class PortalDownloadView(DownloadMixin, PortalMixin, View):
    """A file, for a portal reader who may read it (404 otherwise)."""


class DeskRemoveView(DeskMixin, View):
    """Remove a file (its uploader or an ITSM administrator), then back where the form was."""

    http_method_names = ["post"]

    def post(self, request, pk):
        attachment = attachments.attachment_or_404(request.user, pk)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = ""
        try:
            attachments.attachment_remove(attachment=attachment, actor=request.user)
        except NotFound:
            raise Http404("No such attachment.") from None
        except ItsmError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{attachment.name} has been removed.")
        return redirect(back or _desk_home())


def _desk_home() -> str:
    try:
        return reverse("desk:home")
    except NoReverseMatch:  # pragma: no cover - the desk is always mounted
        return "/"
