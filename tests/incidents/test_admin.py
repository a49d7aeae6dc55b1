"""Incident admin: who may list, change, delete and configure; actions call the workflows;
notes, time and CSAT are read-only; hidden fields never reach a column, filter or search."""

import re

import pytest
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple

from conftest import make_user
from incidents import services
from incidents.models import CsatResponse, Incident, IncidentNote, IncidentTask, PriorityMatrix, TimeEntry
from itsm import policy
from itsm.models import AssignmentGroup, AuditEntry, SlaDefinition
from sla.models import SlaClock
from tests.itsm.admin_support import page_data

pytestmark = pytest.mark.django_db

LIST = "/admin/incidents/incident/"


def incident(number="INC0000001", **values):
    values.setdefault("state", "new")
    values.setdefault("short_description", f"Incident {number}")
    return Incident.objects.create(kind=Incident.KIND, number=number, **values)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def itsm_admin(db):
    return make_user("x", "itsm_administrator")


# --- Who may do what ----------------------------------------------------------------------


def test_itsm_administrator_deletes_an_incident_and_the_delete_is_journaled(client, itsm_admin, customer):
    record = incident(requester=customer)
    client.force_login(itsm_admin)
    assert client.get(f"{LIST}{record.pk}/delete/").status_code == 200
    response = client.post(f"{LIST}{record.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Incident.objects.filter(pk=record.pk).exists()
    assert AuditEntry.objects.filter(object_id=str(record.pk), action="delete", actor=itsm_admin).exists()


def test_agent_in_admin_gets_what_the_policy_declares_and_never_delete(client, agent, customer):
    record = incident(requester=customer)
    # The L2 persona holds cmdb_manager, which opens the admin site.
    assert policy.has_permission(agent, "admin.access")
    assert policy.can(agent, "read", Incident)
    assert policy.can(agent, "update", record)
    assert policy.can(agent, "create", Incident)
    assert not policy.can(agent, "delete", record)

    client.force_login(agent)
    changelist = client.get(LIST)
    assert changelist.status_code == 200
    assert record.number in changelist.content.decode()
    assert "delete_selected" not in changelist.content.decode()
    assert client.get(f"{LIST}{record.pk}/change/").status_code == 200
    assert client.get(f"{LIST}add/").status_code == 200
    assert client.get(f"{LIST}{record.pk}/delete/").status_code == 403
    assert client.post(f"{LIST}{record.pk}/delete/", {"post": "yes"}).status_code == 403
    refused = client.post(LIST, {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"})
    assert refused.status_code in (200, 302)
    assert Incident.objects.filter(pk=record.pk).exists()


def test_customer_cannot_enter_the_incident_admin(client, customer):
    record = incident(requester=customer)
    client.force_login(customer)
    for url in (LIST, f"{LIST}{record.pk}/change/", "/admin/incidents/prioritymatrix/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


# --- Adding and editing go through the incident services -------------------------------------

CONFLICT = "Someone else changed this record after you opened it. Reload it and apply your change again."


@pytest.fixture
def standard_sla(db):
    return SlaDefinition.objects.create(
        name="Standard", is_default=True, **{f"p{n}_resolution_minutes": 480 * n for n in range(1, 5)}
    )


def submit(client, url, **values):
    """Open the admin page, change ``values`` on its form and save it, as a browser would."""
    data = page_data(client.get(url))
    data.update(values)
    return client.post(url, data)


def current_clocks(record):
    return list(SlaClock.objects.filter(work_id=record.pk, is_current=True))


def test_an_incident_added_in_the_admin_gets_its_matrix_priority_and_sla_clocks(
    client, itsm_admin, standard_sla
):
    client.force_login(itsm_admin)
    response = submit(client, f"{LIST}add/", short_description="Printer on fire", impact=1, urgency=1)
    assert response.status_code == 302, response.content.decode()[:2000]
    record = Incident.objects.get(short_description="Printer on fire")
    assert (record.requester, record.priority) == (itsm_admin, "P1")
    assert [clock.priority for clock in current_clocks(record)] == ["P1"]
    assert AuditEntry.objects.filter(object_id=str(record.pk), action="create").exists()


def test_an_impact_edit_in_the_admin_rederives_the_priority_and_retargets_the_clocks(
    client, itsm_admin, agent, standard_sla
):
    record = services.incident_create(actor=agent, data={"short_description": "Slow", "impact": 3})
    assert [clock.priority for clock in current_clocks(record)] == [record.priority] == ["P4"]
    client.force_login(itsm_admin)
    response = submit(client, f"{LIST}{record.pk}/change/", impact=1)
    assert response.status_code == 302, response.content.decode()[:2000]
    record.refresh_from_db()
    assert (record.impact, record.priority) == (1, "P3")
    assert [clock.priority for clock in current_clocks(record)] == ["P3"]


def test_an_incident_task_added_in_the_admin_is_made_under_the_chosen_incident(client, itsm_admin, customer):
    parent = services.incident_create(actor=customer, data={"short_description": "Network down"})
    client.force_login(itsm_admin)
    url = "/admin/incidents/incidenttask/add/"
    response = submit(client, url, short_description="Swap the switch", incident=parent.pk)
    assert response.status_code == 302, response.content.decode()[:2000]
    task = IncidentTask.objects.get(short_description="Swap the switch")
    assert (task.incident, task.organisation, task.state) == (parent, parent.organisation, "open")


def test_an_admin_save_after_someone_else_changed_the_incident_is_refused_and_overwrites_nothing(
    client, api, itsm_admin, lead, customer
):
    record = services.incident_create(actor=customer, data={"short_description": "Mail is slow"})
    client.force_login(itsm_admin)
    url = f"{LIST}{record.pk}/change/"
    data = page_data(client.get(url))
    assert data["version"] == str(record.version)
    changed = api.as_user(lead).patch(
        f"/api/v1/incidents/{record.pk}/", {"short_description": "Mail is down"}, format="json"
    )
    assert changed.status_code == 200, changed.content

    response = client.post(url, {**data, "short_description": "Mail is slow for everyone"}, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any(m.startswith(CONFLICT) for m in shown), shown
    assert "Nothing was saved." in shown
    record.refresh_from_db()
    assert record.short_description == "Mail is down"
    assert not AuditEntry.objects.filter(
        object_id=str(record.pk), field="short_description", new_value="Mail is slow for everyone"
    ).exists()


def test_a_change_form_without_the_version_it_was_loaded_at_is_not_saved(client, itsm_admin, customer):
    record = services.incident_create(actor=customer, data={"short_description": "Mail is slow"})
    client.force_login(itsm_admin)
    url = f"{LIST}{record.pk}/change/"
    data = page_data(client.get(url))
    del data["version"]
    response = client.post(url, {**data, "short_description": "Overwritten"})
    assert response.status_code == 200
    assert "version" in response.context["adminform"].form.errors
    record.refresh_from_db()
    assert record.short_description == "Mail is slow"


# --- Priority matrix ------------------------------------------------------------------------


def test_itsm_administrator_edits_the_priority_matrix_and_the_edit_is_journaled(client, itsm_admin):
    assert policy.has_permission(itsm_admin, "itsm.configure")
    cell = PriorityMatrix.objects.get(impact=1, urgency=1)
    assert cell.priority == "P1"
    client.force_login(itsm_admin)
    url = f"/admin/incidents/prioritymatrix/{cell.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"impact": 1, "urgency": 1, "priority": "P2"})
    assert response.status_code == 302, response.content.decode()[:2000]
    cell.refresh_from_db()
    assert cell.priority == "P2"
    entry = AuditEntry.objects.get(object_id=str(cell.pk), action="update", field="priority")
    assert (entry.old_value, entry.new_value, entry.actor) == ("P1", "P2", itsm_admin)


def test_agent_cannot_see_or_edit_the_priority_matrix(client, agent):
    assert not policy.has_permission(agent, "itsm.configure")
    cell = PriorityMatrix.objects.get(impact=1, urgency=1)
    client.force_login(agent)
    url = f"/admin/incidents/prioritymatrix/{cell.pk}/change/"
    assert "prioritymatrix" not in client.get("/admin/").content.decode()
    assert client.get("/admin/incidents/prioritymatrix/").status_code == 403
    assert client.get(url).status_code == 403
    assert client.post(url, {"impact": 1, "urgency": 1, "priority": "P4"}).status_code == 403
    cell.refresh_from_db()
    assert cell.priority == "P1"


# --- Actions call the workflows -------------------------------------------------------------


def test_close_action_closes_resolved_incidents_and_reports_refusals(client, itsm_admin, customer):
    resolved = incident("INC0000001", state="resolved", requester=customer)
    open_one = incident("INC0000002", state="in_progress", requester=customer)
    client.force_login(itsm_admin)
    response = client.post(
        LIST, {"action": "close", "_selected_action": [resolved.pk, open_one.pk]}, follow=True
    )
    assert response.status_code == 200
    resolved.refresh_from_db()
    open_one.refresh_from_db()
    assert resolved.state == "closed"
    assert open_one.state == "in_progress"
    shown = " ".join(messages_of(response))
    assert "Closed 1 incident." in shown
    assert "INC0000002: Cannot close a record that is in progress." in shown
    assert AuditEntry.objects.filter(
        object_id=str(resolved.pk), action="transition", transition="close", actor=itsm_admin
    ).exists()
    assert not AuditEntry.objects.filter(object_id=str(open_one.pk), transition="close").exists()


def test_acknowledge_action_takes_open_incidents_and_refuses_closed_ones(client, itsm_admin, customer):
    new = incident("INC0000001", state="new", requester=customer)
    closed = incident("INC0000002", state="closed", requester=customer)
    client.force_login(itsm_admin)
    response = client.post(
        LIST, {"action": "acknowledge", "_selected_action": [new.pk, closed.pk]}, follow=True
    )
    assert response.status_code == 200
    new.refresh_from_db()
    closed.refresh_from_db()
    assert (new.state, new.assignee, new.acknowledged_at is not None) == ("in_progress", itsm_admin, True)
    assert (closed.state, closed.assignee) == ("closed", None)
    shown = " ".join(messages_of(response))
    assert "Acknowledged 1 incident." in shown
    assert "Could not acknowledge 1 incident: INC0000002: " in shown
    assert AuditEntry.objects.filter(
        object_id=str(new.pk), action="transition", transition="acknowledge", actor=itsm_admin
    ).exists()


def test_workflow_actions_are_not_offered_without_the_permission_to_take_them(client, organisation):
    # Reads its own incidents and enters admin (cmdb_manager), but holds no incidents.manage.
    user = make_user("mixed", "platform_selfservice", "cmdb_manager", organisation=organisation)
    record = incident(state="resolved", requester=user)
    client.force_login(user)
    page = client.get(LIST).content.decode()
    assert record.number in page
    assert "Close selected resolved incidents" not in page
    assert "acknowledge" not in page
    client.post(LIST, {"action": "close", "_selected_action": [record.pk]})
    record.refresh_from_db()
    assert record.state == "resolved"


# --- List, search, filters ------------------------------------------------------------------


def test_search_by_number_finds_only_that_incident(client, itsm_admin, customer):
    incident("INC0000001", short_description="Printer jam", requester=customer)
    incident("INC0000002", short_description="Mail server down", requester=customer)
    client.force_login(itsm_admin)
    page = client.get(LIST, {"q": "INC0000002"}).content.decode()
    assert "Mail server down" in page
    assert "Printer jam" not in page


def test_list_offers_state_and_priority_filters_and_they_filter(client, itsm_admin, customer):
    incident(
        "INC0000001", short_description="Printer jam", state="resolved", priority="P1", requester=customer
    )
    incident(
        "INC0000002", short_description="Mail server down", state="new", priority="P4", requester=customer
    )
    client.force_login(itsm_admin)
    page = client.get(LIST).content.decode()
    assert "?state=resolved" in page
    assert "?priority__exact=P1" in page
    by_state = client.get(LIST, {"state": "resolved"}).content.decode()
    assert "Printer jam" in by_state and "Mail server down" not in by_state
    by_priority = client.get(LIST, {"priority__exact": "P4"}).content.decode()
    assert "Mail server down" in by_priority and "Printer jam" not in by_priority


@pytest.mark.parametrize("count", [3, 30])
def test_incident_list_runs_a_fixed_number_of_queries(
    client, itsm_admin, customer, agent, count, django_assert_max_num_queries
):
    group = AssignmentGroup.objects.create(name="Desk")
    for i in range(count):
        incident(f"INC{i:07d}", requester=customer, assignee=agent, assignment_group=group, priority="P3")
    client.force_login(itsm_admin)
    with django_assert_max_num_queries(10):
        response = client.get(LIST)
    assert response.status_code == 200
    assert f"INC{count - 1:07d}" in response.content.decode()


def test_fields_hidden_from_the_user_never_reach_columns_filters_or_search(client, organisation):
    user = make_user("mixed", "platform_selfservice", "cmdb_manager", organisation=organisation)
    secret_group = AssignmentGroup.objects.create(name="Zebra Squad")
    secret_assignee = make_user("quasimodo", "itsm_agent")
    record = incident(requester=user, priority="P1", assignment_group=secret_group, assignee=secret_assignee)
    client.force_login(user)
    for url in (LIST, f"{LIST}{record.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200
        body = page.content.decode()
        assert record.number in body
        for leak in ("Zebra Squad", "quasimodo", "P1 — critical", "priority__exact", "assignment_group"):
            assert leak not in body, (url, leak)
    assert client.get(LIST, {"priority__exact": "P1"}).status_code == 400
    assert client.get(LIST, {"assignment_group__id__exact": secret_group.pk}).status_code == 400
    assert record.number not in client.get(LIST, {"q": "Zebra"}).content.decode()


# --- Read-only inlines ----------------------------------------------------------------------


def test_notes_time_and_csat_show_read_only_on_the_incident(client, itsm_admin, customer, agent):
    record = incident(state="resolved", requester=customer)
    IncidentNote.objects.create(
        incident=record, kind="comment", author=customer, body="Customer comment text"
    )
    IncidentNote.objects.create(incident=record, kind="work_note", author=agent, body="Journal text")
    TimeEntry.objects.create(incident=record, author=agent, minutes=42, date="2026-01-05", note="Time note")
    CsatResponse.objects.create(incident=record, actor=customer, rating=4, comment="Rated well")
    client.force_login(itsm_admin)
    page = client.get(f"{LIST}{record.pk}/change/").content.decode()
    for text in ("Customer comment text", "Journal text", "Time note", "Rated well"):
        assert text in page
    for editable in (
        'name="notes-0-body"',
        'name="time_entries-0-minutes"',
        'name="csat_responses-0-rating"',
    ):
        assert editable not in page


def test_incident_save_does_not_write_notes_through_the_inline(client, itsm_admin, customer):
    record = incident(requester=customer, short_description="Old")
    client.force_login(itsm_admin)
    response = client.post(
        f"{LIST}{record.pk}/change/",
        {
            "short_description": "New",
            "impact": 3,
            "urgency": 3,
            "requester": customer.pk,
            "version": record.version,
            "notes-TOTAL_FORMS": "1",
            "notes-INITIAL_FORMS": "0",
            "notes-0-kind": "comment",
            "notes-0-body": "Slipped in",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    record.refresh_from_db()
    assert record.short_description == "New"
    assert not IncidentNote.objects.filter(incident=record).exists()


# --- People pickers: Django admin's autocomplete, answered from the policy ------------------

AUTOCOMPLETE = "/admin/autocomplete/"


def picker(client, url, field) -> dict:
    """What the page's autocomplete box for ``field`` asks the autocomplete view about."""
    tag = re.search(rf'<select name="{field}"[^>]*>', client.get(url).content.decode())
    attrs = dict(re.findall(r'data-(app-label|model-name|field-name)="([^"]*)"', tag.group(0)))
    return {"app_label": attrs["app-label"], "model_name": attrs["model-name"], "field_name": attrs["field-name"]}


def suggested(client, field, term, *, page=f"{LIST}add/") -> list[tuple[int, str]]:
    """The autocomplete's answer to ``term`` in the box for ``field`` on ``page``."""
    response = client.get(AUTOCOMPLETE, {**picker(client, page, field), "term": term})
    assert response.status_code == 200, response.status_code
    return [(int(row["id"]), row["text"]) for row in response.json()["results"]]


def asked(client, field, term) -> list[int]:
    """The autocomplete's answer about an incident's ``field``, asked directly."""
    params = {"app_label": "incidents", "model_name": "incident", "field_name": field, "term": term}
    response = client.get(AUTOCOMPLETE, params)
    assert response.status_code == 200, response.status_code
    return [int(row["id"]) for row in response.json()["results"]]


def test_the_incident_admin_types_people_and_groups_instead_of_listing_every_user(client, itsm_admin, customer):
    for i in range(5):
        make_user(f"listed{i}", "itsm_agent")
    record = services.incident_create(actor=customer, data={"short_description": "Mail is slow"})
    client.force_login(itsm_admin)
    response = client.get(f"{LIST}{record.pk}/change/")
    form = response.context["adminform"].form
    for name in ("assignee", "assignment_group", "requester", "requested_for", "organisation",
                 "major_incident_manager"):  # fmt: skip
        assert isinstance(form.fields[name].widget.widget, AutocompleteSelect), name
    assert isinstance(form.fields["collaborators"].widget.widget, AutocompleteSelectMultiple)
    html = response.content.decode()
    assert "listed3" not in html  # only the current people are rendered, never every user
    # The box asks about incidents (their assignee source), not about Work, which declares the field.
    assert picker(client, f"{LIST}{record.pk}/change/", "assignee") == {
        "app_label": "incidents", "model_name": "incident", "field_name": "assignee"
    }


def test_the_incident_change_form_submits_an_assignee_picked_with_the_autocomplete(
    client, itsm_admin, agent, customer
):
    record = services.incident_create(actor=customer, data={"short_description": "Mail is slow"})
    client.force_login(itsm_admin)
    url = f"{LIST}{record.pk}/change/"
    data = page_data(client.get(url))
    [(picked, label)] = suggested(client, "assignee", "agent")
    assert (picked, label) == (agent.pk, "agent")
    response = client.post(url, {**data, "assignee": picked})
    assert response.status_code == 302 and response["Location"] == LIST, messages_of(client.get(url))
    record.refresh_from_db()
    assert record.assignee == agent
    assert AuditEntry.objects.filter(object_id=str(record.pk), field="assignee", actor=itsm_admin).exists()


def test_an_agent_in_the_admin_is_suggested_only_the_assignees_the_policy_allows(client, agent, customer):
    """The L2 agent opens the admin (cmdb_manager) but manages no accounts: the assignee picker
    still answers it, from the incident's assignee source (holders of incidents.manage)."""
    desk_only = make_user("deskrobin", "platform_agent")
    desk_only.first_name = "Robin"
    desk_only.save()
    robin = make_user("robin", "itsm_agent")
    robin.first_name = "Robin"
    robin.save()
    customer.first_name = "Robin"
    customer.save()
    client.force_login(agent)
    assert [pk for pk, _ in suggested(client, "assignee", "robin")] == [robin.pk]
    assert suggested(client, "assignee", "robin")[0][1] == "Robin (robin)"
    # Requested-for is any active person, the customer included.
    assert customer.pk in [pk for pk, _ in suggested(client, "requested_for", "robin")]


def test_the_admin_autocomplete_suggests_nobody_for_a_field_hidden_from_the_user(client, organisation):
    """A customer who opens the admin (cmdb_manager) reads its own incidents without their
    assignee and group: the pickers behind those fields answer nobody, not every agent or group."""
    user = make_user("mixed", "platform_selfservice", "cmdb_manager", organisation=organisation)
    AssignmentGroup.objects.create(name="Zebra Squad")
    make_user("quasimodo", "itsm_agent")
    client.force_login(user)
    assert asked(client, "assignee", "quasimodo") == []
    assert asked(client, "collaborators", "quasimodo") == []
    # Groups are not the customer's to read at all: not even searchable (Django's 404).
    groups = client.get(
        AUTOCOMPLETE, {"app_label": "incidents", "model_name": "incident", "field_name": "assignment_group", "term": "z"}
    )
    assert groups.status_code == 404 and b"Zebra" not in groups.content
