"""Long lists and notification storms in a real browser: the desk queue past its counted
pages (Next carries a cursor), and a digest notification opened to show what it lists."""

import re

import pytest

from conftest import make_user
from incidents.models import Incident
from itsm.pagination import CappedPaginator
from itsm.roles import PERSONAS, Persona
from notifications import services as notify
from notifications.models import Kind
from notifications.services import Message
from tests.browser.support import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def incidents(count, requester):
    return [
        Incident.objects.create(
            number=f"INC{n:07d}",
            kind=Incident.KIND,
            state="new",
            short_description=f"Printer {n}",
            requester=requester,
        )
        for n in range(1, count + 1)
    ]


def test_the_desk_queue_says_more_than_and_next_walks_past_the_count(page, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 30)
    monkeypatch.setattr("incidents.views.desk.queue.PAGE_SIZE", 10)
    customer = make_user("casey", *PERSONAS[Persona.EVERYONE])
    make_user("alex", *PERSONAS[Persona.L2_AGENT])
    rows = incidents(45, customer)
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto("/desk/incidents/")
    assert "more than 30 incidents" in page.inner_text("main")
    seen = []
    for number in range(1, 6):
        status = page.inner_text(".pagination-status")
        assert status == f"Page {number}"  # never "of 3": the count is a lower bound
        seen += re.findall(r"INC\d{7}", page.inner_text("table"))
        if number < 5:
            page.click("a[rel=next]")
            page.wait_for_load_state()
    assert "after=" in page.url  # past the counted pages, the link carries the position
    assert sorted(seen) == sorted(i.number for i in rows)
    assert page.locator("a[rel=next]").count() == 0
    page.click("a[rel=prev]")
    page.wait_for_load_state()
    assert page.inner_text(".pagination-status") == "Page 4"


def test_a_digest_opens_to_list_its_incidents(page):
    customer = make_user("casey", *PERSONAS[Persona.EVERYONE])
    agent = make_user("alex", *PERSONAS[Persona.L2_AGENT])
    rows = incidents(notify.DIGEST_AT + 2, customer)
    notify.send([Message(agent, Kind.SLA_BREACHED, i, {"target": "response"}) for i in rows])
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto("/desk/notifications/")
    assert f"SLA breached: {len(rows)} incidents" in page.inner_text("main")
    listed = page.locator(".desk-notification-body ul")
    assert not listed.is_visible()  # closed until asked for, no JavaScript involved
    page.click(".desk-notification-body summary")
    assert listed.is_visible()
    page.click(f"text={rows[2].number} breached its response SLA")
    page.wait_for_url(f"**/desk/incidents/{rows[2].pk}/")
    assert rows[2].number in page.inner_text("main")
