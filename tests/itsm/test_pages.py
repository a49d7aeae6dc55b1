"""The desk and portal front pages: who gets in, what they see, and what it costs in queries."""

import re
from html import unescape

import pytest
from django.urls import reverse

from conftest import make_user
from incidents.models import Incident
from itsm.models import AssignmentGroup
from tests.incidents.factories import make_incident, make_incidents
from tests.itsm.factories import make_group

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
DESK = reverse("desk:home")
PORTAL = reverse("portal:home")
# Session, user with its roles, count and one page of rows: a page of 3 costs what a page of 25
# does. The desk's navigation adds one (the unread-notification count, issue #4): the desk home
# uses all 5 (6 before the roles came with the user); a customer's portal page has no desk
# navigation and makes no such query.
QUERY_BOUND = 5


def query_count(client, url, django_assert_max_num_queries):
    client.get(url)  # warm process-wide caches (content types), which no page size changes
    with django_assert_max_num_queries(QUERY_BOUND) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


# --- Doors and signing in -------------------------------------------------------------------


def test_anonymous_is_sent_to_login_from_desk_and_portal(client):
    for url in (DESK, PORTAL, "/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
    assert client.get(DESK)["Location"] == f"{LOGIN}?next={DESK}"


def test_home_sends_each_user_to_their_door(client, agent, customer):
    client.force_login(agent)
    assert client.get("/")["Location"] == DESK
    client.force_login(customer)
    assert client.get("/")["Location"] == PORTAL


def test_login_sends_agent_to_desk_and_customer_to_portal(client, agent, customer):
    response = client.post(LOGIN, {"username": "agent", "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == DESK
    assert response.status_code == 200
    client.post(reverse("logout"))
    response = client.post(LOGIN, {"username": "customer", "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == PORTAL
    assert response.status_code == 200


def test_login_keeps_the_next_page(client, agent):
    target = "/desk/?kind=incident"
    page = client.get(LOGIN, {"next": target})
    assert f'name="next" value="{target}"' in page.content.decode()
    response = client.post(LOGIN, {"username": "agent", "password": "pw", "next": target})
    assert response["Location"] == target


def test_wrong_password_is_refused_plainly(client, customer):
    response = client.post(LOGIN, {"username": "customer", "password": "wrong"})
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "Your username and password didn't match. Please try again." in html
    assert "_auth_user_id" not in client.session


def test_customer_is_refused_at_desk_politely(client, customer):
    client.force_login(customer)
    response = client.get(DESK)
    assert response.status_code == 403
    html = response.content.decode()
    assert "The service desk is for support staff." in html
    assert "You can raise and follow your requests in the self-service portal." in html
    assert f'href="{PORTAL}"' in html


def test_logout_is_a_post_and_signs_out(client, customer):
    client.force_login(customer)
    assert client.get(PORTAL).status_code == 200
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(PORTAL).status_code == 200  # a GET did not sign anyone out
    response = client.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0] == LOGIN
    assert "You have signed out." in response.content.decode()
    assert client.get(PORTAL).status_code == 302


def test_pages_offer_logout_as_a_post_form_with_csrf(client, customer):
    client.force_login(customer)
    html = client.get(PORTAL).content.decode()
    assert f'<form method="post" action="{reverse("logout")}"' in html
    assert "csrfmiddlewaretoken" in html


def test_messages_are_shown(client, agent):
    response = client.post(LOGIN, {"username": "agent", "password": "pw"}, follow=True)
    html = response.content.decode()
    assert "Welcome back, agent." in html
    assert 'class="message message-success"' in html


# --- Navigation -----------------------------------------------------------------------------


def test_nav_shows_admin_only_to_administrators(client, customer, l1, admin_user, manager):
    admin_link = f'href="{reverse("admin:index")}"'
    for user, sees_admin in ((customer, False), (l1, False), (admin_user, True), (manager, True)):
        client.force_login(user)
        html = client.get("/", follow=True).content.decode()
        assert (admin_link in html) is sees_admin, user.username


def test_nav_shows_desk_and_api_docs_only_to_desk_users(client, customer, l1):
    client.force_login(customer)
    html = client.get(PORTAL).content.decode()
    assert f'href="{DESK}"' not in html
    assert 'href="/api/docs/"' not in html
    assert f'href="{PORTAL}"' in html
    assert "customer" in html
    client.force_login(l1)
    html = client.get(PORTAL).content.decode()
    assert f'href="{DESK}"' in html
    assert 'href="/api/docs/"' in html


# --- Desk queue -----------------------------------------------------------------------------


def test_desk_queue_lists_work_for_agents(client, agent, customer):
    group = make_group("Network team", members=[agent])
    make_incidents(2, requester=customer, assignment_group=group, assignee=agent, priority="P2")
    client.force_login(agent)
    response = client.get(DESK)
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "INC0000001",
        "INC0000002",
        "Record 1",
        "Incident",
        "Network team",
        "New",
        "P2",
        "agent",
    ):
        assert text in html


def test_desk_queue_filters_by_kind_and_assigned_to_me(client, agent, l1, customer):
    mine = make_incident(requester=customer, assignee=agent)
    other = make_incident(requester=customer, assignee=l1)
    client.force_login(agent)
    html = client.get(DESK, {"mine": "1"}).content.decode()
    assert mine.number in html
    assert other.number not in html
    html = client.get(DESK, {"kind": "change"}).content.decode()
    assert mine.number not in html
    assert "No work matches these filters." in html


def test_desk_queue_shows_an_empty_state(client, agent):
    client.force_login(agent)
    assert "The queue is empty" in client.get(DESK).content.decode()


def test_desk_queue_paginates_and_keeps_filters(client, agent, customer):
    make_incidents(30, requester=customer)
    client.force_login(agent)
    html = client.get(DESK, {"kind": "incident"}).content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?kind=incident&amp;page=2"' in html
    html = client.get(DESK, {"kind": "incident", "page": 2}).content.decode()
    assert "INC0000001" in html
    assert "INC0000030" not in html


def test_desk_queue_query_count_is_fixed_whatever_the_page_size(
    client, agent, customer, django_assert_max_num_queries
):
    group = make_group("Service desk", members=[agent])
    make_incidents(3, requester=customer, assignment_group=group, assignee=agent)
    client.force_login(agent)
    few = query_count(client, DESK, django_assert_max_num_queries)
    make_incidents(30, requester=customer, assignment_group=group, assignee=agent)
    many = query_count(client, DESK, django_assert_max_num_queries)
    assert few == many


# --- Portal ---------------------------------------------------------------------------------


def test_portal_lists_only_my_incidents(client, customer, customer2):
    Incident.objects.create(
        number="INC0000001",
        kind=Incident.KIND,
        state="new",
        short_description="Mine as requester",
        requester=customer,
    )
    Incident.objects.create(
        number="INC0000002",
        kind=Incident.KIND,
        state="in_progress",
        short_description="Raised for me",
        requester=customer2,
        requested_for=customer,
    )
    Incident.objects.create(
        number="INC0000003",
        kind=Incident.KIND,
        state="new",
        short_description="Someone else's",
        requester=customer2,
    )
    client.force_login(customer)
    html = client.get(PORTAL).content.decode()
    assert "Mine as requester" in html
    assert "Raised for me" in html
    assert "In progress" in html
    assert "Someone else" not in html
    assert "INC0000003" not in html
    assert html.index("INC0000002") < html.index("INC0000001")  # newest first


def test_portal_shows_an_empty_state(client, customer):
    client.force_login(customer)
    assert "You have no incidents." in client.get(PORTAL).content.decode()


def test_portal_never_shows_hidden_incident_fields(client, customer):
    assignee = make_user("zebra_assignee_7731")
    group = AssignmentGroup.objects.create(name="Quokka Resolver Group")
    Incident.objects.create(
        number="INC0000001",
        kind=Incident.KIND,
        state="in_progress",
        short_description="Laptop will not boot",
        requester=customer,
        priority="P1",
        assignee=assignee,
        assignment_group=group,
        resolution_notes="SECRET-RESOLUTION-NOTE-4412",
        classification="Xylophone class",
    )
    client.force_login(customer)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", client.get(PORTAL).content.decode())
    assert "Laptop will not boot" in html
    for secret in (
        "P1 ",
        ">P1<",
        "critical",
        "zebra_assignee_7731",
        "Quokka Resolver Group",
        "SECRET-RESOLUTION-NOTE-4412",
        "Xylophone class",
        "Priority",
        "Assignee",
    ):
        assert secret not in html, secret


def test_portal_query_count_is_fixed(client, customer, django_assert_max_num_queries):
    make_incidents(3, requester=customer)
    client.force_login(customer)
    few = query_count(client, PORTAL, django_assert_max_num_queries)
    make_incidents(30, requester=customer)
    many = query_count(client, PORTAL, django_assert_max_num_queries)
    assert few == many


def test_work_queue_rows_open_each_records_own_desk_page(client, agent, customer):
    from tests.incidents.factories import make_incident
    from tests.problems.factories import make_problem

    incident = make_incident(requester=customer)
    problem = make_problem(by=agent)
    client.force_login(agent)
    page = client.get("/desk/").content.decode()
    assert f'href="/desk/incidents/{incident.pk}/">{incident.number}</a>' in page
    assert f'href="/desk/problems/{problem.pk}/">{problem.number}</a>' in page


def _tasks_of_every_desk_kind(agent, customer, count=1):
    from changes.models import ChangeTask
    from incidents.models import IncidentTask
    from itsm.services import task_create
    from problems.models import ProblemTask
    from tests.changes.factories import make_change
    from tests.problems.factories import make_problem

    parents = [
        (make_incident(requester=customer), IncidentTask),
        (make_problem(by=agent), ProblemTask),
        (make_change(by=agent), ChangeTask),
    ]
    tasks = []
    for parent, model in parents:
        for n in range(count):
            data = {"short_description": f"Task {n} of {parent.number}"}
            tasks.append((task_create(parent=parent, model=model, actor=agent, data=data), parent))
    return tasks


def test_work_queue_task_rows_open_their_parents_desk_page(client, agent, customer):
    tasks = _tasks_of_every_desk_kind(agent, customer)
    client.force_login(agent)
    page = client.get(DESK).content.decode()
    for task, parent in tasks:
        url = reverse(f"desk:{parent.kind}-detail", args=[parent.pk])
        assert f'href="{url}">{task.number}</a>' in page, task.kind


def test_work_queue_links_cost_the_same_queries_whatever_the_number_of_tasks(
    client, agent, customer, django_assert_max_num_queries
):
    _tasks_of_every_desk_kind(agent, customer)
    client.force_login(agent)
    client.get(DESK)
    with django_assert_max_num_queries(QUERY_BOUND + 3) as few:
        client.get(DESK)
    _tasks_of_every_desk_kind(agent, customer, count=5)
    with django_assert_max_num_queries(QUERY_BOUND + 3) as many:
        client.get(DESK)
    assert len(few) == len(many)
