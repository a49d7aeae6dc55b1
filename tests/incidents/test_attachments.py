"""Attachments on incidents through every door: the desk (the overview's card, the notes forms),
the portal (the incident page, the comment form), the API and the downloads they all share."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import quote

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from incidents import attachments as incident_files
from incidents import services, workflows
from itsm import attachments, policy
from itsm.errors import NotAllowed
from itsm.models import Attachment, AuditEntry
from itsm.policy.rules import AGENT, ALL_RULES, Act
from tests.incidents.factories import make_incident
from tests.itsm.test_attachments import EXE, PDF, PNG

pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def incident(customer):
    return make_incident(requester=customer)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


# --- Downloads ------------------------------------------------------------------------------


def test_download_is_an_attachment_with_nosniff_and_the_sniffed_type(client, customer, incident):
    [added] = attachments.attachment_add(
        record=incident, actor=customer, files=[upload("Rapport d’été.pdf", PDF, "text/html")]
    )
    client.force_login(customer)
    response = client.get(reverse("portal:attachment-download", args=[added.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote('Rapport d’été.pdf')}" in disposition
    assert body_of(response) == PDF


def test_customer_gets_404_for_a_work_note_attachment(client, customer, agent, incident):
    incident_files.note_add_with_files(
        incident=incident, actor=agent, kind="work_note", body="Logs", files=[upload("logs.txt", b"boom\n")]
    )
    logs = Attachment.objects.get()
    client.force_login(customer)
    assert client.get(reverse("portal:attachment-download", args=[logs.pk])).status_code == 404
    page = client.get(reverse("portal:incident-detail", args=[incident.pk])).content.decode()
    assert "logs.txt" not in page


def test_customer_gets_404_for_another_customers_incident(client, customer, customer2, incident):
    [added] = attachments.attachment_add(record=incident, actor=customer, files=[upload("a.pdf", PDF)])
    client.force_login(customer2)
    assert client.get(reverse("portal:attachment-download", args=[added.pk])).status_code == 404
    assert client.get(reverse("portal:attachment-download", args=[999999])).status_code == 404


def test_agent_downloads_from_the_desk_and_a_customer_is_refused_there(client, customer, agent, incident):
    [added] = attachments.attachment_add(record=incident, actor=customer, files=[upload("a.pdf", PDF)])
    client.force_login(agent)
    response = client.get(reverse("desk:attachment-download", args=[added.pk]))
    assert response.status_code == 200 and body_of(response) == PDF
    client.force_login(customer)
    assert client.get(reverse("desk:attachment-download", args=[added.pk])).status_code == 403


# --- The desk -------------------------------------------------------------------------------


def test_desk_overview_card_uploads_without_javascript(client, agent, incident):
    client.force_login(agent)
    page = client.get(reverse("desk:incident-detail", args=[incident.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in page and "No files yet." in page
    response = client.post(
        reverse("desk:incident-attach", args=[incident.pk]), {"attachments": [upload("screen.png", PNG)]}
    )
    assert response.status_code == 302 and response["Location"].endswith("#attachments")
    page = client.get(reverse("desk:incident-detail", args=[incident.pk])).content.decode()
    assert "screen.png" in page and "Attached screen.png." in page


def test_desk_upload_refusal_names_the_field_and_writes_nothing(client, agent, incident):
    client.force_login(agent)
    response = client.post(
        reverse("desk:incident-attach", args=[incident.pk]), {"attachments": [upload("invoice.pdf", EXE)]}
    )
    assert response.status_code == 400
    assert (
        "invoice.pdf: this type of file (application/x-msdownload) is not allowed."
        in response.content.decode()
    )
    assert not Attachment.objects.exists()


def test_desk_work_note_carries_files_that_the_journal_tab_lists(client, agent, customer, incident):
    client.force_login(agent)
    response = client.post(
        reverse("desk:incident-journal", args=[incident.pk]),
        {"body": "Server logs attached", "attachments": [upload("server.log", b"error at 12:00\n")]},
    )
    assert response.status_code == 302
    note = incident.notes.get()
    [added] = Attachment.objects.all()
    assert (added.note_id, added.internal) == (note.pk, True)
    journal = client.get(reverse("desk:incident-journal", args=[incident.pk])).content.decode()
    assert "server.log" in journal
    timeline = client.get(reverse("desk:incident-timeline", args=[incident.pk])).content.decode()
    assert re.search(r"Attached <span[^>]*>server\.log</span>\s*to a work note", timeline)


def test_desk_comment_form_accepts_files(client, agent, incident):
    client.force_login(agent)
    response = client.post(
        reverse("desk:incident-conversation", args=[incident.pk]),
        {"body": "Here is the guide", "attachments": [upload("guide.pdf", PDF)]},
    )
    assert response.status_code == 302
    assert Attachment.objects.get().note_id == incident.notes.get().pk


def test_the_overview_composer_offers_files_and_an_internal_note_keeps_them_internal(client, agent, incident):
    client.force_login(agent)
    overview = client.get(reverse("desk:incident-detail", args=[incident.pk])).content.decode()
    composer = overview[overview.index('id="composer"') :]
    assert 'type="file" name="attachments"' in composer[: composer.index("</form>")]
    response = client.post(
        reverse("desk:incident-conversation", args=[incident.pk]),
        {"kind": "work_note", "body": "Trace attached", "attachments": [upload("trace.txt", b"hop 1\n")],
         "next": reverse("desk:incident-detail", args=[incident.pk])},
    )  # fmt: skip
    assert response.status_code == 302
    note = incident.notes.get()
    assert note.kind == "work_note"
    assert (Attachment.objects.get().note_id, Attachment.objects.get().internal) == (note.pk, True)


def test_desk_note_with_a_refused_file_is_not_written(client, agent, incident):
    client.force_login(agent)
    response = client.post(
        reverse("desk:incident-conversation", args=[incident.pk]),
        {"body": "Here", "attachments": [upload("setup.pdf", EXE)]},
    )
    assert response.status_code == 400
    assert "setup.pdf" in response.content.decode()
    assert not incident.notes.exists() and not Attachment.objects.exists()


def test_desk_remove_is_journaled(client, agent, incident, django_capture_on_commit_callbacks):
    [added] = attachments.attachment_add(record=incident, actor=agent, files=[upload("a.pdf", PDF)])
    client.force_login(agent)
    back = reverse("desk:incident-detail", args=[incident.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("desk:attachment-remove", args=[added.pk]), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert not Attachment.objects.exists()
    assert AuditEntry.objects.filter(action="detach", old_value="a.pdf").exists()


def remove_button(attachment) -> str:
    return f'action="{reverse("desk:attachment-remove", args=[attachment.pk])}"'


@pytest.fixture
def work_notes_only_while_new(monkeypatch):
    """A rule under which files may be attached to an in-progress incident but work notes may not
    be written on it: the record's ``attach`` and the note's ``work_note`` answer differently."""
    rules = ALL_RULES["incidents.incident"]
    actions = {**rules.actions, "work_note": (Act(AGENT, states=frozenset({"new"})),)}
    monkeypatch.setitem(ALL_RULES, "incidents.incident", replace(rules, actions=actions))


def test_no_remove_button_on_a_work_note_file_the_service_would_refuse_to_remove(
    client, agent, incident, work_notes_only_while_new
):
    incident_files.note_add_with_files(
        incident=incident, actor=agent, kind="work_note", body="Log", files=[upload("trace.pdf", PDF)]
    )
    [on_note] = Attachment.objects.all()
    incident = workflows.incident_start(incident=incident, actor=agent)
    assert policy.can(agent, "attach", incident) and not policy.can(agent, "work_note", incident)
    client.force_login(agent)
    for name in ("desk:incident-detail", "desk:incident-journal"):
        page = client.get(reverse(name, args=[incident.pk])).content.decode()
        assert "trace.pdf" in page and remove_button(on_note) not in page, name
    with pytest.raises(NotAllowed):
        attachments.attachment_remove(attachment=on_note, actor=agent)
    assert Attachment.objects.filter(pk=on_note.pk).exists()


def test_remove_button_on_a_file_the_service_would_remove(
    client, agent, incident, work_notes_only_while_new, django_capture_on_commit_callbacks
):
    incident_files.note_add_with_files(
        incident=incident, actor=agent, kind="work_note", body="Log", files=[upload("trace.pdf", PDF)]
    )
    [on_note] = Attachment.objects.all()
    [on_record] = attachments.attachment_add(record=incident, actor=agent, files=[upload("a.pdf", PDF)])
    client.force_login(agent)
    page = client.get(reverse("desk:incident-detail", args=[incident.pk])).content.decode()
    assert remove_button(on_note) in page and remove_button(on_record) in page
    with django_capture_on_commit_callbacks(execute=True):
        attachments.attachment_remove(attachment=on_note, actor=agent)
    incident = workflows.incident_start(incident=incident, actor=agent)
    page = client.get(reverse("desk:incident-detail", args=[incident.pk])).content.decode()
    assert remove_button(on_record) in page
    with django_capture_on_commit_callbacks(execute=True):
        attachments.attachment_remove(attachment=on_record, actor=agent)
    assert not Attachment.objects.exists()


def test_deleting_a_note_removes_its_files_and_their_stored_files(
    api, agent, incident, django_capture_on_commit_callbacks
):
    note = incident_files.note_add_with_files(
        incident=incident, actor=agent, kind="work_note", body="Logs",
        files=[upload("trace.pdf", PDF), upload("screen.png", PNG)],
    )  # fmt: skip
    kept = incident_files.note_add_with_files(
        incident=incident, actor=agent, kind="comment", body="Guide", files=[upload("guide.pdf", PDF)]
    )
    gone = list(Attachment.objects.filter(note_id=note.pk))
    [stays] = Attachment.objects.filter(note_id=kept.pk)
    assert all(default_storage.exists(item.file.name) for item in [*gone, stays])
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(agent).delete(f"/api/v1/incidents/{incident.pk}/notes/{note.pk}/")
    assert response.status_code == 204, response.content
    assert list(Attachment.objects.all()) == [stays]
    assert not any(default_storage.exists(item.file.name) for item in gone)
    assert default_storage.exists(stays.file.name)
    detached = AuditEntry.objects.filter(object_id=str(incident.pk), action=AuditEntry.Action.DETACH)
    # Files of a work note are journaled with the work journal, which customers never read.
    assert sorted(detached.values_list("field", "old_value")) == [
        ("work_journal", "screen.png"), ("work_journal", "trace.pdf"),
    ]  # fmt: skip


def test_a_note_whose_deletion_is_refused_keeps_its_files(l1, agent, incident):
    note = incident_files.note_add_with_files(
        incident=incident, actor=agent, kind="comment", body="Guide", files=[upload("guide.pdf", PDF)]
    )
    [added] = Attachment.objects.all()
    with pytest.raises(NotAllowed):
        services.note_delete(note=note, actor=l1)
    assert list(Attachment.objects.all()) == [added] and default_storage.exists(added.file.name)


# --- The portal -----------------------------------------------------------------------------


def test_customer_uploads_on_the_portal_and_sees_public_files(client, customer, agent, incident):
    incident_files.note_add_with_files(
        incident=incident, actor=agent, kind="comment", body="Try this", files=[upload("guide.pdf", PDF)]
    )
    client.force_login(customer)
    response = client.post(
        reverse("portal:incident-attach", args=[incident.pk]), {"attachments": [upload("error.png", PNG)]}
    )
    assert response.status_code == 302
    page = client.get(reverse("portal:incident-detail", args=[incident.pk])).content.decode()
    assert "error.png" in page and "guide.pdf" in page
    assert 'enctype="multipart/form-data"' in page


def test_portal_comment_with_a_file(client, customer, incident):
    client.force_login(customer)
    response = client.post(
        reverse("portal:incident-comment", args=[incident.pk]),
        {"body": "Screenshot attached", "attachments": [upload("shot.png", PNG)]},
    )
    assert response.status_code == 302
    assert Attachment.objects.get().note_id == incident.notes.get().pk


def test_portal_upload_refusal_is_shown_on_the_form(client, customer, incident):
    client.force_login(customer)
    response = client.post(
        reverse("portal:incident-attach", args=[incident.pk]), {"attachments": [upload("photo.pdf", PNG)]}
    )
    assert response.status_code == 400
    assert "photo.pdf: the name says .pdf but the content is image/png" in response.content.decode()


def test_portal_upload_to_someone_elses_incident_is_404(client, customer2, incident):
    client.force_login(customer2)
    response = client.post(
        reverse("portal:incident-attach", args=[incident.pk]), {"attachments": [upload("a.pdf", PDF)]}
    )
    assert response.status_code == 404 and not Attachment.objects.exists()


def test_portal_page_query_count_does_not_grow_with_files(
    client, customer, agent, incident, django_assert_max_num_queries
):
    client.force_login(customer)
    path = reverse("portal:incident-detail", args=[incident.pk])

    def count() -> int:
        client.get(path)
        with django_assert_max_num_queries(10) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    attachments.attachment_add(record=incident, actor=customer, files=[upload("a.pdf", PDF)])
    few = count()
    for i in range(5):
        incident_files.note_add_with_files(
            incident=incident, actor=agent, kind="comment", body=f"c{i}", files=[upload(f"c{i}.pdf", PDF)]
        )
    assert count() == few


def test_desk_pages_query_count_does_not_grow_with_files(
    client, agent, incident, django_assert_max_num_queries
):
    client.force_login(agent)

    def count(name) -> int:
        path = reverse(name, args=[incident.pk])
        client.get(path)
        with django_assert_max_num_queries(25) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    attachments.attachment_add(record=incident, actor=agent, files=[upload("a.pdf", PDF)])
    # A file on a note costs one query for the notes (whether its Remove button is shown asks
    # the note's own rule, ``attachments.may_remove``): one per kind of note, whatever their number.
    incident_files.note_add_with_files(
        incident=incident, actor=agent, kind="work_note", body="first", files=[upload("first.pdf", PDF)]
    )
    few = {name: count(name) for name in ("desk:incident-detail", "desk:incident-journal")}
    for i in range(5):
        incident_files.note_add_with_files(
            incident=incident, actor=agent, kind="work_note", body=f"n{i}", files=[upload(f"n{i}.pdf", PDF)]
        )
    assert {name: count(name) for name in few} == few


# --- The API --------------------------------------------------------------------------------


def api_url(incident, *rest) -> str:
    if rest:
        return reverse("incident-attachment", args=[incident.pk, *rest])
    return reverse("incident-attachments", args=[incident.pk])


def test_api_upload_list_and_download(api, customer, incident):
    api.as_user(customer)
    response = api.post(
        api_url(incident), {"attachments": [upload("a.pdf", PDF), upload("b.png", PNG)]}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert [item["name"] for item in response.json()] == ["a.pdf", "b.png"]
    listed = api.get(api_url(incident)).json()
    assert listed["count"] == 2 and listed["results"][0]["mime_type"] == "application/pdf"
    file = api.get(api_url(incident, listed["results"][1]["id"]))
    assert file.status_code == 200 and file["X-Content-Type-Options"] == "nosniff"
    assert file["Content-Type"] == "application/octet-stream" and body_of(file) == PNG
    assert file["Content-Disposition"] == 'attachment; filename="b.png"'


def test_api_upload_refusal_is_a_400_naming_the_field(api, customer, incident):
    api.as_user(customer)
    response = api.post(api_url(incident), {"attachments": [upload("invoice.pdf", EXE)]}, format="multipart")
    assert response.status_code == 400
    assert "attachments" in response.json()
    empty = api.post(api_url(incident), {"note": ""}, format="multipart")
    assert empty.status_code == 400 and "attachments" in empty.json()
    json_body = api.post(api_url(incident), {"attachments": "x"}, format="json")
    assert json_body.status_code == 400 and "attachments" in json_body.json()
    assert not Attachment.objects.exists()


def test_api_note_attachments_and_work_notes_hidden_from_customers(api, customer, agent, incident):
    work_note = services.note_add(incident=incident, actor=agent, kind="work_note", body="Internal")
    api.as_user(agent)
    response = api.post(
        api_url(incident),
        {"attachments": [upload("dump.txt", b"trace\n")], "note": work_note.pk},
        format="multipart",
    )
    assert response.status_code == 201 and response.json()[0]["internal"] is True
    file_id = response.json()[0]["id"]
    assert api.get(api_url(incident), {"note": work_note.pk}).json()["count"] == 1
    api.as_user(customer)
    assert api.get(api_url(incident)).json()["count"] == 0
    assert api.get(api_url(incident, file_id)).status_code == 404
    refused = api.post(
        api_url(incident), {"attachments": [upload("a.pdf", PDF)], "note": work_note.pk}, format="multipart"
    )
    assert refused.status_code == 400 and "note" in refused.json()
    journal = api.get(reverse("incident-journal", args=[incident.pk])).json()
    assert not any(entry.get("new_value") == "dump.txt" for entry in journal)


def test_api_other_customer_gets_404(api, customer, customer2, incident):
    [added] = attachments.attachment_add(record=incident, actor=customer, files=[upload("a.pdf", PDF)])
    api.as_user(customer2)
    assert api.get(api_url(incident)).status_code == 404
    assert api.get(api_url(incident, added.pk)).status_code == 404


def test_api_list_query_count_is_fixed(api, agent, incident, django_assert_max_num_queries):
    api.as_user(agent)

    def count() -> int:
        api.get(api_url(incident))
        with django_assert_max_num_queries(12) as captured:
            assert api.get(api_url(incident), {"page_size": 50}).status_code == 200
        return len(captured)

    attachments.attachment_add(record=incident, actor=agent, files=[upload("a.pdf", PDF)])
    few = count()
    attachments.attachment_add(
        record=incident, actor=agent, files=[upload(f"f{i}.pdf", PDF) for i in range(8)]
    )
    assert count() == few


def test_api_delete_by_the_uploader(api, customer, incident):
    [added] = attachments.attachment_add(record=incident, actor=customer, files=[upload("a.pdf", PDF)])
    api.as_user(customer)
    assert api.delete(api_url(incident, added.pk)).status_code == 204
    assert not Attachment.objects.exists()
