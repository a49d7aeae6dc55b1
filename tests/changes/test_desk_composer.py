"""The change overview's work notes and composer (the shared itsm includes, issue #17 item 11):
changes have work notes only, so every note is marked internal and the composer is the
internal-note composer, posting to the notes tab's view and coming back to the overview; a
reader the policy does not let add a note sees no composer."""

import re
from dataclasses import replace

import pytest
from django.urls import reverse

from changes import services
from changes.models import ChangeNote
from itsm.policy.rules import ALL_RULES, MANAGER, Act
from tests.changes.factories import make_change

pytestmark = pytest.mark.django_db

COMPOSER = re.compile(r'<form method="post" action="([^"]+)" enctype="multipart/form-data"[^>]*id="composer">')


@pytest.fixture
def change(agent):
    return make_change(by=agent)


def overview(change) -> str:
    return reverse("desk:change-detail", args=[change.pk])


def notes_url(change) -> str:
    return reverse("desk:change-notes", args=[change.pk])


def test_the_change_overview_shows_the_work_notes_marked_internal_and_an_internal_note_composer(
    client, agent, change
):
    services.change_note_add(change=change, actor=agent, body="Vendor confirmed the slot.")
    client.force_login(agent)
    page = client.get(overview(change)).content.decode()
    assert re.findall(r'<li class="desk-note [^"]*desk-note-(\w+)"', page) == ["internal"]
    assert "Vendor confirmed the slot." in page
    assert f'href="{notes_url(change)}">All work notes</a>' in page
    composer = COMPOSER.search(page)
    assert composer and composer.group(1) == notes_url(change)
    form = page[composer.start() : page.index("</form>", composer.start())]
    assert "Internal note — the service desk only" in form
    assert 'name="kind"' not in form
    assert "Add work note" in form


def test_a_work_note_from_the_change_overview_is_added_and_comes_back_to_the_overview(client, agent, change):
    client.force_login(agent)
    back = overview(change) + "#conversation"
    response = client.post(notes_url(change), {"body": "Backout tested on staging.", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    [note] = ChangeNote.objects.filter(change=change)
    assert note.body == "Backout tested on staging." and note.author == agent
    assert "Backout tested on staging." in client.get(overview(change)).content.decode()


def test_a_work_note_from_the_change_overview_goes_back_only_to_a_page_of_this_site(client, agent, change):
    client.force_login(agent)
    response = client.post(notes_url(change), {"body": "Noted.", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == f"{notes_url(change)}#notes"


def test_a_reader_who_may_not_add_change_notes_sees_no_composer_and_cannot_post_one(
    client, agent, change, monkeypatch
):
    """Adding a note is the change rules' ``note`` action; a reader it does not name still reads
    the notes but is offered no composer, and a post is refused by the service."""
    services.change_note_add(change=change, actor=agent, body="Only managers write now.")
    rules = ALL_RULES["changes.change"]
    monkeypatch.setitem(
        ALL_RULES, "changes.change", replace(rules, actions={**rules.actions, "note": (Act(MANAGER),)})
    )
    client.force_login(agent)
    page = client.get(overview(change)).content.decode()
    assert "Only managers write now." in page
    assert 'id="composer"' not in page
    response = client.post(notes_url(change), {"body": "Sneaky.", "next": overview(change)})
    assert response.status_code == 403
    assert ChangeNote.objects.filter(change=change).count() == 1
