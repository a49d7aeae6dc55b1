"""The pages pass their Content-Security-Policy in a real browser: no script, style or image the
policy refuses, on the portal, the desk, the admin and the API docs."""

from datetime import UTC, datetime

import pytest

from conftest import make_user
from itsm.models import Organisation
from itsm.roles import PERSONAS, Persona
from oncall import services as oncall_services
from tests.browser.support import sign_in
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db(transaction=True)


def _watch(page) -> list[str]:
    """Every CSP refusal the browser reports (Chromium logs each one to the console)."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return refused


def _visit(page, path: str) -> None:
    response = page.goto(path)
    assert response.status < 400, (path, response.status)
    assert "content-security-policy" in response.headers, path
    page.wait_for_load_state("networkidle")


def test_portal_desk_and_admin_pages_raise_no_csp_violation(page):
    org = Organisation.objects.create(name="Acme")
    customer = make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    agent = make_user("alex", *PERSONAS[Persona.L2_AGENT])
    make_user("root", superuser=True)
    incident = make_incident(requester=customer, short_description="VPN drops")
    schedule = oncall_services.schedule_create(
        actor=agent,
        data={"name": "Tier 1", "time_zone": "Europe/London", "rotation": "daily",
              "start": datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "participants": [agent]},
    )  # fmt: skip
    refused = _watch(page)

    sign_in(page, "casey")
    page.wait_for_url("**/portal/")
    for path in ("/portal/", "/portal/incidents/", f"/portal/incidents/{incident.pk}/"):
        _visit(page, path)

    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    for path in (
        "/desk/", "/desk/incidents/", f"/desk/incidents/{incident.pk}/", "/desk/sla/compliance/",
        f"/desk/oncall/{schedule.pk}/",
    ):  # fmt: skip
        _visit(page, path)
    # The timeline's blocks are placed by the nonce'd style element, not style attributes.
    width = page.locator(".oc-seg").first.evaluate("el => getComputedStyle(el).width")
    assert float(width.removesuffix("px")) > 10

    sign_in(page, "root")
    page.wait_for_load_state()
    for path in (
        "/admin/", "/admin/incidents/incident/", f"/admin/incidents/incident/{incident.pk}/change/",
        "/admin/itsm/user/add/",
    ):  # fmt: skip
        _visit(page, path)

    assert refused == []


def test_api_docs_load_under_the_policy(page):
    make_user("alex", *PERSONAS[Persona.L2_AGENT])
    refused = _watch(page)
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    _visit(page, "/api/docs/")
    page.wait_for_selector("text=ITSM API")
    page.wait_for_selector(".opblock")  # the operations, from the schema Swagger UI fetched
    _visit(page, "/api/v1/incidents/")  # the browsable API
    assert refused == []
