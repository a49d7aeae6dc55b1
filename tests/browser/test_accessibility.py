"""Every desk and portal page is accessible and fits a phone (issue 17, item 16): signed in as a
customer, an agent and a manager on the demo data (``seed_demo``), each page — homes, queues of
every kind, record pages and their tabs, new and edit forms, the catalog and its request form,
knowledge, on-call, SLA, notifications, search, sign-in and the 404 page — gets no serious or
critical violation from axe-core (vendored, ``tests/browser/vendor/axe.min.js``), and at 390 px
wide no page scrolls sideways (a wide table scrolls inside its own box).

One browser, one tab: each page is loaded once at 1280 px, checked by axe, then narrowed to
390 px and measured."""

import time
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from catalog.models import CatalogItem, Request
from changes.models import Change
from incidents.models import Incident
from itsm.models import User
from knowledge.models import Article, ArticleState
from oncall.models import Schedule
from problems.models import Problem
from tests.browser.support import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SHOTS = Path("/tmp/shots-a11y")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# axe's own verdicts; only these two impacts fail the test.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      rule: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " — " + n.failureSummary.split("\\n").slice(0, 2).join(" ")),
    }));
}"""
# How much wider than the window the page is, and what sticks out.
SIDEWAYS = """() => {
  const root = document.documentElement;
  const over = root.scrollWidth - root.clientWidth;
  if (over <= 0) return null;
  const wide = [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > root.clientWidth + 0.5)
    .filter((e) => !e.closest(".table-wrap") || getComputedStyle(e).position === "absolute")
    .slice(-5)
    .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
      + (typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\\s+/).join(".") : "")
      + " right=" + Math.round(e.getBoundingClientRect().right));
  return {over, wide};
}"""


def _pages(customer) -> dict[str, list[str]]:
    """Each persona's pages, from the demo's records."""
    own_incidents = Incident.objects.filter(requester=customer).order_by("pk")
    open_incident = own_incidents.filter(state="in_progress").first() or own_incidents.first()
    new_incident = own_incidents.filter(state="new").first()
    resolved_incident = Incident.objects.filter(state__in=("resolved", "closed")).order_by("pk").first()
    incident = Incident.objects.filter(state="in_progress").order_by("pk").first()
    problem = Problem.objects.order_by("pk").first()
    change = Change.objects.exclude(state="draft").order_by("pk").first()
    draft_change = Change.objects.filter(state="draft").order_by("pk").first() or change
    request = Request.objects.filter(requester=customer).order_by("pk").first()
    approval = Request.objects.filter(state="pending_approval").order_by("pk").first() or request
    item = CatalogItem.objects.filter(active=True).order_by("pk").first()
    article = Article.objects.filter(state=ArticleState.PUBLISHED).order_by("pk").first()
    draft_article = Article.objects.filter(state=ArticleState.DRAFT).order_by("pk").first()
    schedule = Schedule.objects.order_by("pk").first()

    portal = [
        "/portal/",
        "/portal/incidents/",
        "/portal/incidents/new/",
        f"/portal/incidents/{open_incident.pk}/",
        "/portal/knowledge/",
        "/portal/knowledge/?q=printer",
        f"/portal/knowledge/{article.pk}/",
        "/portal/catalog/",
        f"/portal/catalog/items/{item.pk}/",
        "/portal/requests/",
        f"/portal/requests/{request.pk}/",
        "/portal/approvals/",
        "/portal/search/?q=printer",
        "/portal/search/?q=zzzz-nothing",
        "/portal/no-such-page/",
    ]
    if new_incident is not None:
        portal += [f"/portal/incidents/{new_incident.pk}/", f"/portal/incidents/{new_incident.pk}/edit/"]
    if resolved_incident is not None and resolved_incident.requester_id == customer.pk:
        portal.append(f"/portal/incidents/{resolved_incident.pk}/")
    i, p, c, r = incident.pk, problem.pk, change.pk, approval.pk
    desk = [
        "/desk/",
        "/desk/incidents/",
        *(
            f"/desk/incidents/{i}/{tab}"
            for tab in (
                "",
                "sla/",
                "conversation/",
                "journal/",
                "tasks/",
                "time/",
                "csat/",
                "timeline/",
                "known-errors/",
            )
        ),
        f"/desk/incidents/{resolved_incident.pk}/",
        "/desk/problems/",
        "/desk/problems/new/",
        "/desk/known-errors/",
        "/desk/known-errors/?q=disk",
        *(f"/desk/problems/{p}/{tab}" for tab in ("", "incidents/", "notes/", "tasks/", "timeline/")),
        "/desk/changes/",
        "/desk/changes/new/",
        "/desk/changes/calendar/",
        "/desk/changes/calendar/?view=week",
        *(f"/desk/changes/{c}/{tab}" for tab in ("", "risk/", "notes/", "tasks/", "timeline/")),
        f"/desk/changes/{draft_change.pk}/",
        "/desk/requests/",
        *(f"/desk/requests/{r}/{tab}" for tab in ("", "approvals/", "tasks/", "notes/", "timeline/")),
        "/desk/knowledge/",
        "/desk/knowledge/new/",
        f"/desk/knowledge/{article.pk}/",
        f"/desk/knowledge/{draft_article.pk}/edit/",
        f"/desk/knowledge/{article.pk}/history/",
        "/desk/oncall/",
        "/desk/oncall/now/",
        "/desk/oncall/new/",
        f"/desk/oncall/{schedule.pk}/",
        f"/desk/oncall/{schedule.pk}/edit/",
        "/desk/notifications/",
        "/desk/search/?q=printer",
        "/desk/sla/compliance/",
        "/desk/no-such-page/",
        "/portal/",
    ]
    manager_pages = [
        "/desk/changes/cab/",
        "/desk/knowledge/review/",
        "/desk/catalog/items/",
        "/desk/catalog/items/new/",
        f"/desk/catalog/items/{item.pk}/",
        f"/desk/catalog/items/{item.pk}/fields/",
        f"/desk/catalog/items/{item.pk}/preview/",
        "/desk/catalog/categories/",
        "/portal/catalog/manage/",
        f"/portal/catalog/manage/{item.pk}/fields/",
        "/portal/approvals/",
    ]
    return {"customer": [*portal, "/desk/"], "agent": desk, "manager": manager_pages}


def test_every_desk_and_portal_page_passes_axe_and_fits_390px(page):
    started = time.monotonic()
    call_command("seed_demo", "--password", "pw", stdout=StringIO())
    seeded = time.monotonic()
    pages = _pages(User.objects.get(username="customer"))
    page.context.add_init_script(path=str(AXE))
    SHOTS.mkdir(exist_ok=True)
    problems: list[str] = []
    visited = 0

    def check(path: str) -> None:
        nonlocal visited
        visited += 1
        page.set_viewport_size(DESKTOP)
        response = page.goto(path)
        assert response is not None and response.status < 500, (path, response and response.status)
        assert urlsplit(page.url).path == urlsplit(path).path, (path, page.url)  # not sent elsewhere
        for violation in page.evaluate(RUN_AXE):
            problems.append(f"{who} {path}: axe {violation['impact']} {violation['rule']} ({violation['help']}): "
                            + "; ".join(violation["nodes"]))  # fmt: skip
        page.set_viewport_size(PHONE)
        sideways = page.evaluate(SIDEWAYS)
        if sideways:
            name = path.strip("/").replace("/", "_").replace("?", "_") or "root"
            page.screenshot(path=str(SHOTS / f"{who}-{name}.png"), full_page=True)
            problems.append(
                f"{who} {path}: scrolls sideways at 390 px by {sideways['over']} px: {sideways['wide']}"
            )

    who = "anonymous"
    for path in ("/login/", "/no-such-page/"):
        check(path)
    for who in ("customer", "agent", "manager"):
        sign_in(page, who)
        page.wait_for_load_state()
        for path in pages[who]:
            check(path)
    finished = time.monotonic()
    print(f"seed {seeded - started:.1f}s, {visited} pages in {finished - seeded:.1f}s")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
