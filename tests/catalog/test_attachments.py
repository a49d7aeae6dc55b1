"""Attachments on requests: the same core as incidents (``itsm.attachments``), through the
request's portal page, desk overview and API."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog import services
from itsm import attachments
from itsm.models import Attachment, AuditEntry
from tests.catalog.factories import make_request
from tests.itsm.test_attachments import EXE, PDF, PNG

pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def req(customer):
    return make_request(requester=customer)


def test_customer_attaches_on_the_portal_request_page(client, customer, req):
    client.force_login(customer)
    response = client.post(
        reverse("portal:request-attach", args=[req.pk]), {"attachments": [upload("quote.pdf", PDF)]}
    )
    assert response.status_code == 302
    page = client.get(reverse("portal:request-detail", args=[req.pk])).content.decode()
    assert "quote.pdf" in page and 'enctype="multipart/form-data"' in page


def test_portal_refusal_names_the_file(client, customer, req):
    client.force_login(customer)
    response = client.post(
        reverse("portal:request-attach", args=[req.pk]), {"attachments": [upload("quote.pdf", EXE)]}
    )
    assert response.status_code == 400 and "quote.pdf: this type of file" in response.content.decode()
    assert not Attachment.objects.exists()


def test_agent_attaches_on_the_desk_request_overview(client, agent, req):
    client.force_login(agent)
    response = client.post(
        reverse("desk:request-attach", args=[req.pk]), {"attachments": [upload("shot.png", PNG)]}
    )
    assert response.status_code == 302
    assert "shot.png" in client.get(reverse("desk:request-detail", args=[req.pk])).content.decode()


def test_a_request_work_note_file_is_404_for_the_customer(client, api, customer, agent, req):
    note = services.request_note_add(request=req, actor=agent, kind="work_note", body="Vendor quote")
    [added] = attachments.attachment_add(
        record=req, actor=agent, files=[upload("vendor.pdf", PDF)], note=note
    )
    client.force_login(customer)
    assert client.get(reverse("portal:attachment-download", args=[added.pk])).status_code == 404
    api.as_user(customer)
    assert api.get(reverse("request-attachments", args=[req.pk])).json()["count"] == 0
    api.as_user(agent)
    assert api.get(reverse("request-attachments", args=[req.pk])).json()["count"] == 1


def test_deleting_a_request_note_removes_its_files_and_their_stored_files(
    agent, req, django_capture_on_commit_callbacks
):
    """Notes of every kind but incidents' go through itsm.notes.note_delete (requests, problems,
    changes): the note's files go with it, journaled, their stored files removed on commit."""
    note = services.request_note_add(request=req, actor=agent, kind="work_note", body="Vendor quote")
    [added] = attachments.attachment_add(record=req, actor=agent, files=[upload("vendor.pdf", PDF)], note=note)
    assert default_storage.exists(added.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_note_delete(note=note, actor=agent)
    assert not Attachment.objects.exists()
    assert not default_storage.exists(added.file.name)
    assert AuditEntry.objects.filter(
        object_id=str(req.pk), action=AuditEntry.Action.DETACH, field="work_journal", old_value="vendor.pdf"
    ).exists()


def test_someone_elses_request_is_404(api, customer2, req):
    api.as_user(customer2)
    response = api.post(
        reverse("request-attachments", args=[req.pk]),
        {"attachments": [upload("a.pdf", PDF)]},
        format="multipart",
    )
    assert response.status_code == 404 and not Attachment.objects.exists()
