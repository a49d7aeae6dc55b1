"""The change journey in a real browser: an agent drafts a normal change from a governance
template (the form shows the chosen template's maturity, notice and gates), completes the gates
and submits it; a manager approves it from the CAB queue; the agent starts it, completes it and
records the post-implementation review. Then the calendar shows it.

Screenshots at 1366 and 390 pixels wide go to ``test-artifacts/`` (and ``$CHANGE_SHOTS`` if set).
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from changes.models import Change, GovernanceTemplate
from conftest import make_user
from itsm.models import Host, HostGroup
from itsm.roles import PERSONAS, Persona
from tests.browser.conftest import ARTIFACTS
from tests.browser.support import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

WIDE, NARROW = 1366, 390


def said(page) -> str:
    """What the page confirmed after the last action (the messages above the page)."""
    messages = page.locator("section.messages")
    return messages.inner_text() if messages.count() else ""


def shot(page, name: str) -> None:
    """Full-page screenshots of the current page, wide and narrow."""
    folders = [Path(ARTIFACTS), *([Path(os.environ["CHANGE_SHOTS"])] if os.environ.get("CHANGE_SHOTS") else [])]
    for width in (WIDE, NARROW):
        page.set_viewport_size({"width": width, "height": 900})
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"change-journey-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": WIDE, "height": 900})


def test_agent_drafts_from_a_template_completes_gates_manager_approves_agent_implements_and_reviews(page):
    make_user("alex", *PERSONAS[Persona.L2_AGENT])
    make_user("lee", *PERSONAS[Persona.TEAM_LEADER])
    web = HostGroup.objects.create(name="Web servers", service_tier="high")
    for name in ("web-01", "web-02"):
        Host.objects.create(hostname=name, host_group=web)
    GovernanceTemplate.objects.create(name="Quick fix", maturity_level=1, min_notice_hours=4)
    template = GovernanceTemplate.objects.create(
        name="Web release", maturity_level=3, min_notice_hours=48, required_gates=["Peer review", "Backout tested"],
        optional_gates=["Customer notice"], pir_required=True,
    )  # fmt: skip
    start = (timezone.now() + timedelta(days=5)).replace(hour=21, minute=0, second=0, microsecond=0)
    page.set_viewport_size({"width": WIDE, "height": 900})
    refused = []  # every Content-Security-Policy refusal the browser reports (none: no inline code)
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)

    # The agent drafts a normal change from the template: choosing it shows its summary only.
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.click("nav.site-nav >> text=Changes")
    page.wait_for_url("**/desk/changes/")
    page.click("text=New change")
    page.wait_for_url("**/desk/changes/new/")
    assert not page.locator("#template-summaries").is_visible()  # no template chosen yet
    page.select_option("select[name=governance_template]", label="Web release")
    summary = page.locator(f"#template-summaries [data-template='{template.pk}']")
    assert summary.is_visible() and not page.locator("#template-summaries li", has_text="Quick fix").is_visible()
    assert "Maturity 3 — Defined" in summary.inner_text() and "Minimum notice: 48 h" in summary.inner_text()
    assert "Peer review" in summary.inner_text() and "optional" in summary.inner_text()
    page.fill("input[name=short_description]", "Release the new shop front")
    page.fill("input[name=planned_start]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=planned_end]", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("textarea[name=implementation_plan]", "Deploy to web-01, check, then web-02.")
    page.fill("textarea[name=backout_plan]", "Redeploy the previous build.")
    page.fill("input[name=hosts]", "web-01, web-02")
    shot(page, "1-new-form")
    page.click("button:has-text('Create change')")
    page.wait_for_load_state()
    assert "is created as a draft" in said(page)
    change = Change.objects.get()
    assert (change.state, change.governance_template_id, change.hosts.count()) == ("draft", template.pk, 2)

    # … completes both required gates, each with a note, and submits it to the CAB.
    for gate, note in (("Peer review", "Sam read the plan."), ("Backout tested", "Rolled back on staging.")):
        item = page.locator(".chg-gate", has_text=gate)
        item.locator("summary").click()
        item.locator("textarea").fill(note)
        item.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert "The gate is complete" in said(page)
    assert "2 of 2 required done" in page.inner_text("#gates")
    assert "Rolled back on staging." in page.inner_text("#gates")
    page.click("#action-submit button[type=submit]")
    page.wait_for_load_state()
    assert "is submitted to the CAB" in said(page)
    # An agent does not decide: no approve form in the CAB panel.
    assert page.locator("#cab details").count() == 0
    shot(page, "2-submitted")

    # The manager finds it in the CAB queue and approves it.
    sign_in(page, "lee")
    page.wait_for_url("**/desk/")
    page.goto("/desk/changes/cab/")
    page.click(f"text={change.number}")
    page.wait_for_url(f"**/desk/changes/{change.pk}/#cab")
    page.click("#cab summary:has-text('Approve')")
    page.fill("#action-approve textarea[name$=cab_notes]", "Go ahead; keep the shop team on the call.")
    page.click("#action-approve button[type=submit]")
    page.wait_for_load_state()
    assert f"{change.number} is approved." in said(page)
    assert "keep the shop team on the call" in page.inner_text("#cab")
    shot(page, "3-approved")

    # The agent starts it, completes it and records the review: then it is closed.
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto(f"/desk/changes/{change.pk}/")
    page.click("#action-start button[type=submit]")
    page.wait_for_load_state()
    assert "is in progress" in said(page)
    page.click("#action-complete button[type=submit]")
    page.wait_for_load_state()
    assert "its post-implementation review is due" in said(page)
    page.select_option("#action-pir select[name$=pir_outcome]", "partially_successful")
    page.fill("#action-pir textarea[name$=pir_lessons]", "The cache warm-up took longer than planned.")
    page.fill("#action-pir textarea[name$=pir_follow_ups]", "Warm the cache before the switch.")
    shot(page, "4-review")
    page.click("#action-pir button[type=submit]")
    page.wait_for_load_state()
    assert "it is closed" in said(page)
    change.refresh_from_db()
    assert change.state == "closed" and change.pir_outcome == "partially_successful"
    assert change.actual_start and change.actual_end

    # The risk tab explains the score; the timeline tells the story.
    page.click(".desk-tabs >> text=Risk and impact")
    assert "out of 25" in page.inner_text("main") and "Worst service tier" in page.inner_text("main")
    page.click(".desk-tabs >> text=Timeline")
    timeline = page.inner_text("main")
    for step in ("Submit", "Approve", "Start", "Complete", "PIR"):
        assert step in timeline, step

    # The calendar shows its planned window, labelled in words.
    page.goto(f"/desk/changes/calendar/?view=month&date={start:%Y-%m-%d}")
    entry = page.locator(".chg-entry-change", has_text=change.number)
    assert entry.count() == 1 and "Change" in entry.text_content()  # the word, whatever the CSS shows
    shot(page, "5-calendar")
    page.goto(f"/desk/changes/calendar/?view=week&date={start:%Y-%m-%d}")
    assert page.locator(".chg-week .chg-entry-change", has_text=change.number).count() == 1
    assert refused == []
