"""Every domain's tasks: who a task may be assigned to holds in every door (API create and PATCH,
the admin), not only in the desk form's choices."""

from __future__ import annotations

import pytest

from incidents.models import IncidentTask
from itsm import services
from tests.incidents.factories import make_incident
from tests.itsm.factories import make_group

pytestmark = pytest.mark.django_db


def test_a_task_is_assigned_only_to_an_active_agent_through_the_api(api, agent, customer):
    incident = make_incident(requester=customer)
    api.force_authenticate(agent)
    refused = api.post(f"/api/v1/incidents/{incident.pk}/tasks/",
                       {"short_description": "Swap toner", "assignee": customer.pk}, format="json")  # fmt: skip
    assert refused.status_code == 400 and "assignee" in refused.json()
    made = api.post(f"/api/v1/incidents/{incident.pk}/tasks/", {"short_description": "Swap toner"}, format="json")
    assert made.status_code == 201
    task_id = made.json()["id"]
    patched = api.patch(f"/api/v1/incident-tasks/{task_id}/", {"assignee": customer.pk}, format="json")
    assert patched.status_code == 400 and "assignee" in patched.json()
    assert IncidentTask.objects.get(pk=task_id).assignee is None
    ok = api.patch(f"/api/v1/incident-tasks/{task_id}/", {"assignee": agent.pk}, format="json")
    assert ok.status_code == 200 and IncidentTask.objects.get(pk=task_id).assignee == agent


def test_a_task_assignee_with_a_group_is_one_of_its_members(agent, lead, customer):
    incident = make_incident(requester=customer)
    group = make_group("Printers", members=[lead])
    task = services.task_create(parent=incident, model=IncidentTask, actor=agent, data={"short_description": "X"})
    with pytest.raises(services.InvalidInput) as refused:
        services.task_update(task=task, actor=agent, data={"assignee": agent, "assignment_group": group})
    assert "assignee" in refused.value.fields
    services.task_update(task=task, actor=agent, data={"assignee": lead, "assignment_group": group})
