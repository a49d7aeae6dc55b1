"""Attachments in the shared core (``itsm.attachments``): what may be attached (sniffed from the
bytes), how big, under which name, by whom; who reads a file; all or nothing; the journal."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import attachments as incident_files
from incidents import services
from incidents.models import Incident
from itsm import attachments, timeline
from itsm.errors import InvalidInput, NotAllowed, NotFound
from itsm.models import Attachment, AuditEntry
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode."
)


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    """A file as a browser sends it: the browser's content type is whatever it claims."""
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


@pytest.fixture
def incident(customer):
    return make_incident(requester=customer)


# --- What a file is -------------------------------------------------------------------------


def test_a_renamed_program_is_refused_whatever_its_name_and_claimed_type(incident, customer, media):
    with pytest.raises(InvalidInput) as refused:
        attachments.attachment_add(record=incident, actor=customer, files=[upload("invoice.pdf", EXE)])
    assert list(refused.value.fields) == ["attachments"]
    assert "invoice.pdf" in refused.value.fields["attachments"][0]
    assert "not allowed" in refused.value.fields["attachments"][0]
    assert not Attachment.objects.exists() and stored_files(media) == []


def test_an_extension_that_disagrees_with_the_content_is_refused(incident, customer):
    with pytest.raises(InvalidInput) as refused:
        attachments.attachment_add(record=incident, actor=customer, files=[upload("photo.pdf", PNG)])
    assert "the name says .pdf but the content is image/png" in refused.value.fields["attachments"][0]


def test_content_type_is_sniffed_not_taken_from_the_browser(incident, customer):
    [added] = attachments.attachment_add(
        record=incident, actor=customer, files=[upload("screen.png", PNG, content_type="text/html")]
    )
    assert added.mime_type == "image/png"


def test_plain_text_is_recognised_and_binary_junk_is_not():
    assert attachments.sniff("Disk full on web01\nretrying…\n".encode(), whole=True) == "text/plain"
    assert attachments.sniff(b"\x00\x01\x02binary\x03", whole=True) is None


def test_a_name_without_extension_gets_the_one_its_content_says(incident, customer):
    [added] = attachments.attachment_add(record=incident, actor=customer, files=[upload("scan", PDF)])
    assert added.name == "scan.pdf"


def test_a_file_over_the_size_limit_is_refused_with_the_limit(incident, customer, settings):
    settings.ATTACHMENT_MAX_BYTES = 50
    with pytest.raises(InvalidInput) as refused:
        attachments.attachment_add(record=incident, actor=customer, files=[upload("big.pdf", PDF)])
    assert "a file may be at most 50 bytes" in refused.value.fields["attachments"][0]


def test_types_come_from_settings(incident, customer, settings):
    settings.ATTACHMENT_TYPES = ["application/pdf"]
    with pytest.raises(InvalidInput) as refused:
        attachments.attachment_add(record=incident, actor=customer, files=[upload("a.png", PNG)])
    assert "(image/png) is not allowed" in refused.value.fields["attachments"][0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\alex\\report.pdf", "report.pdf"),
        ("evil\u202etxt.exe.pdf", "eviltxt.exe.pdf"),  # the right-to-left override is dropped
        ("line\r\nbreak\x00.pdf", "linebreak.pdf"),
        ('a<b>:"c"|?*.pdf', "a_b___c____.pdf"),
        ("   ", "attachment"),
        ("x" * 300 + ".pdf", "x" * 156 + ".pdf"),
    ],
)
def test_names_are_sanitised(raw, expected):
    assert attachments.safe_name(raw) == expected


def test_stored_name_is_random_and_never_the_uploaders(incident, customer):
    [added] = attachments.attachment_add(
        record=incident, actor=customer, files=[upload("secret-plan.pdf", PDF)]
    )
    assert "secret" not in added.file.name and added.file.name.startswith("attachments/")
    assert added.name == "secret-plan.pdf" and added.size == len(PDF)


# --- Who attaches, who reads ----------------------------------------------------------------


def test_a_customer_cannot_attach_to_someone_elses_incident(incident, customer2):
    with pytest.raises(NotFound):
        attachments.attachment_add(record=incident, actor=customer2, files=[upload("a.pdf", PDF)])


def test_a_customer_cannot_attach_to_a_work_note(incident, customer, agent):
    note = services.note_add(incident=incident, actor=agent, kind="work_note", body="Checked the logs")
    with pytest.raises(NotFound):
        attachments.attachment_add(record=incident, actor=customer, files=[upload("a.pdf", PDF)], note=note)


def test_work_note_files_are_hidden_from_the_customer(incident, customer, agent):
    comment = incident_files.note_add_with_files(
        incident=incident, actor=agent, kind="comment", body="See attached", files=[upload("guide.pdf", PDF)]
    )
    incident_files.note_add_with_files(
        incident=incident, actor=agent, kind="work_note", body="Logs", files=[upload("logs.txt", b"boom\n")]
    )
    assert [a.name for a in attachments.attachments_of(customer, incident)] == ["guide.pdf"]
    assert [a.name for a in attachments.attachments_of(agent, incident)] == ["guide.pdf", "logs.txt"]
    assert [a.name for a in attachments.attachments_of(customer, incident, note=comment)] == ["guide.pdf"]
    logs = Attachment.objects.get(name="logs.txt")
    assert logs.internal
    with pytest.raises(Exception) as missing:
        attachments.attachment_or_404(customer, logs.pk)
    assert missing.typename == "Http404"
    assert attachments.attachment_or_404(agent, logs.pk).name == "logs.txt"


def test_someone_who_cannot_read_the_record_gets_404(incident, customer, customer2):
    [added] = attachments.attachment_add(record=incident, actor=customer, files=[upload("a.pdf", PDF)])
    with pytest.raises(Exception) as missing:
        attachments.attachment_or_404(customer2, added.pk)
    assert missing.typename == "Http404"
    assert list(attachments.attachments_of(customer2, incident)) == []


# --- All or nothing, journaled --------------------------------------------------------------


def test_one_bad_file_attaches_nothing(incident, customer, media):
    with pytest.raises(InvalidInput) as refused:
        attachments.attachment_add(
            record=incident, actor=customer, files=[upload("ok.pdf", PDF), upload("bad.pdf", EXE)]
        )
    assert len(refused.value.fields["attachments"]) == 1
    assert not Attachment.objects.exists() and stored_files(media) == []


def test_a_note_whose_files_are_refused_is_not_written_either(incident, customer):
    before = incident.notes.count()
    with pytest.raises(InvalidInput):
        incident_files.note_add_with_files(
            incident=incident, actor=customer, kind="comment", body="Here", files=[upload("x.pdf", EXE)]
        )
    assert incident.notes.count() == before


def test_a_failed_database_write_removes_the_stored_file(incident, customer, media, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(attachments, "_journal", fail)
    with pytest.raises(RuntimeError):
        attachments.attachment_add(record=incident, actor=customer, files=[upload("a.pdf", PDF)])
    assert not Attachment.objects.exists() and stored_files(media) == []


def test_attaching_is_journaled_and_shown_on_the_timeline(incident, customer, agent):
    attachments.attachment_add(record=incident, actor=customer, files=[upload("report.pdf", PDF)])
    incident_files.note_add_with_files(
        incident=incident, actor=agent, kind="work_note", body="Logs", files=[upload("logs.txt", b"boom\n")]
    )
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.ATTACH).first()
    assert (entry.field, entry.new_value, entry.actor_id) == ("attachments", "report.pdf", customer.pk)
    seen_by_customer = [e.new_value for e in timeline.entries_for(customer, incident) if e.action == "attach"]
    seen_by_agent = [e.new_value for e in timeline.entries_for(agent, incident) if e.action == "attach"]
    assert seen_by_customer == ["report.pdf"]
    assert seen_by_agent == ["report.pdf", "logs.txt"]


def test_removing_is_for_the_uploader_and_is_journaled(
    incident, customer, agent, media, django_capture_on_commit_callbacks
):
    [added] = attachments.attachment_add(record=incident, actor=customer, files=[upload("a.pdf", PDF)])
    with pytest.raises(NotAllowed):
        attachments.attachment_remove(attachment=added, actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        attachments.attachment_remove(attachment=added, actor=customer)
    assert not Attachment.objects.exists()
    assert stored_files(media) == []
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DETACH, old_value="a.pdf").exists()
    assert Incident.objects.filter(pk=incident.pk).exists()
