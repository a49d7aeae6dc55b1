"""Problem admin: adds and edits go through the problem services; start and close are bulk
actions through the workflows; self-service users cannot enter."""

from __future__ import annotations

import pytest

from conftest import make_user
from itsm.models import AuditEntry
from problems import services, workflows
from problems.models import Problem, ProblemTask
from tests.itsm.admin_support import page_data
from tests.problems.factories import make_problem

pytestmark = pytest.mark.django_db

LIST = "/admin/problems/problem/"


@pytest.fixture
def itsm_admin(db):
    return make_user("x", "itsm_administrator")


def submit(client, url, **values):
    data = page_data(client.get(url))
    data.update(values)
    return client.post(url, data)


def test_a_problem_added_in_the_admin_gets_its_matrix_priority(client, itsm_admin):
    client.force_login(itsm_admin)
    response = submit(client, f"{LIST}add/", short_description="Disks fail", impact=1, urgency=1)
    assert response.status_code == 302, response.content.decode()[:2000]
    problem = Problem.objects.get(short_description="Disks fail")
    assert (problem.requester, problem.priority, problem.number[:3]) == (itsm_admin, "P1", "PRB")
    assert AuditEntry.objects.filter(object_id=str(problem.pk), action="create").exists()


def test_an_impact_edit_in_the_admin_rederives_the_priority(client, itsm_admin, agent):
    problem = make_problem(by=agent)
    client.force_login(itsm_admin)
    response = submit(client, f"{LIST}{problem.pk}/change/", impact=1)
    assert response.status_code == 302, response.content.decode()[:2000]
    problem.refresh_from_db()
    assert (problem.impact, problem.priority) == (1, "P3")


def test_an_admin_assignee_who_is_not_an_agent_is_refused(client, itsm_admin, agent, customer):
    problem = make_problem(by=agent)
    client.force_login(itsm_admin)
    submit(client, f"{LIST}{problem.pk}/change/", assignee=customer.pk)
    problem.refresh_from_db()
    assert problem.assignee is None
    shown = " ".join(str(m) for m in client.get(f"{LIST}{problem.pk}/change/").context["messages"])
    assert "Only problem managers (agents) can be assigned problems." in shown


def test_close_action_closes_verified_problems_and_reports_refusals(client, itsm_admin, agent, lead):
    from tests.problems.factories import approved_problem

    verified = workflows.problem_verify(
        problem=approved_problem(by=agent, approver=lead), actor=agent, verification_notes="Quiet for weeks."
    )
    new = make_problem(by=agent, short_description="Other")
    client.force_login(itsm_admin)
    response = client.post(LIST, {"action": "close", "_selected_action": [verified.pk, new.pk]}, follow=True)
    assert response.status_code == 200
    verified.refresh_from_db()
    new.refresh_from_db()
    assert (verified.state, new.state) == ("closed", "new")
    shown = " ".join(str(m) for m in response.context["messages"])
    assert "Closed 1 problem." in shown and f"{new.number}: Cannot close" in shown


def test_start_action_starts_new_problems(client, itsm_admin, agent):
    problem = make_problem(by=agent)
    client.force_login(itsm_admin)
    client.post(LIST, {"action": "start", "_selected_action": [problem.pk]}, follow=True)
    problem.refresh_from_db()
    assert problem.state == "investigating"


def test_a_problem_task_added_in_the_admin_is_made_under_the_chosen_problem(client, itsm_admin, agent):
    problem = make_problem(by=agent)
    client.force_login(itsm_admin)
    response = submit(
        client, "/admin/problems/problemtask/add/", short_description="Logs", problem=problem.pk
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    task = ProblemTask.objects.get(short_description="Logs")
    assert task.problem == problem and task.number.startswith("TASK")


def test_customer_cannot_enter_the_problem_admin(client, customer, agent):
    problem = make_problem(by=agent)
    services.problem_note_add(problem=problem, actor=agent, body="secret")
    client.force_login(customer)
    response = client.get(f"{LIST}{problem.pk}/change/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
