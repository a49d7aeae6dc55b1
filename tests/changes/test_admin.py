"""Change admin (issue 14 items 9, 12): changes are added and edited through the change services
(risk computed, the freeze refused, an approved change's re-plan sent back to the CAB), action-
table entries are bulk actions, governance templates are edited without raw JSON, windows and
freezes are planned by the CAB; self-service users cannot enter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from changes.models import Change, ChangeFreeze, ChangeTask, GovernanceTemplate, MaintenanceWindow
from conftest import make_user
from itsm.models import AuditEntry
from itsm.roles import Role
from tests.changes.factories import approved_change, make_change, make_freeze
from tests.itsm.admin_support import errors_on, page_data

pytestmark = pytest.mark.django_db

CHANGES = "/admin/changes/change/"
TEMPLATES = "/admin/changes/governancetemplate/"
WINDOWS = "/admin/changes/maintenancewindow/"
FREEZES = "/admin/changes/changefreeze/"


@pytest.fixture
def itsm_admin(db):
    return make_user("itsmadmin", Role.ITSM_ADMINISTRATOR)


def submit(client, url, **values):
    data = page_data(client.get(url))
    data.update(values)
    return client.post(url, data)


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


# --- Governance templates -------------------------------------------------------------------


def test_a_template_is_added_with_gates_typed_one_a_line(client, itsm_admin):
    client.force_login(itsm_admin)
    response = submit(
        client, f"{TEMPLATES}add/", name="Database changes", min_notice_hours=72,
        required_gates="Security review\nBackout tested, DBA sign-off\n\n", optional_gates="Load test",
        auto_approve_risk_levels=["medium", "low"], auto_approve_max_risk=6,
    )  # fmt: skip
    assert response.status_code == 302, errors_on(response)
    template = GovernanceTemplate.objects.get()
    assert template.required_gates == ["Security review", "Backout tested", "DBA sign-off"]
    assert template.optional_gates == ["Load test"]
    assert template.auto_approve_risk_levels == ["low", "medium"]
    assert AuditEntry.objects.filter(object_id=str(template.pk), action="create").exists()


def test_the_template_form_shows_gates_as_lines_and_saves_an_edit(client, itsm_admin):
    template = GovernanceTemplate.objects.create(name="Network", required_gates=["Peer review", "Backout"])
    client.force_login(itsm_admin)
    page = client.get(f"{TEMPLATES}{template.pk}/change/")
    assert "Peer review\nBackout" in page.content.decode()
    response = submit(client, f"{TEMPLATES}{template.pk}/change/", required_gates="Peer review")
    assert response.status_code == 302, errors_on(response)
    template.refresh_from_db()
    assert template.required_gates == ["Peer review"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"required_gates": "Backout\nBackout"}, "required_gates"),
        ({"required_gates": "Backout", "optional_gates": "Backout"}, "optional_gates"),
        ({"auto_approve_max_risk": 30}, "auto_approve_max_risk"),
    ],
)
def test_a_bad_template_comes_back_with_the_error_on_its_field(client, itsm_admin, values, field):
    client.force_login(itsm_admin)
    response = submit(client, f"{TEMPLATES}add/", name="Bad", **values)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not GovernanceTemplate.objects.exists()


def test_a_team_lead_reads_templates_but_cannot_add_one(client, lead):
    GovernanceTemplate.objects.create(name="Network")
    client.force_login(lead)
    assert client.get(TEMPLATES).status_code == 200
    assert client.get(f"{TEMPLATES}add/").status_code == 403


# --- Maintenance windows and freezes --------------------------------------------------------


def test_a_team_lead_plans_a_window_and_a_freeze_in_the_admin(client, lead):
    client.force_login(lead)
    response = submit(
        client, f"{WINDOWS}add/", name="Sunday patching", start_0="2026-03-08", start_1="01:00",
        end_0="2026-03-08", end_1="05:00",
    )  # fmt: skip
    assert response.status_code == 302, errors_on(response)
    assert MaintenanceWindow.objects.get().created_by == lead
    response = submit(
        client, f"{FREEZES}add/", name="Year-end", reason="Books", start_0="2026-12-20", start_1="00:00",
        end_0="2027-01-04", end_1="00:00",
    )  # fmt: skip
    assert response.status_code == 302, errors_on(response)
    assert ChangeFreeze.objects.get().created_by == lead


def test_a_freeze_ending_before_it_starts_is_refused_on_the_form(client, lead):
    client.force_login(lead)
    response = submit(
        client, f"{FREEZES}add/", name="Backwards", start_0="2026-12-20", start_1="00:00",
        end_0="2026-12-19", end_1="00:00",
    )  # fmt: skip
    assert response.status_code == 200
    assert "end" in response.context["adminform"].form.errors
    assert not ChangeFreeze.objects.exists()


def test_an_agent_reads_windows_but_cannot_plan_one(client, agent):
    client.force_login(agent)
    assert client.get(WINDOWS).status_code == 200
    assert client.get(f"{WINDOWS}add/").status_code == 403


# --- Changes --------------------------------------------------------------------------------


def test_a_change_added_in_the_admin_goes_through_the_change_service(client, itsm_admin):
    client.force_login(itsm_admin)
    response = submit(client, f"{CHANGES}add/", short_description="Patch the switches", change_type="normal")
    assert response.status_code == 302, errors_on(response)
    change = Change.objects.get(short_description="Patch the switches")
    assert change.number.startswith("CHG") and change.state == "draft"
    assert change.requester == itsm_admin
    assert change.risk_score is not None and change.risk_level  # computed by change_create
    assert AuditEntry.objects.filter(object_id=str(change.pk), action="create").exists()


def test_a_change_task_added_in_the_admin_is_made_under_the_chosen_change(client, itsm_admin):
    client.force_login(itsm_admin)
    submit(client, f"{CHANGES}add/", short_description="Patch the switches")
    change = Change.objects.get()
    response = submit(client, "/admin/changes/changetask/add/", short_description="Drain rack", change=change.pk)
    assert response.status_code == 302, errors_on(response)
    task = ChangeTask.objects.get()
    assert task.change == change and task.number.startswith("TASK")


def test_re_planning_an_approved_change_in_the_admin_sends_it_back_to_the_cab(client, itsm_admin, agent, lead):
    change = approved_change(by=agent, approver=lead)
    start, end = change.planned_start + timedelta(days=2), change.planned_end + timedelta(days=2)
    client.force_login(itsm_admin)
    response = submit(
        client, f"{CHANGES}{change.pk}/change/", planned_start_0=start.strftime("%Y-%m-%d"),
        planned_start_1=start.strftime("%H:%M:%S"), planned_end_0=end.strftime("%Y-%m-%d"),
        planned_end_1=end.strftime("%H:%M:%S"),
    )  # fmt: skip
    assert response.status_code == 302, errors_on(response)
    change.refresh_from_db()
    assert change.state == "submitted" and change.cab_decision == ""


def test_planning_a_normal_change_in_a_freeze_is_refused_in_the_admin(client, itsm_admin, agent, lead):
    start = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    make_freeze("Year end", start=start - timedelta(days=1), end=start + timedelta(days=1), by=lead)
    change = make_change(by=agent)
    client.force_login(itsm_admin)
    response = submit(
        client, f"{CHANGES}{change.pk}/change/", planned_start_0=start.strftime("%Y-%m-%d"),
        planned_start_1="09:00:00", planned_end_0=start.strftime("%Y-%m-%d"), planned_end_1="11:00:00",
    )  # fmt: skip
    change.refresh_from_db()
    assert change.planned_start is None
    # The service's refusal comes back on the page again, nothing saved.
    assert response.status_code == 302 and response["Location"].endswith(f"{change.pk}/change/")
    shown = messages_of(client.get(response["Location"]))
    assert "Year end" in shown and "Nothing was saved." in shown


def test_start_is_a_bulk_action_that_reports_refusals(client, itsm_admin, agent, lead):
    approved = approved_change(by=agent, approver=lead)
    draft = make_change(by=agent, short_description="Still a draft")
    client.force_login(itsm_admin)
    response = client.post(CHANGES, {"action": "start", "_selected_action": [approved.pk, draft.pk]}, follow=True)
    assert response.status_code == 200
    approved.refresh_from_db()
    draft.refresh_from_db()
    assert (approved.state, draft.state) == ("in_progress", "draft")
    shown = messages_of(response)
    assert "Started 1 change." in shown and f"{draft.number}: Cannot start" in shown


def test_the_change_page_shows_what_the_cab_and_the_scoring_decided(client, itsm_admin, agent, lead):
    change = approved_change(by=agent, approver=lead)
    client.force_login(itsm_admin)
    page = client.get(f"{CHANGES}{change.pk}/change/").content.decode()
    assert "Cab decision" in page and "Risk score" in page and "Approved" in page


def test_customer_cannot_enter_the_change_admin(client, customer):
    client.force_login(customer)
    for url in (CHANGES, TEMPLATES, WINDOWS, FREEZES):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
