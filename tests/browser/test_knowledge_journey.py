"""The knowledge journey in a real browser: an editor writes an article (the live preview renders
the markdown as it is typed) and submits it; a knowledge manager publishes it from the review
queue; a customer describing an incident on the portal sees it suggested as it types, reads it
and marks it helpful.

Screenshots go to /tmp/shots-kb/ (or $KB_SHOTS) at 1366 px and 390 px wide.
"""

import os
from pathlib import Path

import pytest

from conftest import make_user
from incidents import workflows as incident_workflows
from incidents.models import Incident
from itsm.models import Organisation
from itsm.roles import PERSONAS, Persona
from knowledge.models import Article, ArticleFeedback
from tests.browser.support import settled, sign_in
from tests.incidents.factories import make_incident
from tests.knowledge.factories import published_article, revised_article

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("KB_SHOTS", "/tmp/shots-kb"))
WIDE, NARROW = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
BODY = """## When it happens

The printer shows **offline** on your laptop although it is switched on.

## What to do

1. Turn the printer off and on again.
2. Open *Settings › Printers* and choose **Use printer online**.
3. Print a test page.
"""


def said(page) -> str:
    messages = page.locator("section.messages")
    return messages.inner_text() if messages.count() else ""


def shot(page, name: str) -> None:
    """The page at both widths, whole."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("1366", WIDE), ("390", NARROW)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(WIDE)


def watch_csp(page) -> list[str]:
    """Every Content-Security-Policy refusal the browser reports (none is allowed)."""
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    return refused


def test_editor_writes_manager_publishes_customer_finds_it_while_typing_and_finds_it_helpful(page):
    refused = watch_csp(page)
    org = Organisation.objects.create(name="Acme")
    make_user("alex", *PERSONAS[Persona.L2_AGENT])  # a knowledge editor
    make_user("morgan", *PERSONAS[Persona.IT_SERVICE_MANAGER])  # a knowledge manager
    customer = make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    page.set_viewport_size(WIDE)

    # The editor writes the article; the preview follows the markdown as it is typed.
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto("/desk/knowledge/new/")
    page.fill("input[name=title]", "Printer shows offline")
    page.fill("textarea[name=summary]", "Bring an office printer back online in three steps.")
    page.fill("input[name=category]", "Printing")
    page.fill("input[name=keywords]", "printer, offline, printing")
    page.locator("textarea[name=body]").press_sequentially(BODY[:40])
    page.locator("textarea[name=body]").fill(BODY)
    page.locator("textarea[name=body]").press("End")
    page.wait_for_selector("#article-preview h2:has-text('What to do')")
    assert page.inner_text("#article-preview strong") == "offline"
    assert page.locator("#article-preview ol li").count() == 3
    # With the live preview working, the no-JavaScript "Preview" button is out of the way.
    assert not page.locator("button[name=preview]").is_visible()
    shot(page, "1-editor-live-preview")
    page.click("button[name=save]")
    page.wait_for_load_state()
    article = Article.objects.get()
    assert f"{article.number} is saved as a draft." in said(page)
    page.click("#action-submit button[type=submit]")
    page.wait_for_load_state()
    assert f"{article.number} is submitted for review." in said(page)
    shot(page, "2-submitted")

    # The manager publishes it from the review queue.
    sign_in(page, "morgan")
    page.wait_for_url("**/desk/")
    page.goto("/desk/knowledge/review/")
    assert "Printer shows offline" in page.inner_text("main")
    shot(page, "3-review-queue")
    page.click(f"#review-{article.pk}-publish button[type=submit]")
    page.wait_for_url("**/desk/knowledge/review/")
    assert f"{article.number} is published (version 1)." in said(page)
    article.refresh_from_db()
    assert article.state == "published"

    # The customer starts describing an incident: the article is suggested as it types.
    sign_in(page, "casey")
    page.wait_for_url("**/portal/")
    page.goto("/portal/incidents/new/")
    page.locator("input[name=short_description]").press_sequentially("My printer is offline", delay=40)
    suggestion = page.locator(".kb-suggestions a", has_text="Printer shows offline")
    suggestion.wait_for()
    assert "One article matches what you typed" in page.inner_text(".kb-suggest-status")
    shot(page, "4-raise-form-suggestion")

    # … reads it and marks it helpful, instead of raising the incident.
    suggestion.click()
    page.wait_for_url(f"**/portal/knowledge/{article.pk}/")
    assert page.inner_text("h1") == "Printer shows offline"
    assert page.locator(".article-body ol li").count() == 3
    page.check("input[name=feedback-helpful][value=true]")
    page.fill("textarea[name=feedback-comment]", "Step 2 did it.")
    page.click("#feedback button[type=submit]")
    page.wait_for_load_state()
    assert "Thanks for your feedback" in said(page)
    assert "You said this article helped" in page.inner_text("#feedback")
    shot(page, "5-article-thanks")
    article.refresh_from_db()
    assert article.helpful_count == 1 and article.not_helpful_count == 0
    assert ArticleFeedback.objects.get().user == customer
    assert not Incident.objects.exists()  # solved without raising it

    # The knowledge search finds it too, with the words highlighted.
    page.goto("/portal/knowledge/?q=printers+offline")
    assert page.locator(".kb-results mark").count() >= 1
    shot(page, "6-portal-search")

    # The editor reads the vote and its comment on the desk; the customer never sees comments.
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto(f"/desk/knowledge/{article.pk}/")
    feedback = page.inner_text("#feedback")
    assert "Step 2 did it." in feedback and "1 found it helpful" in feedback
    shot(page, "6b-desk-article-feedback")
    page.goto("/desk/knowledge/")
    shot(page, "6c-desk-list")
    assert refused == []


def test_agent_links_a_suggested_article_to_an_incident_and_promotes_a_resolution_with_history(page):
    refused = watch_csp(page)
    org = Organisation.objects.create(name="Acme")
    agent = make_user("alex", *PERSONAS[Persona.L2_AGENT])
    manager = make_user("morgan", *PERSONAS[Persona.IT_SERVICE_MANAGER])
    customer = make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    live = published_article(
        by=agent, publisher=manager, title="VPN disconnects every few minutes", category="Network",
        summary="Raise the idle timeout on the VPN client.", body="1. Open the VPN client\n2. Set *Idle timeout* to 30",
    )  # fmt: skip
    revised_article(live=live, by=agent, publisher=manager, body="1. Open the VPN client\n2. Set *Idle timeout* to 60\n3. Reconnect")
    incident = make_incident(requester=customer, short_description="VPN disconnects", description="It drops every 5 minutes")
    page.set_viewport_size(WIDE)

    # The agent sees the article suggested on the incident page and links it as the answer.
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto(f"/desk/incidents/{incident.pk}/")
    page.locator("#knowledge").scroll_into_view_if_needed()  # the suggestions come as it shows
    page.locator(".kb-suggested li", has_text=live.title).locator("button").click()
    page.wait_for_load_state()
    assert f"{live.number} is linked to {incident.number} as its answer." in said(page)
    assert page.locator("#knowledge", has_text="Linked articles").is_visible()
    shot(page, "7-incident-panel-linked")

    # Resolved, its resolution is promoted to a new draft, opened in the editor.
    settled(page)
    incident_workflows.incident_start(incident=incident, actor=agent)
    incident_workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes="Raised the idle timeout to 60."
    )
    page.goto(f"/desk/incidents/{incident.pk}/")
    page.click("text=Promote to knowledge")
    page.wait_for_url("**/desk/knowledge/*/edit/")
    assert page.input_value("input[name=title]") == "VPN disconnects"
    assert "Raised the idle timeout to 60." in page.inner_text("#article-preview")

    # The article's history compares its two publications.
    page.goto(f"/desk/knowledge/{live.pk}/history/")
    shot(page, "8-history")
    page.click(".kb-diff-pick button[type=submit]")
    page.wait_for_url("**/diff/?from=1&to=2")
    assert page.locator(".kb-diff .kb-add").count() >= 2
    shot(page, "9-diff")
    assert refused == []


def test_without_javascript_the_editor_previews_by_button_and_the_raise_form_offers_the_search(page, live_server):
    org = Organisation.objects.create(name="Acme")
    agent = make_user("alex", *PERSONAS[Persona.L2_AGENT])
    manager = make_user("morgan", *PERSONAS[Persona.IT_SERVICE_MANAGER])
    make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    published_article(by=agent, publisher=manager, title="Printer shows offline", body="Turn it **off** and on.")
    context = page.context.browser.new_context(base_url=live_server.url, java_script_enabled=False)
    plain = context.new_page()
    try:
        sign_in(plain, "alex")
        plain.wait_for_url("**/desk/")
        plain.goto("/desk/knowledge/new/")
        plain.fill("input[name=title]", "Scanner")
        plain.fill("textarea[name=body]", "## Scan to e-mail\n\nPress **Scan**.")
        plain.click("button[name=preview]")
        plain.wait_for_load_state()
        assert plain.inner_text("#article-preview h2") == "Scan to e-mail"
        assert plain.input_value("input[name=title]") == "Scanner"  # nothing lost, nothing saved
        assert not Article.objects.filter(title="Scanner").exists()

        sign_in(plain, "casey")
        plain.wait_for_url("**/portal/")
        plain.goto("/portal/incidents/new/")
        assert plain.locator(".kb-suggest form[role=search]").is_visible()
        plain.fill("#kb-raise-q", "printer offline")
        plain.click(".kb-suggest form[role=search] button")
        plain.wait_for_url("**/portal/knowledge/?q=printer+offline")
        assert plain.locator(".kb-results h2").all_inner_texts() == ["Printer shows offline"]
    finally:
        context.close()
