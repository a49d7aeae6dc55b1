"""The problem and change overviews' work notes and composer (the shared itsm includes, issue #17
item 11): both kinds have work notes only, so every note is marked internal and the composer is
the internal-note composer, posting to the notes tab's view and coming back to the overview; a
reader the policy does not let add a note sees no composer. One module for both kinds, so a rule
pinned for one is pinned for the other."""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from django.urls import reverse

from changes import services as change_services
from changes.models import ChangeNote
from itsm.policy.rules import ALL_RULES, MANAGER, PERMISSIONS, Act
from itsm.views.conversation import CONVERSATION_SIZE
from problems import services as problem_services
from problems.models import ProblemNote
from tests.changes.factories import make_change
from tests.problems.factories import make_problem

pytestmark = pytest.mark.django_db

COMPOSER = re.compile(
    r'<form method="post" action="([^"]+)" enctype="multipart/form-data"[^>]*id="composer">'
)


def _problem_notes_for_managers_only(monkeypatch) -> None:
    """Adding a problem note takes ``problems.manage`` (problems.rules)."""
    monkeypatch.setitem(PERMISSIONS, "problems.manage", frozenset({MANAGER}))


def _change_notes_for_managers_only(monkeypatch) -> None:
    """Adding a change note is the change rules' own ``note`` action."""
    rules = ALL_RULES["changes.change"]
    monkeypatch.setitem(
        ALL_RULES, "changes.change", replace(rules, actions={**rules.actions, "note": (Act(MANAGER),)})
    )


@dataclass(frozen=True)
class Kind:
    noun: str  # the desk URL names' prefix: desk:<noun>-detail, desk:<noun>-notes
    make: Callable  # (agent) -> record
    add_note: Callable  # (record, actor, body) -> None, through the kind's service
    notes: Callable  # (record) -> the record's note queryset
    note_model: type
    notes_for_managers_only: Callable  # (monkeypatch) -> None: the policy lever that gates a note


KINDS = {
    "problem": Kind(
        noun="problem",
        make=lambda agent: make_problem(by=agent),
        add_note=lambda record, actor, body: problem_services.problem_note_add(
            problem=record, actor=actor, body=body
        ),
        notes=lambda record: ProblemNote.objects.filter(problem=record),
        note_model=ProblemNote,
        notes_for_managers_only=_problem_notes_for_managers_only,
    ),
    "change": Kind(
        noun="change",
        make=lambda agent: make_change(by=agent),
        add_note=lambda record, actor, body: change_services.change_note_add(
            change=record, actor=actor, body=body
        ),
        notes=lambda record: ChangeNote.objects.filter(change=record),
        note_model=ChangeNote,
        notes_for_managers_only=_change_notes_for_managers_only,
    ),
}


@pytest.fixture(params=KINDS)
def kind(request) -> Kind:
    return KINDS[request.param]


@pytest.fixture
def record(kind, agent):
    return kind.make(agent)


def overview(kind, record) -> str:
    return reverse(f"desk:{kind.noun}-detail", args=[record.pk])


def notes_url(kind, record) -> str:
    return reverse(f"desk:{kind.noun}-notes", args=[record.pk])


def test_the_overview_shows_the_work_notes_marked_internal_and_an_internal_note_composer(
    client, agent, kind, record
):
    kind.add_note(record, agent, "Vendor confirmed the slot.")
    client.force_login(agent)
    page = client.get(overview(kind, record)).content.decode()
    assert re.findall(r'<li class="desk-note [^"]*desk-note-(\w+)"', page) == ["internal"]
    assert "Vendor confirmed the slot." in page
    assert f'href="{notes_url(kind, record)}">All work notes</a>' in page
    composer = COMPOSER.search(page)
    assert composer and composer.group(1) == notes_url(kind, record)
    form = page[composer.start() : page.index("</form>", composer.start())]
    assert "Internal note — the service desk only" in form
    assert 'name="kind"' not in form  # nothing the customer reads can be posted from here
    assert "Add work note" in form


def test_the_overview_shows_only_the_latest_notes_and_links_to_the_work_notes_tab(
    client, agent, kind, record
):
    for n in range(CONVERSATION_SIZE + 1):
        kind.add_note(record, agent, f"Step number {n:02d}")
    client.force_login(agent)
    page = client.get(overview(kind, record)).content.decode()
    assert "Step number 00" not in page and f"Step number {CONVERSATION_SIZE:02d}" in page
    assert f'href="{notes_url(kind, record)}">All work notes</a>' in page


def test_a_work_note_from_the_overview_is_added_and_comes_back_to_the_overview(client, agent, kind, record):
    client.force_login(agent)
    back = overview(kind, record) + "#conversation"
    response = client.post(notes_url(kind, record), {"body": "Backout tested on staging.", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    [note] = kind.notes(record)
    assert note.body == "Backout tested on staging." and note.author == agent
    assert "Backout tested on staging." in client.get(overview(kind, record)).content.decode()


def test_a_work_note_from_the_overview_goes_back_only_to_a_page_of_this_site(client, agent, kind, record):
    client.force_login(agent)
    response = client.post(notes_url(kind, record), {"body": "Noted.", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == f"{notes_url(kind, record)}#notes"


def test_an_empty_work_note_from_the_overview_is_a_400_naming_the_field(client, agent, kind, record):
    client.force_login(agent)
    response = client.post(notes_url(kind, record), {"body": "  ", "next": overview(kind, record)})
    assert response.status_code == 400
    assert response.context["note_form"].errors["body"]
    assert not kind.note_model.objects.exists()


def test_a_reader_who_may_not_add_notes_sees_no_composer_and_cannot_post_one(
    client, agent, kind, record, monkeypatch
):
    """A reader the kind's note rule does not name still reads the notes but is offered no
    composer, and a post is refused."""
    kind.add_note(record, agent, "Only managers write now.")
    kind.notes_for_managers_only(monkeypatch)
    client.force_login(agent)
    page = client.get(overview(kind, record)).content.decode()
    assert "Only managers write now." in page
    assert 'id="composer"' not in page
    response = client.post(notes_url(kind, record), {"body": "Sneaky.", "next": overview(kind, record)})
    assert response.status_code == 403
    assert kind.notes(record).count() == 1
