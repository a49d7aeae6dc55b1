"""The timeline shows labels, names and local times, never the journal's stored codes (issue 17,
defect 5): every domain's timeline tab reads ``itsm.timeline``; hidden fields stay hidden."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from changes import services as change_services
from incidents import services, workflows
from itsm import timeline
from problems import services as problem_services
from tests.changes.factories import make_change
from tests.incidents.factories import make_incident
from tests.itsm.factories import make_group
from tests.problems.factories import make_problem

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", unescape(html))


def test_incident_timeline_shows_labels_names_and_local_times(client, agent, customer, settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    agent.first_name, agent.last_name = "Alex", "Agent"
    agent.save()
    group = make_group("Network team", members=[agent])
    incident = make_incident(requester=customer, assignee=agent, assignment_group=group)
    services.incident_update(incident=incident, actor=agent, data={"impact": 1})
    workflows.incident_start(incident=incident, actor=agent)
    workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="not_reproducible", resolution_notes="Cannot make it fail."
    )
    incident.refresh_from_db()
    client.force_login(agent)
    text = text_of(client.get(f"/desk/incidents/{incident.pk}/timeline/"))
    local = timezone.localtime(incident.resolved_at, timezone=timezone.get_fixed_timezone(9 * 60))
    assert f"Changed resolved at to “{local:%-d %b %Y %H:%M}”" in text
    assert "Changed resolution code to “Not reproducible”" in text
    assert "Changed assignee to “Alex Agent”" in text
    assert "Changed assignment group to “Network team”" in text
    assert "Changed impact from “3 — low” to “1 — high”" in text
    assert "Resolve : In progress → Resolved" in text
    for raw in ("(#", "+00:00", "not_reproducible", "“resolved”"):
        assert raw not in text, raw


def test_problem_and_change_timelines_show_choice_labels(client, agent):
    problem = make_problem(by=agent)
    problem_services.problem_update(problem=problem, actor=agent, data={"urgency": 1})
    change = make_change(by=agent)
    start = timezone.now() + timedelta(days=10)
    change_services.change_update(
        change=change, actor=agent, data={"change_type": "emergency", "planned_start": start, "planned_end": start + timedelta(hours=1)}
    )
    client.force_login(agent)
    text = text_of(client.get(f"/desk/problems/{problem.pk}/timeline/"))
    assert "Changed urgency from “3 — low” to “1 — high”" in text
    text = text_of(client.get(f"/desk/changes/{change.pk}/timeline/"))
    assert "Changed change type from “Normal” to “Emergency”" in text
    assert "Changed planned start" in text and "+00:00" not in text


def test_the_labelled_journal_keeps_hidden_fields_hidden_and_agents_as_the_service_desk(agent, customer, customer2):
    incident = make_incident(requester=customer, assignee=agent)
    services.incident_update(incident=incident, actor=customer, data={"requested_for": customer2})
    services.incident_update(incident=incident, actor=agent, data={"impact": 1})
    incident.refresh_from_db()
    entries = timeline.entries_for(customer, incident)
    assert {e.field for e in entries} & {"assignee", "impact", "priority", "urgency"} == set()
    requested_for = next(e for e in entries if e.field == "requested_for")
    assert requested_for.field_label == "requested for"
    assert requested_for.new_label == str(customer2)
    # The stored values the API returns are untouched.
    assert requested_for.new_value == f"{customer2} (#{customer2.pk})"
