"""The conversation and the one composer on the desk's incident overview (issue #17 item 11b):
every note marked for who reads it, the latest few with a link to the rest, a composer that
defaults to an internal note, posts to the notes tab's own view and comes back to the overview."""

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.template.defaultfilters import date
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from incidents import services
from incidents.models import IncidentNote
from itsm.roles import Role
from itsm.views.conversation import CONVERSATION_SIZE
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db


def overview(incident) -> str:
    return reverse("desk:incident-detail", args=[incident.pk])


def note_url(incident) -> str:
    return reverse("desk:incident-conversation", args=[incident.pk])


def note(incident, actor, kind, body):
    return services.note_add(incident=incident, actor=actor, kind=kind, body=body)


@pytest.fixture
def incident(customer):
    return make_incident(requester=customer)


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


def test_the_overview_shows_the_conversation_with_each_note_marked_for_who_reads_it(
    desk, incident, customer, agent
):
    note(incident, customer, "comment", "My printer smokes.")
    note(incident, agent, "comment", "Unplug it please.")
    note(incident, agent, "work_note", "Fuser unit is toast.")
    page = desk.get(overview(incident)).content.decode()
    items = re.findall(r'<li class="desk-note [^"]*desk-note-(\w+)"', page)
    assert items == ["customer", "public", "internal"]
    assert "Customer comment" in page
    assert "Public reply — the customer sees this" in page
    assert "Internal note — the service desk only" in page
    for body in ("My printer smokes.", "Unplug it please.", "Fuser unit is toast."):
        assert body in page


def test_a_superusers_comment_is_a_public_reply_and_one_without_an_author_a_customers(desk, incident):
    """A superuser works the desk without a desk role; a comment whose author is unknown (an
    e-mail from an address no one has) reads as the customer's."""
    root = make_user("root", superuser=True)
    IncidentNote.objects.create(incident=incident, kind="comment", author=root, body="From the top.")
    IncidentNote.objects.create(incident=incident, kind="comment", author=None, body="Sent by mail.")
    page = desk.get(overview(incident)).content.decode()
    assert re.findall(r'<li class="desk-note [^"]*desk-note-(\w+)"', page) == ["public", "customer"]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_a_notes_time_is_written_as_the_date_filter_writes_it_in_the_sites_zone(desk, incident, agent, zone):
    written = note(incident, agent, "comment", "Noted.")
    IncidentNote.objects.filter(pk=written.pk).update(created_at=datetime(2026, 3, 9, 23, 45, 7, tzinfo=UTC))
    with override_settings(TIME_ZONE=zone), timezone.override(zone):
        page = desk.get(overview(incident)).content.decode()
        at = timezone.localtime(IncidentNote.objects.get(pk=written.pk).created_at)
        expected = f'<time datetime="{date(at, "c")}">{date(at, "j M Y H:i")}</time>'
    assert expected in page


def test_the_overview_shows_only_the_latest_notes_and_links_to_the_notes_tabs(desk, incident, agent):
    for n in range(CONVERSATION_SIZE + 2):
        note(incident, agent, "work_note", f"Step number {n:02d}")
    page = desk.get(overview(incident)).content.decode()
    assert "Step number 00" not in page and "Step number 01" not in page
    assert f"Step number {CONVERSATION_SIZE + 1:02d}" in page
    assert f'href="{note_url(incident)}"' in page
    assert f'href="{reverse("desk:incident-journal", args=[incident.pk])}"' in page


def test_the_composer_defaults_to_an_internal_note_and_keeps_the_form_multipart(desk, incident):
    page = desk.get(overview(incident)).content.decode()
    form = re.search(
        r'<form method="post" action="([^"]+)" enctype="multipart/form-data"[^>]*id="composer">', page
    )
    assert form and form.group(1) == note_url(incident)
    checked = re.findall(r'<input type="radio" name="kind" value="(\w+)"[^>]*checked', page)
    assert checked == ["work_note"]
    assert "Reply to the customer — the customer sees this" in page


def test_an_internal_note_from_the_composer_lands_in_the_journal_and_back_on_the_overview(
    desk, incident, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            note_url(incident), {"kind": "work_note", "body": "Ordered a fuser.", "next": overview(incident)}
        )
    assert response.status_code == 302 and response["Location"] == overview(incident)
    [added] = IncidentNote.objects.filter(incident=incident)
    assert added.kind == "work_note" and added.body == "Ordered a fuser."
    assert mail.outbox == []  # the customer is not told of an internal note


def test_a_reply_from_the_composer_reaches_the_customer_on_the_portal_and_by_mail(
    desk, client, incident, customer, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        desk.post(
            note_url(incident), {"kind": "comment", "body": "Try the other tray.", "next": overview(incident)}
        )
        desk.post(
            note_url(incident), {"kind": "work_note", "body": "Tray 2 is secret.", "next": overview(incident)}
        )
    assert [m.to for m in mail.outbox] == [[customer.email]]
    assert "Try the other tray." in mail.outbox[0].body and "Tray 2 is secret." not in mail.outbox[0].body
    client.force_login(customer)
    portal = client.get(reverse("portal:incident-detail", args=[incident.pk])).content.decode()
    assert "Try the other tray." in portal and "Tray 2 is secret." not in portal


@pytest.mark.parametrize(
    "unsafe", ["https://evil.example/", "//evil.example/desk/", "javascript:alert(1)", "desk/incidents/"]
)
def test_the_composer_goes_back_only_to_a_page_of_this_site(desk, incident, unsafe):
    response = desk.post(note_url(incident), {"kind": "work_note", "body": "Noted.", "next": unsafe})
    assert response.status_code == 302
    assert response["Location"] == f"{note_url(incident)}#add-note"


def test_an_empty_message_from_the_composer_is_a_400_keeping_the_chosen_kind(desk, incident):
    response = desk.post(note_url(incident), {"kind": "comment", "body": "   ", "next": overview(incident)})
    assert response.status_code == 400
    assert not IncidentNote.objects.exists()
    assert re.search(
        r'<input type="radio" name="kind" value="comment"[^>]*checked', response.content.decode()
    )


def test_a_kind_the_writer_may_not_add_is_refused_naming_the_field(client, incident, organisation):
    """A desk user who is no ITSM agent may read its own incidents but writes no work note."""
    desk_user = make_user("deskuser", Role.PLATFORM_AGENT, organisation=organisation)
    own = make_incident(requester=desk_user)
    client.force_login(desk_user)
    page = client.get(overview(own)).content.decode()
    assert 'value="work_note"' not in page and "Internal note" not in page
    response = client.post(note_url(own), {"kind": "work_note", "body": "Sneaky.", "next": overview(own)})
    assert response.status_code == 400
    assert not IncidentNote.objects.filter(kind="work_note").exists()


def test_a_reader_without_the_work_journal_sees_no_internal_note_in_the_conversation(
    client, customer, agent, organisation
):
    desk_user = make_user("deskuser", Role.PLATFORM_AGENT, organisation=organisation)
    own = make_incident(requester=desk_user)
    note(own, agent, "work_note", "Internal remark 42.")
    note(own, agent, "comment", "Public answer 42.")
    client.force_login(desk_user)
    page = client.get(overview(own)).content.decode()
    assert "Public answer 42." in page and "Internal remark 42." not in page


def test_the_overview_query_count_does_not_grow_with_the_conversation(
    desk, incident, customer, agent, django_assert_max_num_queries
):
    few = make_incident(requester=customer, short_description="Few")
    many = make_incident(requester=customer, short_description="Many")
    note(few, customer, "comment", "one")
    for n in range(30):
        kind = "comment" if n % 2 else "work_note"
        note(many, customer if kind == "comment" and n % 3 == 0 else agent, kind, f"n{n}")

    def count(incident) -> int:
        desk.get(overview(incident))
        with django_assert_max_num_queries(19) as captured:
            assert desk.get(overview(incident)).status_code == 200
        return len(captured)

    assert count(few) == count(many)
