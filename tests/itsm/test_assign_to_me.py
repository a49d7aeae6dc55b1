"""The "Assign to me" button on each kind of Work's desk page and "Take" on each row of its desk
queue: one POST through the kind's own assign service, offered only where it would accept it."""

import re
from html import unescape

import pytest
from django.urls import reverse

from catalog import workflows as catalog_workflows
from conftest import make_user
from incidents import services as incident_services
from itsm.models import AuditEntry
from itsm.roles import Role
from tests.catalog.factories import make_request
from tests.changes.factories import make_change
from tests.incidents.factories import make_incident
from tests.itsm.factories import make_group
from tests.problems.factories import make_problem

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')
# Each kind: how to make one (by an agent, for a customer), its page's and queue's URL names.
KINDS = {
    "incident": (lambda agent, customer: make_incident(requester=customer), "incident"),
    "problem": (lambda agent, customer: make_problem(by=agent), "problem"),
    "change": (lambda agent, customer: make_change(by=agent), "change"),
    "request": (lambda agent, customer: make_request(requester=customer), "request"),
}


def html_of(response) -> str:
    return CSRF_INPUT.sub("", unescape(response.content.decode()))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def page_url(noun, record):
    return reverse(f"desk:{noun}-detail", args=[record.pk])


def take_url(noun, record):
    return reverse(f"desk:{noun}-assign-to-me", args=[record.pk])


def assign_button(noun, record) -> str:
    return f'action="{take_url(noun, record)}"'


@pytest.fixture
def network(agent):
    return make_group("Network", members=[agent])


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


@pytest.mark.parametrize("kind", KINDS)
def test_assign_to_me_on_each_kind_of_work_assigns_the_user_through_its_service(desk, agent, customer, kind):
    make, noun = KINDS[kind]
    record = make(agent, customer)
    page = html_of(desk.get(page_url(noun, record)))
    assert assign_button(noun, record) in page and ">Assign to me</button>" in page
    response = desk.post(take_url(noun, record), follow=True)
    assert response.redirect_chain[-1][0] == page_url(noun, record)
    assert f"{record.number} is now assigned to you." in messages_of(response)
    record.refresh_from_db()
    assert record.assignee == agent
    assert AuditEntry.objects.filter(object_id=str(record.pk), field="assignee", actor=agent).exists()
    assert assign_button(noun, record) not in html_of(desk.get(page_url(noun, record)))


def test_assign_to_me_keeps_the_incident_group_of_which_the_agent_is_a_member(desk, agent, customer, network):
    incident = make_incident(requester=customer)
    incident_services.incident_assign(incident=incident, actor=agent, assignment_group=network)
    desk.post(take_url("incident", incident))
    incident.refresh_from_db()
    assert (incident.assignee, incident.assignment_group) == (agent, network)


def test_assign_to_me_is_not_offered_outside_the_records_group(client, agent, customer, network):
    l1 = make_user("outsider-agent", Role.ITSM_AGENT)
    incident = make_incident(requester=customer)
    incident_services.incident_assign(incident=incident, actor=agent, assignment_group=network)
    client.force_login(l1)
    assert assign_button("incident", incident) not in html_of(client.get(page_url("incident", incident)))
    response = client.post(take_url("incident", incident), follow=True)
    assert "outsider-agent is not a member of Network." in " ".join(messages_of(response))
    incident.refresh_from_db()
    assert incident.assignee is None


def test_assign_to_me_is_not_offered_on_a_finished_request_and_is_refused(desk, agent, customer):
    record = make_request(requester=customer)
    catalog_workflows.request_cancel(request=record, actor=customer)
    assert assign_button("request", record) not in html_of(desk.get(page_url("request", record)))
    response = desk.post(take_url("request", record), follow=True)
    assert any(text.startswith(f"{record.number} was not assigned to you:") for text in messages_of(response))
    record.refresh_from_db()
    assert record.assignee is None


def test_a_customer_gets_the_desk_refusal_and_nothing_changes(client, customer):
    incident = make_incident(requester=customer)
    client.force_login(customer)
    assert client.post(take_url("incident", incident)).status_code == 403
    incident.refresh_from_db()
    assert incident.assignee is None


def test_a_desk_user_who_may_not_read_the_incident_gets_a_404(client, customer, organisation):
    desk_user = make_user("deskuser", Role.PLATFORM_AGENT, organisation=organisation)
    incident = make_incident(requester=customer)
    client.force_login(desk_user)
    assert client.post(take_url("incident", incident)).status_code == 404
    assert client.post(reverse("desk:incident-assign-to-me", args=[10**20])).status_code == 404


def test_a_get_is_not_allowed(desk, customer):
    incident = make_incident(requester=customer)
    assert desk.get(take_url("incident", incident)).status_code == 405


def test_a_next_address_off_the_site_is_ignored(desk, customer):
    incident = make_incident(requester=customer)
    response = desk.post(take_url("incident", incident), {"next": "https://evil.example/"})
    assert response["Location"] == page_url("incident", incident)


# --- Take, from the queues ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_take_is_on_each_unassigned_row_and_returns_to_the_same_filtered_queue(desk, agent, customer, kind):
    make, noun = KINDS[kind]
    record = make(agent, customer)
    queue = reverse(f"desk:{noun}-list")
    listed = desk.get(queue, {"sort": "number"})
    html = html_of(listed)
    assert assign_button(noun, record) in html
    assert f'aria-label="Take: {record.number}"' in html
    assert f'name="next" value="{queue}?sort=number"' in html
    response = desk.post(take_url(noun, record), {"next": f"{queue}?sort=number"})
    assert response.status_code == 302
    assert response["Location"] == f"{queue}?sort=number"
    record.refresh_from_db()
    assert record.assignee == agent
    after = desk.get(response["Location"])
    assert f"{record.number} is now assigned to you." in messages_of(after)
    assert assign_button(noun, record) not in html_of(after)


def test_take_is_offered_only_on_rows_the_user_may_take(desk, agent, customer, network):
    lead = make_user("teamlead", Role.ITSM_AGENT)
    open_one = make_incident(requester=customer, short_description="Open")
    mine = make_incident(requester=customer, short_description="Mine")
    incident_services.incident_assign(incident=mine, actor=agent, assignee=agent)
    others_group = make_group("Database", members=[lead])
    theirs = make_incident(requester=customer, short_description="Theirs")
    incident_services.incident_assign(incident=theirs, actor=agent, assignment_group=others_group)
    html = html_of(desk.get(reverse("desk:incident-list")))
    assert assign_button("incident", open_one) in html
    assert assign_button("incident", mine) not in html
    assert assign_button("incident", theirs) not in html


def test_take_is_not_offered_to_a_user_who_may_not_assign(client, customer, organisation):
    desk_user = make_user("deskuser", Role.PLATFORM_AGENT, organisation=organisation)
    incident = make_incident(requester=customer, requested_for=desk_user)
    client.force_login(desk_user)
    assert assign_button("incident", incident) not in html_of(client.get(reverse("desk:incident-list")))
    assert assign_button("incident", incident) not in html_of(client.get(page_url("incident", incident)))


def test_the_queue_asks_for_the_users_groups_once_whatever_the_number_of_rows(
    desk, agent, customer, network, django_assert_max_num_queries
):
    def add(count):
        for i in range(count):
            incident = make_incident(requester=customer, short_description=f"Grouped {i}")
            incident_services.incident_assign(incident=incident, actor=agent, assignment_group=network)

    def queries() -> int:
        desk.get(reverse("desk:incident-list"))
        with django_assert_max_num_queries(11) as captured:  # with the saved views and the bulk form
            response = desk.get(reverse("desk:incident-list"))
        assert len(re.findall(r">Take</button>", html_of(response))) == len(
            response.context["page"].object_list
        )
        return len(captured)

    add(2)
    few = queries()
    add(20)
    assert queries() == few
