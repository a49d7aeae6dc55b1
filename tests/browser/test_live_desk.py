"""Live enough, in a real browser (issue 17, item 14): the desk queue and the unread count refresh
themselves without a reload (htmx), but never under the hands of someone working in the queue;
a half-typed text survives a reload and is forgotten once sent. The page's clock is Playwright's,
so "30 seconds later" takes no time."""

import re

import pytest

from conftest import make_user
from incidents import workflows
from itsm.models import Organisation
from itsm.roles import PERSONAS, Persona
from notifications.models import Notification
from tests.browser.support import settled, sign_in
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db(transaction=True)


def _watch_refreshes(page, path: str) -> list[str]:
    """The URLs of the refreshes of ``path`` htmx sends (its requests carry HX-Request)."""
    sent: list[str] = []
    page.on(
        "request",
        lambda request: (
            sent.append(request.url) if request.headers.get("hx-request") and path in request.url else None
        ),
    )
    return sent


def _watch_csp(page) -> list[str]:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    return refused


def _eventually(page, predicate: str, arg=None, seconds: float = 15) -> None:
    """Wait for ``predicate`` from Python: with the page's clock installed, Playwright's own
    polling (animation frames) stands still, so a swap that lands after the first look is
    never seen."""
    for _ in range(int(seconds * 10)):
        if page.evaluate(predicate, arg):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"Still false after {seconds} s: {predicate}")


def test_the_queue_and_the_unread_count_refresh_but_not_while_you_work_in_the_queue(page):
    org = Organisation.objects.create(name="Acme")
    customer = make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    agent = make_user("alex", *PERSONAS[Persona.L2_AGENT])
    first = make_incident(requester=customer, short_description="VPN drops")
    refused = _watch_csp(page)
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.clock.install()
    page.goto("/desk/incidents/?state=new")
    sent = _watch_refreshes(page, "/desk/incidents/")
    results = page.locator("#queue-results")
    assert first.number in results.inner_text()

    # New work appears half a minute later, with the page's filters, without a reload.
    second = make_incident(requester=customer, short_description="Printer jams")
    page.clock.run_for("00:31")
    _eventually(page, "n => document.querySelector('#queue-results').innerText.includes(n)", second.number)
    assert any(url.endswith("/desk/incidents/?state=new") for url in sent), sent

    # Working in the queue holds the refresh: a focused link, then a ticked row.
    page.focus(f"#queue-results a:text('{first.number}')")
    third = make_incident(requester=customer, short_description="Laptop will not boot")
    before = len(sent)
    page.clock.run_for("00:31")
    page.wait_for_timeout(300)
    assert len(sent) == before
    assert third.number not in results.inner_text()
    page.evaluate(
        """() => {
          document.activeElement.blur();
          const box = document.createElement("input");
          box.type = "checkbox"; box.checked = true; box.setAttribute("aria-label", "Select");
          document.querySelector("#queue-results tbody td").append(box);
        }"""
    )
    page.clock.run_for("00:31")
    page.wait_for_timeout(300)
    assert len(sent) == before
    assert third.number not in results.inner_text()

    # Done working (unticked, and the focus moved on): the next refresh brings it.
    for box in page.locator("#queue-results tbody input[type=checkbox]:checked").all():
        box.uncheck()
    page.focus("#site-search-q")
    page.clock.run_for("00:31")
    _eventually(page, "n => document.querySelector('#queue-results').innerText.includes(n)", third.number)

    # The unread count follows within the minute.
    assert page.locator("#nav-unread").inner_text().strip() == ""
    Notification.objects.create(recipient=agent, kind="sla_breached", subject="Breach", body="Body")
    page.clock.run_for("00:46")
    _eventually(page, "() => document.querySelector('#nav-unread .nav-count') !== null")
    assert re.sub(r"\s+", " ", page.locator("#nav-unread").inner_text()).strip() == "1 unread"
    assert refused == []


def test_a_half_typed_comment_survives_a_reload_and_is_forgotten_once_sent(page):
    org = Organisation.objects.create(name="Acme")
    customer = make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    incident = make_incident(requester=customer, short_description="VPN drops")
    sign_in(page, "casey")
    page.wait_for_url("**/portal/")
    page.goto(f"/portal/incidents/{incident.pk}/")
    box = page.locator(".comment-form textarea")
    text = "It dropped again at 10:42,\nright after the VPN client updated."
    box.fill(text)

    page.reload()
    assert box.input_value() == text
    assert "Your unsent text was kept" in page.locator(".comment-form .draft-note").inner_text()

    page.click(".comment-form button[type=submit]")
    page.wait_for_load_state()
    assert "right after the VPN client updated." in page.inner_text("main")  # the comment was added
    assert box.input_value() == ""
    assert page.evaluate("() => Object.keys(localStorage).filter((k) => k.startsWith('itsm-draft:'))") == []
    page.reload()
    assert box.input_value() == ""
    assert page.locator(".draft-note").count() == 0


def test_a_kept_draft_can_be_discarded(page):
    org = Organisation.objects.create(name="Acme")
    customer = make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    incident = make_incident(requester=customer, short_description="VPN drops")
    sign_in(page, "casey")
    page.wait_for_url("**/portal/")
    page.goto(f"/portal/incidents/{incident.pk}/")
    page.locator(".comment-form textarea").fill("Never mind")
    page.reload()
    page.click(".comment-form .draft-note button")
    assert page.locator(".comment-form textarea").input_value() == ""
    page.reload()
    assert page.locator(".comment-form textarea").input_value() == ""


def test_a_draft_sent_from_the_page_that_showed_its_errors_is_forgotten_where_it_was_typed(page):
    """Typed on the incident page, refused by the server (its page shows the text again, at the
    action's URL), then sent from there: the next visit to the incident page starts empty."""
    org = Organisation.objects.create(name="Acme")
    customer = make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    agent = make_user("alex", *PERSONAS[Persona.L2_AGENT])
    incident = workflows.incident_start(incident=make_incident(requester=customer), actor=agent)
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto(f"/desk/incidents/{incident.pk}/")
    page.click("#action-resolve summary")
    notes = page.locator("#action-resolve textarea[name$=resolution_notes]")
    notes.fill("Replaced the patch cable.")
    # A code the server does not know (an old page, say): the server refuses it.
    page.evaluate(
        """() => document.querySelector('#action-resolve select[name$=resolution_code]')
          .add(new Option("Gone", "gone", true, true))"""
    )
    page.click("#action-resolve button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith(f"/desk/incidents/{incident.pk}/actions/resolve/")
    assert notes.input_value() == "Replaced the patch cable."  # the server's copy
    page.select_option("#action-resolve select[name$=resolution_code]", value="workaround")
    page.click("#action-resolve button[type=submit]")
    page.wait_for_url(f"**/desk/incidents/{incident.pk}/")
    incident.refresh_from_db()
    assert incident.state == "resolved"

    settled(page)
    workflows.incident_reopen(incident=incident, actor=agent, notes="Back again")
    page.goto(f"/desk/incidents/{incident.pk}/")
    page.click("#action-resolve summary")
    assert notes.input_value() == ""
    assert page.locator(".draft-note").count() == 0
