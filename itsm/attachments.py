"""Files attached to a record of any kind, or to one of its notes: the one place that checks,
stores, journals, lists and hands them out.

* What may be attached: ``settings.ATTACHMENT_TYPES``, read from the file's bytes (``sniff``:
  the ``filetype`` library's magic numbers, and plain UTF-8 text), never from the browser's
  Content-Type or the name; the name's extension must agree with the content; at most
  ``settings.ATTACHMENT_MAX_BYTES`` a file. Refusals are a 400 naming ``attachments``.
* Who may attach: the policy's ``attach`` action on the record, or, on a note, the action that
  writes that kind of note (``comment``, ``work_note``, ``note``).
* Who may read one: whoever reads the record and, for a file on a note, that note (a work note's
  files only for readers of the work journal). Lists (``attachments_of``) and the download
  (``attachment_or_404``) both ask ``readable_by``.
* Stored through Django's storage API (``STORAGES["default"]``) under a random name; the files
  stored inside a transaction that rolls back are removed again (``atomic``).
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import unicodedata
from dataclasses import dataclass
from types import SimpleNamespace

import filetype
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.http import FileResponse, Http404

from itsm import audit, policy
from itsm.errors import InvalidInput, NotAllowed, NotFound
from itsm.models import Attachment, AuditEntry
from itsm.prefetch import Probe
from itsm.validators import is_possible_pk

FIELD = "attachments"  # the form field and API field every refusal names
MAX_FILES = 10  # files in one upload
MAX_NAME = 160  # characters of a file's display name
HEAD = 8192  # bytes read to tell what a file is
PUBLIC_NOTE_KINDS = frozenset({"comment"})  # notes everyone who reads the record reads
# The journal field a file on a hidden note is logged under: hidden wherever the work journal is.
INTERNAL_FIELD = "work_journal"

# The names each content type may carry (the first is added to a name without an extension).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg", "jpe", "jfif"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "image/bmp": ("bmp",),
    "image/tiff": ("tif", "tiff"),
    "application/pdf": ("pdf",),
    "text/plain": ("txt", "log", "csv", "md", "json", "xml", "yaml", "yml", "ini", "conf", "cfg", "text"),
    "application/rtf": ("rtf",),
    "application/msword": ("doc", "dot"),
    "application/vnd.ms-excel": ("xls", "xlt"),
    "application/vnd.ms-powerpoint": ("ppt", "pps", "pot"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx",),
    "application/vnd.oasis.opendocument.text": ("odt",),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods",),
    "application/vnd.oasis.opendocument.presentation": ("odp",),
    "application/zip": ("zip",),
    "application/gzip": ("gz", "tgz"),
}
_UNSAFE = re.compile(r'[<>:"|?*]')


# --- What a file is -------------------------------------------------------------------------


def sniff(head: bytes, *, whole: bool) -> str | None:
    """The content type the bytes say (magic numbers), ``text/plain`` for UTF-8 text without
    control characters, else None. ``whole``: ``head`` is the entire file (so text may not end
    in the middle of a character)."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if not head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A character cut off by the end of the head is fine; anything else is not text.
        if whole or exc.start < len(head) - 3:
            return None
        text = head[: exc.start].decode("utf-8")
    text = text.removeprefix("\ufeff")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text):
        return None
    return "text/plain"


def safe_name(raw) -> str:
    """A name fit to show and to send back: the last part of any path, no control or
    direction-changing characters, none a file system refuses, at most ``MAX_NAME`` characters
    (the extension kept)."""
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(_UNSAFE.sub("_", name).split()).strip(" .")
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 16:
            name = f"{stem[: MAX_NAME - len(extension) - 1].rstrip(' .')}.{extension}"
        else:
            name = name[:MAX_NAME].rstrip(" .")
    return name or "attachment"


def _size(value: int) -> str:
    if value >= 1024 * 1024:
        return f"{value / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if value >= 1024:
        return f"{value / 1024:.0f} KB"
    return f"{value} bytes"


@dataclass
class Checked:
    """An upload that passed the checks, with what they found."""

    upload: object
    name: str
    size: int
    mime_type: str


def _check_one(upload) -> tuple[Checked | None, str]:
    name = safe_name(getattr(upload, "name", ""))
    size = getattr(upload, "size", None)
    if not hasattr(upload, "read") or size is None:
        return None, "Send each attachment as a file."
    if size == 0:
        return None, f"{name} is empty."
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        return None, f"{name} is {_size(size)}; a file may be at most {_size(limit)}."
    upload.seek(0)
    head = upload.read(HEAD)
    upload.seek(0)
    mime_type = sniff(head, whole=size <= len(head))
    if mime_type is None or mime_type not in settings.ATTACHMENT_TYPES:
        what = f"this type of file ({mime_type})" if mime_type else "this type of file"
        return None, f"{name}: {what} is not allowed."
    stem, dot, extension = name.rpartition(".")
    allowed = EXTENSIONS.get(mime_type, ())
    if not (dot and stem):
        name = f"{name}.{allowed[0]}" if allowed else name
    elif extension.lower() not in allowed:
        expected = ", ".join(f".{ext}" for ext in allowed) or "no extension"
        return (
            None,
            f"{name}: the name says .{extension.lower()} but the content is {mime_type} ({expected}).",
        )
    return Checked(upload, name, size, mime_type), ""


def check(files) -> list[Checked]:
    """Every file checked, or a 400 naming ``attachments`` with what is wrong with each."""
    files = list(files or [])
    if len(files) > MAX_FILES:
        raise InvalidInput(
            "Too many files.", fields={FIELD: [f"Attach at most {MAX_FILES} files at a time."]}
        )
    checked, problems = [], []
    for upload in files:
        ok, problem = _check_one(upload)
        if ok is None:
            problems.append(problem)
        else:
            checked.append(ok)
    if problems:
        raise InvalidInput("Nothing was attached: " + " ".join(problems), fields={FIELD: problems})
    return checked


# --- Who may read and attach ----------------------------------------------------------------


def reads_internal(user, record) -> bool:
    """Whether ``user`` reads the record's hidden notes (the work journal) and their files."""
    return INTERNAL_FIELD not in policy.hidden_fields(user, record)


def is_internal(note) -> bool:
    return note is not None and getattr(note, "kind", None) not in PUBLIC_NOTE_KINDS


def note_action(note) -> str:
    """The policy action that writes this kind of note: its kind (``comment``, ``work_note``) or
    ``note`` for a kind of record with one kind of note."""
    return getattr(note, "kind", None) or "note"


def _belongs(note, record) -> bool:
    return any(
        field.is_relation and field.many_to_one and isinstance(record, field.related_model)
        and getattr(note, field.attname) == record.pk
        for field in note._meta.concrete_fields
    )  # fmt: skip


def may_attach(user, record, note=None) -> bool:
    """May ``user`` attach files to ``record`` (or to ``note`` on it)?"""
    if note is None:
        return policy.can(user, "attach", record)
    return _belongs(note, record) and policy.can(user, note_action(note), record)


def may_remove(user, attachment: Attachment, record, note=None) -> bool:
    """The one rule for removing a file (``attachment_remove`` asks it, and so does the Remove
    button of a page): whoever attached it, or an ITSM administrator (a note's rule), while they
    may still attach there: to ``record``, or for a file on ``note``, to that note (its kind's
    action, e.g. ``work_note``). A file whose note is gone (``note`` None) goes by the record."""
    if not policy.can_edit_note(user, SimpleNamespace(author_id=attachment.uploaded_by_id)):
        return False
    return may_attach(user, record, note)


def notes_of(files) -> dict[tuple[int, int], models.Model]:
    """The notes the files are on, by (content type id, note id): one query per kind of note."""
    wanted: dict[int, set[int]] = {}
    for item in files:
        if item.note_id is not None:
            wanted.setdefault(item.note_type_id, set()).add(item.note_id)
    found = {}
    for type_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        for note in model._default_manager.filter(pk__in=ids):
            found[(type_id, note.pk)] = note
    return found


def removable(user, record, files) -> set[int]:
    """The ids of ``files`` (of ``record``, which ``user`` reads) that ``user`` may remove
    (``may_remove``); their notes are read only for files the user could remove at all."""
    candidates = [
        item for item in files if policy.can_edit_note(user, SimpleNamespace(author_id=item.uploaded_by_id))
    ]
    notes = notes_of(candidates)
    return {
        item.pk
        for item in candidates
        if may_remove(user, item, record, notes.get((item.note_type_id, item.note_id)))
    }


def _type_of(obj) -> ContentType:
    return ContentType.objects.get_for_model(obj, for_concrete_model=False)


# The files on a record (its own and its notes'), for a record page's one statement of lists.
ATTACHED = Probe(Attachment, "record", type_of=_type_of)


def attachments_of(user, record, *, note=None) -> models.QuerySet:
    """The files on ``record`` (or on ``note``) that ``user`` may read, oldest first, with the
    uploader: one query."""
    if not policy.is_readable(user, record):
        return Attachment.objects.none()
    files = Attachment.objects.filter(record_type=_type_of(record), record_id=record.pk)
    if note is not None:
        files = files.filter(note_type=_type_of(note), note_id=note.pk)
    if not reads_internal(user, record):
        files = files.filter(internal=False)
    return files.select_related("uploaded_by")


def note_readable(user, record, note) -> bool:
    """Whether ``user`` reads ``note``: a note of ``record``, which it reads, and public or in a
    work journal it reads."""
    return (
        _belongs(note, record)
        and policy.is_readable(user, record)
        and (not is_internal(note) or reads_internal(user, record))
    )


def readable_by(user, attachment: Attachment, record) -> bool:
    """The one rule for one file: ``record`` (its record) is readable, and so is its note."""
    if not policy.is_readable(user, record):
        return False
    if attachment.internal and not reads_internal(user, record):
        return False
    if attachment.note_id is not None:
        note = attachment.note_type.model_class()._default_manager.filter(pk=attachment.note_id).first()
        # A note deleted since keeps its files' ``internal`` mark, checked above.
        if note is not None and not note_readable(user, record, note):
            return False
    return True


def attachment_or_404(user, pk, *, record=None) -> Attachment:
    """The attachment with id ``pk`` if ``user`` may read it (and it is ``record``'s, if given),
    with ``.record`` loaded; anything else is the same 404."""
    if not is_possible_pk(Attachment, pk):
        raise Http404("No such attachment.")
    attachment = Attachment.objects.select_related("record_type", "note_type").filter(pk=pk).first()
    if attachment is None:
        raise Http404("No such attachment.")
    if record is not None:
        if attachment.record_type_id != _type_of(record).pk or attachment.record_id != record.pk:
            raise Http404("No such attachment.")
    else:
        model = attachment.record_type.model_class()
        record = policy.readable(user, model).filter(pk=attachment.record_id).first() if model else None
    if record is None or not readable_by(user, attachment, record):
        raise Http404("No such attachment.")
    attachment.record = record
    return attachment


def download(attachment: Attachment, *, typed: bool = True) -> FileResponse:
    """The file as a download: its sniffed type (or, ``typed=False``, plain bytes), never shown
    inline, never sniffed again."""
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is no longer stored.") from None
    content_type = (attachment.mime_type if typed else "") or "application/octet-stream"
    if content_type == "text/plain":
        content_type = "text/plain; charset=utf-8"
    response = FileResponse(handle, as_attachment=True, filename=attachment.name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Writing --------------------------------------------------------------------------------

_STORED: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("attachments_stored", default=None)


def _forget(names) -> None:
    for name in names:
        with contextlib.suppress(Exception):
            default_storage.delete(name)


@contextlib.contextmanager
def atomic():
    """``transaction.atomic`` that also removes the files stored inside it when it rolls back,
    so a failed write leaves no file behind (a service that adds a note and its files uses it)."""
    outer = _STORED.get()
    stored: list[str] = []
    token = _STORED.set(stored)
    try:
        with transaction.atomic():
            yield
    except BaseException:
        _forget(stored)
        raise
    finally:
        _STORED.reset(token)
    if outer is not None:
        outer.extend(stored)  # an enclosing ``atomic`` may still roll back


def _locked(record, actor):
    model = type(record)
    locked = (
        policy.readable(actor, model, model._default_manager.select_for_update()).filter(pk=record.pk).first()
    )
    if locked is None:
        raise NotFound()
    return locked


def _journal(record, actor, action: str, attachment: Attachment) -> None:
    name = attachment.name
    old, new = ("", name) if action == AuditEntry.Action.ATTACH else (name, "")
    entry = audit.change_entry(record, actor, INTERNAL_FIELD if attachment.internal else FIELD, old, new)
    entry.action = action
    entry.save()


def attachment_add(*, record, actor, files, note=None) -> list[Attachment]:
    """Attach ``files`` to ``record`` (or to ``note`` on it), all or none: each is checked
    (``check``), stored under a random name and journaled ("Attached report.pdf")."""
    checked = check(files)
    if not checked:
        return []
    with atomic():
        record = _locked(record, actor)
        if note is not None and not note_readable(actor, record, note):
            raise NotFound()
        if not may_attach(actor, record, note):
            raise NotAllowed("You may not attach files here.")
        internal = is_internal(note)
        stored = _STORED.get()
        added = []
        for item in checked:
            attachment = Attachment(
                record_type=_type_of(record), record_id=record.pk, internal=internal,
                note_type=_type_of(note) if note is not None else None, note_id=getattr(note, "pk", None),
                name=item.name, size=item.size, mime_type=item.mime_type, uploaded_by=actor,
            )  # fmt: skip
            attachment.file.save(item.name, item.upload, save=False)
            stored.append(attachment.file.name)
            attachment.save()
            _journal(record, actor, AuditEntry.Action.ATTACH, attachment)
            added.append(attachment)
    return added


@transaction.atomic
def attachment_remove(*, attachment: Attachment, actor) -> None:
    """Remove a file: whoever attached it, or an ITSM administrator (a note's rule), while they
    may still attach there. Journaled; the stored file goes once the removal is committed."""
    attachment = Attachment.objects.select_for_update().filter(pk=attachment.pk).first()
    if attachment is None:
        raise NotFound()
    model = attachment.record_type.model_class()
    record = policy.readable(actor, model).filter(pk=attachment.record_id).first()
    if record is None or not readable_by(actor, attachment, record):
        raise NotFound()
    note = None
    if attachment.note_id is not None:
        note = attachment.note_type.model_class()._default_manager.filter(pk=attachment.note_id).first()
    if not may_remove(actor, attachment, record, note):
        raise NotAllowed("Only the person who attached a file, or an ITSM administrator, can remove it.")
    _journal(record, actor, AuditEntry.Action.DETACH, attachment)
    name = attachment.file.name
    attachment.delete()
    transaction.on_commit(lambda: _forget([name]))


def note_files_remove(*, record, note, actor) -> int:
    """Remove the files on ``note`` (of ``record``) as the note is deleted, by whoever may delete
    it (its service checked): each journaled as detached, the stored files removed once the
    deletion is committed. Call inside the note's deletion transaction; returns how many."""
    files = list(
        Attachment.objects.select_for_update().filter(
            record_type=_type_of(record), record_id=record.pk, note_type=_type_of(note), note_id=note.pk
        )
    )
    for attachment in files:
        _journal(record, actor, AuditEntry.Action.DETACH, attachment)
    names = [attachment.file.name for attachment in files]
    Attachment.objects.filter(pk__in=[attachment.pk for attachment in files]).delete()
    if names:
        transaction.on_commit(lambda: _forget(names))
    return len(files)
