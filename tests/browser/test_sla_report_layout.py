"""The SLA compliance report fits the screen (issue 17, defect 4): at 1366 px every table is
whole, and at 390 px the page never scrolls sideways (a wide table scrolls inside its box)."""

import pytest

from conftest import make_user
from itsm.roles import PERSONAS, Persona
from tests.browser.support import sign_in
from tests.sla.test_report import clocks  # noqa: F401 (the fixture: measurements in March 2024)

pytestmark = pytest.mark.django_db(transaction=True)

REPORT = "/desk/sla/compliance/?start=2024-03-04&end=2024-03-24&period=day"
SHOTS = "/tmp/shots-ux"

FITS = """() => {
  const page = {scroll: document.documentElement.scrollWidth, inner: window.innerWidth};
  const tables = [...document.querySelectorAll("main table")].map((table) => {
    const box = table.closest(".table-wrap") || table.parentElement;
    const t = table.getBoundingClientRect(), b = box.getBoundingClientRect();
    return {
      caption: table.querySelector("caption")?.textContent.trim(),
      whole: t.left >= b.left - 0.5 && t.right <= b.right + 0.5 && t.right <= window.innerWidth + 0.5,
      scrollsInside: table.scrollWidth > box.clientWidth ? getComputedStyle(box).overflowX : "fits",
    };
  });
  return {page, tables};
}"""


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_the_compliance_report_fits_the_screen(page, clocks, width, height):  # noqa: F811
    clocks["network"].name = "Network and infrastructure operations (second line, EMEA)"
    clocks["network"].save()
    make_user("alex", *PERSONAS[Persona.L2_AGENT])
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto(REPORT)
    page.screenshot(path=f"{SHOTS}/sla-compliance-{width}.png", full_page=True)
    for n, box in enumerate(page.locator("main .table-wrap").all()):
        box.screenshot(path=f"{SHOTS}/sla-compliance-{width}-table-{n}.png")
    fit = page.evaluate(FITS)
    assert fit["page"]["scroll"] <= fit["page"]["inner"], fit["page"]
    assert len(fit["tables"]) == 5
    for table in fit["tables"]:
        if width >= 1366:
            assert table["whole"], table
        else:
            assert table["whole"] or table["scrollsInside"] in ("auto", "scroll"), table
