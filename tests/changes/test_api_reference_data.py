"""Governance templates, maintenance windows and change freezes through the API (issue 14 items 7,
9, 11): ITSM administrators write templates and agents read them; team leads (itsm_manager) plan windows and
freezes; bad input is a 400 naming the field; self-service users find none of it."""

from __future__ import annotations

import pytest

from changes.models import ChangeFreeze, GovernanceTemplate, MaintenanceWindow
from conftest import make_user
from itsm.models import AuditEntry, HostGroup
from itsm.roles import Role
from tests.changes.factories import make_change

pytestmark = pytest.mark.django_db

TEMPLATES = "/api/v1/governance-templates/"
WINDOWS = "/api/v1/maintenance-windows/"
FREEZES = "/api/v1/change-freezes/"

TEMPLATE = {
    "name": "Database changes",
    "maturity_level": 3,
    "min_notice_hours": 72,
    "required_gates": ["Security review", "Backout tested"],
    "optional_gates": ["DBA sign-off"],
    "auto_approve_max_risk": 6,
    "auto_approve_risk_levels": ["low", "medium"],
    "pir_required": True,
}


@pytest.fixture
def itsm_admin(db):
    return make_user("itsmadmin", Role.ITSM_ADMINISTRATOR)


def _template(**values) -> GovernanceTemplate:
    template = GovernanceTemplate(**{**TEMPLATE, **values})
    template.full_clean()
    template.save()
    return template


# --- Governance templates -------------------------------------------------------------------


def test_an_itsm_administrator_creates_a_template_with_gates_and_auto_approval_policy(api, itsm_admin):
    r = api.as_user(itsm_admin).post(TEMPLATES, TEMPLATE, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["required_gates"] == ["Security review", "Backout tested"]
    assert body["auto_approve_risk_levels"] == ["low", "medium"]
    assert body["maturity_level"] == 3 and body["min_notice_hours"] == 72 and body["pir_required"] is True
    template = GovernanceTemplate.objects.get(pk=body["id"])
    assert AuditEntry.objects.filter(object_id=str(template.pk), action="create").exists()


def test_agents_and_team_leads_read_templates_but_do_not_write_them(api, agent, lead):
    template = _template()
    for user in (agent, lead):  # lead: itsm_manager, not itsm_administrator
        client = api.as_user(user)
        assert client.get(f"{TEMPLATES}{template.pk}/").json()["name"] == "Database changes"
        assert client.post(TEMPLATES, {**TEMPLATE, "name": "Mine"}, format="json").status_code == 403
        r = client.patch(f"{TEMPLATES}{template.pk}/", {"min_notice_hours": 1}, format="json")
        assert r.status_code == 403
    template.refresh_from_db()
    assert template.min_notice_hours == 72 and GovernanceTemplate.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"required_gates": ["Security review", "Security review"]}, "required_gates"),
        ({"required_gates": ["  "]}, "required_gates"),
        ({"required_gates": "Security review"}, "required_gates"),
        ({"optional_gates": ["Security review"]}, "optional_gates"),
        ({"auto_approve_risk_levels": ["extreme"]}, "auto_approve_risk_levels"),
        ({"auto_approve_max_risk": 26}, "auto_approve_max_risk"),
        ({"auto_approve_max_risk": 0}, "auto_approve_max_risk"),
        ({"maturity_level": 9}, "maturity_level"),
        ({"min_notice_hours": -1}, "min_notice_hours"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_template_is_a_400_naming_the_field(api, itsm_admin, values, field):
    r = api.as_user(itsm_admin).post(TEMPLATES, {**TEMPLATE, **values}, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    assert not GovernanceTemplate.objects.exists()


def test_a_template_name_is_unique(api, itsm_admin):
    _template()
    r = api.as_user(itsm_admin).post(TEMPLATES, TEMPLATE, format="json")
    assert r.status_code == 400 and "name" in r.json()


def test_an_administrator_edits_the_gates_of_a_template(api, itsm_admin):
    template = _template()
    r = api.as_user(itsm_admin).patch(
        f"{TEMPLATES}{template.pk}/", {"required_gates": ["Security review"]}, format="json"
    )
    assert r.status_code == 200, r.content
    template.refresh_from_db()
    assert template.required_gates == ["Security review"]
    journal = api.as_user(itsm_admin).get(f"{TEMPLATES}{template.pk}/journal/").json()
    assert any(e["field"] == "required_gates" for e in journal)


def test_template_list_filters_by_active(api, agent):
    _template()
    _template(name="Retired", active=False)
    names = [t["name"] for t in api.as_user(agent).get(TEMPLATES, {"active": "true"}).json()["results"]]
    assert names == ["Database changes"]


def test_template_list_query_count_is_fixed(api, agent, django_assert_max_num_queries):
    for n in range(12):
        _template(name=f"Template {n:02}")
    client = api.as_user(agent)
    # the token with its user and roles, the count, the page
    with django_assert_max_num_queries(3):
        r = client.get(TEMPLATES, {"page_size": 50})
    assert r.status_code == 200 and len(r.json()["results"]) == 12


# --- Maintenance windows and freezes --------------------------------------------------------

WINDOW = {"name": "Sunday patching", "start": "2026-03-08T01:00:00Z", "end": "2026-03-08T05:00:00Z"}
FREEZE = {"name": "Year-end", "reason": "Closing the books", "start": "2026-12-20T00:00:00Z",
          "end": "2027-01-04T00:00:00Z"}  # fmt: skip


def test_a_team_lead_plans_a_maintenance_window_for_host_groups(api, lead):
    group = HostGroup.objects.create(name="Databases")
    r = api.as_user(lead).post(WINDOWS, {**WINDOW, "host_groups": [group.pk]}, format="json")
    assert r.status_code == 201, r.content
    window = MaintenanceWindow.objects.get(pk=r.json()["id"])
    assert list(window.host_groups.all()) == [group] and window.created_by == lead
    assert r.json()["created_by"] == lead.pk


def test_a_team_lead_declares_a_change_freeze(api, lead):
    r = api.as_user(lead).post(FREEZES, FREEZE, format="json")
    assert r.status_code == 201, r.content
    freeze = ChangeFreeze.objects.get(pk=r.json()["id"])
    assert freeze.created_by == lead and freeze.reason == "Closing the books"


@pytest.mark.parametrize(("url", "values"), [(WINDOWS, WINDOW), (FREEZES, FREEZE)])
def test_agents_read_windows_and_freezes_but_do_not_plan_them(api, agent, lead, url, values):
    created = api.as_user(lead).post(url, values, format="json").json()
    client = api.as_user(agent)
    assert client.get(f"{url}{created['id']}/").status_code == 200
    assert client.post(url, values, format="json").status_code == 403
    assert client.patch(f"{url}{created['id']}/", {"name": "Mine"}, format="json").status_code == 403
    assert client.delete(f"{url}{created['id']}/").status_code == 403


@pytest.mark.parametrize(("url", "values"), [(WINDOWS, WINDOW), (FREEZES, FREEZE)])
def test_an_end_before_the_start_is_a_400_naming_end(api, lead, url, values):
    r = api.as_user(lead).post(url, {**values, "end": values["start"]}, format="json")
    assert r.status_code == 400 and "end" in r.json(), r.content
    created = api.as_user(lead).post(url, values, format="json").json()
    r = api.as_user(lead).patch(f"{url}{created['id']}/", {"end": "2020-01-01T00:00:00Z"}, format="json")
    assert r.status_code == 400 and "end" in r.json(), r.content


@pytest.mark.parametrize(("url", "values"), [(WINDOWS, WINDOW), (FREEZES, FREEZE)])
def test_created_by_is_set_by_the_server(api, lead, agent, url, values):
    r = api.as_user(lead).post(url, {**values, "created_by": agent.pk}, format="json")
    assert r.status_code == 400 and "created_by" in r.json()


def test_windows_and_freezes_filter_by_overlap(api, lead):
    client = api.as_user(lead)
    client.post(FREEZES, FREEZE, format="json")
    client.post(FREEZES, {**FREEZE, "name": "Spring", "start": "2026-04-01T00:00:00Z",
                          "end": "2026-04-02T00:00:00Z"}, format="json")  # fmt: skip
    r = client.get(FREEZES, {"start__lt": "2027-01-01T00:00:00Z", "end__gt": "2026-12-24T00:00:00Z"})
    assert [f["name"] for f in r.json()["results"]] == ["Year-end"]


@pytest.mark.parametrize("url", [TEMPLATES, WINDOWS, FREEZES])
def test_self_service_users_get_404_on_reference_data(api, customer, itsm_admin, lead, url):
    if url == TEMPLATES:
        pk = _template().pk
    else:
        pk = api.as_user(lead).post(url, WINDOW if url == WINDOWS else FREEZE, format="json").json()["id"]
    client = api.as_user(customer)
    assert client.get(url).status_code == 404
    assert client.get(f"{url}{pk}/").status_code == 404
    assert client.post(url, {"name": "x"}, format="json").status_code == 404


def test_a_template_in_use_cannot_be_deleted(api, agent, itsm_admin):
    template = _template()
    make_change(by=agent, governance_template=template)
    r = api.as_user(itsm_admin).delete(f"{TEMPLATES}{template.pk}/")
    assert r.status_code == 409, r.content
    assert GovernanceTemplate.objects.filter(pk=template.pk).exists()
    unused = _template(name="Unused")
    assert api.as_user(itsm_admin).delete(f"{TEMPLATES}{unused.pk}/").status_code == 204
