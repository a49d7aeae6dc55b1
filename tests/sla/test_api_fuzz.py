"""API fuzz test of the SLA, escalation and notification endpoints with records that exist — a
calendar with periods and a holiday, an SLA definition on it, an escalation policy with stages,
a notification and an incident with running clocks — so detail operations run on real rows.
Besides the agent and the customer of ``tests/api/test_fuzz.py``, the ITSM administrator fuzzes
too: its writes succeed, so bad combinations of valid-looking input must answer 400, never 500.
"""

from __future__ import annotations

from datetime import date, time

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from config.wsgi import application
from escalation.models import EscalationPolicy, EscalationStage
from incidents import services
from itsm.models import AssignmentGroup, SlaDefinition
from notifications.models import Kind, Notification
from sla.models import BusinessCalendar, Holiday, WorkingPeriod
from tests.api import test_fuzz as base
from tests.api.test_fuzz import keep_test_connection  # noqa: F401 — a fixture

PATHS = r"^/api/v1/(business-calendars|holidays|sla-definitions|escalation-policies|notifications)/|/sla/$"

schema = schemathesis.openapi.from_dict(
    base.DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "generation": {
                "mode": "positive",
                "max-examples": base.MAX_EXAMPLES,
                "deterministic": base.DETERMINISTIC,
                "database": "none",
                "with-security-parameters": False,
            },
            "phases": {"coverage": {"enabled": False}},
        }
    ),
).include(path_regex=PATHS)
schema.app = application

IDS: dict[str, int] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Most examples use the record of the collection that exists."""
    path = context.operation.path
    key = next((k for k in IDS if path.startswith(f"/api/v1/{k}/")), None)
    if key is None or not path_parameters or "id" not in path_parameters:
        return st.just(path_parameters)
    known = {**path_parameters, "id": IDS[key]}
    return st.sampled_from([path_parameters, known, known])


@pytest.fixture
def sla_records(customer, agent, manager):
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="Europe/London")
    WorkingPeriod.objects.bulk_create(
        [WorkingPeriod(calendar=calendar, weekday=d, start=time(9), end=time(17)) for d in range(5)]
    )
    holiday = Holiday.objects.create(
        calendar=calendar, name="Boxing Day", date=date(2026, 12, 26), recurring=True
    )
    targets = {f"p{n}_{t}_minutes": 240 for n in range(1, 5) for t in ("response", "resolution")}
    definition = SlaDefinition.objects.create(name="Standard", is_default=True, calendar=calendar, **targets)
    policy = EscalationPolicy.objects.create(name="Default", is_default=True)
    stage = EscalationStage.objects.create(
        policy=policy,
        order=1,
        timeout_minutes=15,
        assignment_group=AssignmentGroup.objects.create(name="Desk"),
    )
    stage.users.set([agent])
    incident = services.incident_create(actor=customer, data={"short_description": "Printer on fire"})
    notifications = [
        Notification.objects.create(
            recipient=user, kind=Kind.SLA_WARNING, work=incident, subject="At risk", body="…"
        )
        for user in (agent, manager)
    ]
    IDS.update(
        {
            "business-calendars": calendar.pk,
            "holidays": holiday.pk,
            "sla-definitions": definition.pk,
            "escalation-policies": policy.pk,
            "notifications": notifications[0].pk,
            "incidents": incident.pk,
        }
    )
    yield
    IDS.clear()


@pytest.fixture(params=["agent", "customer", "manager"])
def sla_persona(request, sla_records, keep_test_connection):  # noqa: F811
    user = request.getfixturevalue(request.param)
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=base.MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_sla_api(case, sla_persona):
    case.call_and_validate(headers=sla_persona, checks=base.CHECKS)
