"""A closed or cancelled incident is finished: agents and managers no longer edit it, assign it
(Take, Assign to me, the assign action, bulk assign) or log time on it, through any door; an ITSM
administrator still edits it. A resolved incident is not finished (it may be reopened): agents
still work it. The rule is the policy's (incidents/rules.py); each door follows from it."""

import re
from html import unescape

import pytest
from django.urls import reverse

from incidents import workflows
from incidents.models import Incident
from tests.incidents.factories import make_incident
from tests.itsm.admin_support import page_data
from tests.itsm.factories import make_group

pytestmark = pytest.mark.django_db

API = "/api/v1/incidents/"
ADMIN = "/admin/incidents/incident/"
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def resolved(incident, agent):
    incident = workflows.incident_start(incident=incident, actor=agent)
    return workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes="Swapped the toner."
    )


def finish(state, customer, agent):
    incident = make_incident(requester=customer)
    if state == "cancelled":
        return workflows.incident_cancel(incident=incident, actor=agent, reason="Raised twice.")
    return workflows.incident_close(incident=resolved(incident, agent), actor=agent)


def html_of(response) -> str:
    return CSRF_INPUT.sub("", unescape(response.content.decode()))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def unchanged(incident) -> tuple:
    saved = Incident.objects.get(pk=incident.pk)
    return saved.version, saved.assignee_id, saved.priority, saved.time_entries.count()


@pytest.fixture
def network(agent):
    return make_group("Network", members=[agent])


@pytest.fixture(params=["closed", "cancelled"])
def finished(request, customer, agent):
    return finish(request.param, customer, agent)


# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["agent", "lead"])
def test_agents_and_team_leaders_cannot_patch_a_finished_incident(who, finished, api, request):
    user = request.getfixturevalue(who)
    before = unchanged(finished)
    r = api.as_user(user).patch(f"{API}{finished.pk}/", {"priority": "P1"}, format="json")
    assert r.status_code == 403, r.content
    assert f"while it is {finished.state}" in r.content.decode()
    assert unchanged(finished) == before


@pytest.mark.parametrize("who", ["manager", "admin_user"])
def test_itsm_administrator_still_patches_a_finished_incident(who, finished, api, request):
    """The IT service manager persona (itsm_administrator) and a superuser."""
    r = api.as_user(request.getfixturevalue(who)).patch(
        f"{API}{finished.pk}/", {"priority": "P1"}, format="json"
    )
    assert r.status_code == 200, r.content
    finished.refresh_from_db()
    assert finished.priority == "P1"


def test_agent_cannot_assign_or_log_time_on_a_finished_incident(finished, api, agent):
    before = unchanged(finished)
    client = api.as_user(agent)
    assign = client.post(f"{API}{finished.pk}/assign/", {"assignee": agent.pk}, format="json")
    assert assign.status_code == 403, assign.content
    assert f"You may not assign this incident while it is {finished.state}." in assign.content.decode()
    logged = client.post(f"{API}{finished.pk}/time-entries/", {"minutes": 30}, format="json")
    assert logged.status_code == 403, logged.content
    assert unchanged(finished) == before


def test_agent_still_edits_assigns_and_logs_time_on_a_resolved_incident(customer, agent, api):
    incident = resolved(make_incident(requester=customer), agent)
    client = api.as_user(agent)
    assert client.patch(f"{API}{incident.pk}/", {"priority": "P2"}, format="json").status_code == 200
    assert (
        client.post(f"{API}{incident.pk}/assign/", {"assignee": agent.pk}, format="json").status_code == 200
    )
    assert client.post(f"{API}{incident.pk}/time-entries/", {"minutes": 15}, format="json").status_code == 201
    incident.refresh_from_db()
    assert (incident.priority, incident.assignee, incident.time_entries.count()) == ("P2", agent, 1)


def test_bulk_assign_lists_a_finished_incident_as_refused_with_the_reason(customer, agent, api, network):
    open_one = make_incident(requester=customer)
    closed = finish("closed", customer, agent)
    before = unchanged(closed)
    r = api.as_user(agent).post(
        f"{API}bulk/",
        {"action": "assign", "ids": [open_one.pk, closed.pk], "assignee": agent.pk},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json() == {
        "requested": 2, "affected": 1, "unchanged": 1,
        "refused": [{"id": closed.pk, "number": closed.number,
                     "reason": "You may not assign this incident while it is closed."}],
    }  # fmt: skip
    assert unchanged(closed) == before
    open_one.refresh_from_db()
    assert open_one.assignee == agent


# --- Desk -----------------------------------------------------------------------------------


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


def page_of(client, incident) -> str:
    response = client.get(reverse("desk:incident-detail", args=[incident.pk]))
    assert response.status_code == 200
    return html_of(response)


def test_desk_page_of_a_finished_incident_offers_no_edit_form_take_or_assign(finished, desk):
    html = page_of(desk, finished)
    assert 'id="edit"' not in html and "?open=edit" not in html  # the edit card
    assert reverse("desk:incident-assign-to-me", args=[finished.pk]) not in html
    assert 'id="action-assign"' not in html and "?open=assign" not in html  # the assign card
    assert ">Assign to me</button>" not in html


def test_desk_page_of_a_resolved_incident_still_offers_the_edit_form_and_assign(customer, agent, desk):
    incident = resolved(make_incident(requester=customer), agent)
    html = page_of(desk, incident)
    assert 'id="edit"' in html and 'id="action-assign"' in html  # the cards, closed
    assert reverse("desk:incident-assign-to-me", args=[incident.pk]) in html
    opened = desk.get(reverse("desk:incident-detail", args=[incident.pk]), {"open": "edit"}).content.decode()
    assert reverse("desk:incident-edit", args=[incident.pk]) in opened
    opened = desk.get(reverse("desk:incident-detail", args=[incident.pk]), {"open": "assign"}).content.decode()
    assert reverse("desk:incident-action", args=[incident.pk, "assign"]) in opened


def test_desk_page_of_a_finished_incident_offers_the_edit_form_to_an_itsm_administrator(
    finished, client, admin_user
):
    client.force_login(admin_user)
    opened = client.get(reverse("desk:incident-detail", args=[finished.pk]), {"open": "edit"}).content.decode()
    assert reverse("desk:incident-edit", args=[finished.pk]) in opened


def test_desk_take_of_a_finished_incident_is_refused_and_changes_nothing(finished, desk):
    before = unchanged(finished)
    response = desk.post(reverse("desk:incident-assign-to-me", args=[finished.pk]), follow=True)
    assert messages_of(response) == [
        f"{finished.number} was not assigned to you: You may not assign this incident while it is "
        f"{finished.state}."
    ]
    assert unchanged(finished) == before


def test_desk_assign_and_edit_posts_on_a_finished_incident_are_refused(finished, desk, agent):
    before = unchanged(finished)
    assign = desk.post(
        reverse("desk:incident-action", args=[finished.pk, "assign"]), {"assign-assignee": agent.pk}
    )
    assert assign.status_code == 403
    edit = desk.post(reverse("desk:incident-edit", args=[finished.pk]), {"priority": "P1"})
    assert edit.status_code == 403
    assert unchanged(finished) == before


def test_desk_queue_offers_no_take_on_a_finished_incident(customer, agent, desk):
    open_one = make_incident(requester=customer)
    closed = finish("closed", customer, agent)
    html = html_of(desk.get(reverse("desk:incident-list"), {"state": ""}))
    assert closed.number in html
    assert reverse("desk:incident-assign-to-me", args=[open_one.pk]) in html
    assert reverse("desk:incident-assign-to-me", args=[closed.pk]) not in html


def test_desk_bulk_assign_says_a_finished_incident_was_not_changed_and_why(customer, agent, desk, network):
    closed = finish("closed", customer, agent)
    response = desk.post(
        reverse("desk:incident-bulk"),
        {"action": "assign", "ids": [closed.pk], "assignee": agent.pk},
        follow=True,
    )
    said = messages_of(response)
    assert f"{closed.number} was not changed: You may not assign this incident while it is closed." in said
    closed.refresh_from_db()
    assert closed.assignee is None


# --- Admin ----------------------------------------------------------------------------------


def test_admin_change_form_of_a_finished_incident_is_read_only_for_an_agent(finished, client, agent):
    """The L2 persona enters the admin (cmdb_manager): the finished incident is shown, not saved."""
    client.force_login(agent)
    url = f"{ADMIN}{finished.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    before = unchanged(finished)
    assert client.post(url, {"short_description": "Rewritten", "priority": "P1"}).status_code == 403
    assert unchanged(finished) == before


def test_admin_change_form_of_a_finished_incident_saves_for_an_itsm_administrator(
    finished, client, admin_user
):
    client.force_login(admin_user)
    url = f"{ADMIN}{finished.pk}/change/"
    data = page_data(client.get(url))
    response = client.post(url, {**data, "priority": "P1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    finished.refresh_from_db()
    assert finished.priority == "P1"
