"""An attachment's round trip in a real browser: a customer attaches a file in the portal, an
agent finds it on the desk's incident page and downloads the same bytes."""

import re
from pathlib import Path

import pytest

from conftest import make_user
from incidents import services
from itsm.models import Organisation
from itsm.roles import PERSONAS, Persona
from tests.browser.support import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_customer_attaches_in_the_portal_and_the_agent_downloads_it_from_the_desk(page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    org = Organisation.objects.create(name="Acme")
    casey = make_user("casey", *PERSONAS[Persona.EVERYONE], organisation=org)
    make_user("alex", *PERSONAS[Persona.L2_AGENT])
    incident = services.incident_create(actor=casey, data={"short_description": "Printer jams"})
    report = tmp_path / "jam report.pdf"
    report.write_bytes(PDF)

    # The customer attaches the file on the incident's portal page (a plain form, no script).
    sign_in(page, "casey")
    page.wait_for_url("**/portal/")
    page.goto(f"/portal/incidents/{incident.pk}/")
    page.set_input_files("#attachments input[type=file]", str(report))
    page.click("#attachments button[type=submit]")
    page.wait_for_url(re.compile(rf".*/portal/incidents/{incident.pk}/#attachments$"))
    assert "Attached jam report.pdf." in page.inner_text(".messages")
    assert "jam report.pdf" in page.inner_text("#attachments .attachment-list")
    page.screenshot(path=str(Path("/tmp/attach") / "portal-attachment.png"), full_page=True)

    # The agent sees it on the incident's overview and downloads it.
    sign_in(page, "alex")
    page.wait_for_url("**/desk/")
    page.goto(f"/desk/incidents/{incident.pk}/")
    card = page.locator("#attachments")
    assert "jam report.pdf" in card.inner_text()
    page.screenshot(path=str(Path("/tmp/attach") / "desk-attachment.png"), full_page=True)
    with page.expect_download() as downloading:
        card.get_by_role("link", name="jam report.pdf").click()
    download = downloading.value
    assert download.suggested_filename == "jam report.pdf"
    assert Path(download.path()).read_bytes() == PDF

    # The timeline says who attached what.
    page.goto(f"/desk/incidents/{incident.pk}/timeline/")
    assert "Attached jam report.pdf" in page.inner_text(".desk-timeline")
