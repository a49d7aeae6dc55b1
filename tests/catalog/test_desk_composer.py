"""The request overview's conversation and composer (the shared itsm includes): the requester's
comments, public comments and internal work notes marked, an internal note by default, posted to
the notes tab's view and back to the overview."""

import re

import pytest
from django.urls import reverse

from catalog import services
from catalog.models import RequestNote
from tests.catalog.factories import make_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(customer):
    return make_request(requester=customer, short_description="New keyboard")


def overview(record) -> str:
    return reverse("desk:request-detail", args=[record.pk])


def test_the_request_overview_shows_the_marked_conversation_and_an_internal_by_default_composer(
    client, agent, customer, record
):
    services.request_note_add(request=record, actor=customer, kind="comment", body="Any news?")
    services.request_note_add(request=record, actor=agent, kind="comment", body="Ordered today.")
    services.request_note_add(request=record, actor=agent, kind="work_note", body="PO 4711.")
    client.force_login(agent)
    page = client.get(overview(record)).content.decode()
    assert re.findall(r'<li class="desk-note [^"]*desk-note-(\w+)"', page) == [
        "customer",
        "public",
        "internal",
    ]
    form = re.search(
        r'<form method="post" action="([^"]+)" enctype="multipart/form-data"[^>]*id="composer">', page
    )
    assert form and form.group(1) == reverse("desk:request-notes", args=[record.pk])
    assert re.findall(r'<input type="radio" name="kind" value="(\w+)"[^>]*checked', page) == ["work_note"]


def test_a_public_comment_from_the_request_composer_comes_back_to_the_overview(
    client, agent, customer, record
):
    client.force_login(agent)
    response = client.post(
        reverse("desk:request-notes", args=[record.pk]),
        {"kind": "comment", "body": "Shipped.", "next": overview(record) + "#conversation"},
    )
    assert response.status_code == 302 and response["Location"] == overview(record) + "#conversation"
    assert RequestNote.objects.get().kind == "comment"
    client.force_login(customer)
    assert "Shipped." in client.get(reverse("portal:request-detail", args=[record.pk])).content.decode()


def test_the_request_overview_query_count_does_not_grow_with_the_conversation(
    client, agent, customer, django_assert_max_num_queries
):
    few = make_request(requester=customer, short_description="Few")
    many = make_request(requester=customer, short_description="Many")
    services.request_note_add(request=few, actor=customer, kind="comment", body="one")
    for n in range(25):
        services.request_note_add(
            request=many, actor=agent, kind="work_note" if n % 2 else "comment", body=f"n{n}"
        )
    client.force_login(agent)

    def count(record) -> int:
        client.get(overview(record))
        with django_assert_max_num_queries(12) as captured:
            assert client.get(overview(record)).status_code == 200
        return len(captured)

    assert count(few) == count(many)
