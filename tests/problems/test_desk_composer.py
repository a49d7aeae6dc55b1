"""The problem overview's work notes and composer (the shared itsm includes, issue #17 item 11):
problems have work notes only, so every note is marked internal and the composer is the
internal-note composer, posting to the notes tab's view and coming back to the overview; a
reader the policy does not let add a note sees no composer."""

import re

import pytest
from django.urls import reverse

from itsm.policy.rules import PERMISSIONS
from itsm.roles import Role
from itsm.views.conversation import CONVERSATION_SIZE
from problems import services
from problems.models import ProblemNote
from tests.problems.factories import make_problem

pytestmark = pytest.mark.django_db

COMPOSER = re.compile(r'<form method="post" action="([^"]+)" enctype="multipart/form-data"[^>]*id="composer">')


@pytest.fixture
def problem(agent):
    return make_problem(by=agent)


def overview(problem) -> str:
    return reverse("desk:problem-detail", args=[problem.pk])


def notes_url(problem) -> str:
    return reverse("desk:problem-notes", args=[problem.pk])


def test_the_problem_overview_shows_the_work_notes_marked_internal_and_an_internal_note_composer(
    client, agent, problem
):
    services.problem_note_add(problem=problem, actor=agent, body="Switch firmware 12.4 suspected.")
    client.force_login(agent)
    page = client.get(overview(problem)).content.decode()
    assert re.findall(r'<li class="desk-note [^"]*desk-note-(\w+)"', page) == ["internal"]
    assert "Switch firmware 12.4 suspected." in page
    composer = COMPOSER.search(page)
    assert composer and composer.group(1) == notes_url(problem)
    form = page[composer.start() : page.index("</form>", composer.start())]
    assert "Internal note — the service desk only" in form
    assert 'name="kind"' not in form  # nothing the customer reads can be posted from here
    assert "Add work note" in form


def test_the_problem_overview_shows_the_latest_notes_and_links_to_the_work_notes_tab(client, agent, problem):
    for n in range(CONVERSATION_SIZE + 1):
        services.problem_note_add(problem=problem, actor=agent, body=f"Step number {n:02d}")
    client.force_login(agent)
    page = client.get(overview(problem)).content.decode()
    assert "Step number 00" not in page and f"Step number {CONVERSATION_SIZE:02d}" in page
    assert f'href="{notes_url(problem)}">All work notes</a>' in page


def test_a_work_note_from_the_problem_overview_is_added_and_comes_back_to_the_overview(client, agent, problem):
    client.force_login(agent)
    back = overview(problem) + "#conversation"
    response = client.post(notes_url(problem), {"body": "Vendor ticket 4711 opened.", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    [note] = ProblemNote.objects.filter(problem=problem)
    assert note.body == "Vendor ticket 4711 opened." and note.author == agent
    assert "Vendor ticket 4711 opened." in client.get(overview(problem)).content.decode()


def test_an_empty_work_note_from_the_problem_overview_is_a_400_naming_the_field(client, agent, problem):
    client.force_login(agent)
    response = client.post(notes_url(problem), {"body": "  ", "next": overview(problem)})
    assert response.status_code == 400
    assert response.context["note_form"].errors["body"]
    assert not ProblemNote.objects.exists()


def test_a_reader_who_may_not_add_problem_notes_sees_no_composer_and_cannot_post_one(
    client, agent, problem, monkeypatch
):
    """Adding a note takes ``problems.manage`` (problems.rules); a reader without it still reads
    the notes but is offered no composer, and a post is refused."""
    services.problem_note_add(problem=problem, actor=agent, body="Only managers write now.")
    monkeypatch.setitem(PERMISSIONS, "problems.manage", frozenset({Role.ITSM_MANAGER}))
    client.force_login(agent)
    page = client.get(overview(problem)).content.decode()
    assert "Only managers write now." in page
    assert 'id="composer"' not in page
    response = client.post(notes_url(problem), {"body": "Sneaky.", "next": overview(problem)})
    assert response.status_code == 403
    assert ProblemNote.objects.filter(problem=problem).count() == 1

