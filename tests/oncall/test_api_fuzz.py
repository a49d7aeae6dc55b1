"""API fuzz test of the on-call endpoints with records that exist: a schedule with participants,
an override and a routed group, so that detail operations (who, blocks, overrides…) run on real
rows rather than answering 404. Same document, checks and personas as ``tests/api/test_fuzz.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from config.wsgi import application
from itsm.models import AssignmentGroup
from oncall import services
from tests.api import test_fuzz as base
from tests.api.test_fuzz import keep_test_connection  # noqa: F401 — a fixture

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
).include(path_regex=r"^/api/v1/oncall-schedules/")
schema.app = application

IDS: dict[str, int] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Most examples use the schedule (and override) that exist."""
    if not IDS or not path_parameters or "id" not in path_parameters:
        return st.just(path_parameters)
    known = {**path_parameters, "id": IDS["schedule"]}
    if "override_id" in path_parameters:
        known["override_id"] = IDS["override"]
    return st.sampled_from([path_parameters, known, known])


@pytest.fixture
def oncall_records(agent, l1):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    group = AssignmentGroup.objects.create(name="Network")
    schedule = services.schedule_create(
        actor=agent,
        data={
            "name": "Tier 1",
            "time_zone": "Europe/London",
            "rotation": "daily",
            "start": start,
            "participants": [agent, l1],
            "assignment_groups": [group],
        },
    )
    override = services.override_create(
        schedule=schedule, actor=agent, data={"user": l1, "start": start, "end": start + timedelta(hours=3)}
    )
    IDS.update(schedule=schedule.pk, override=override.pk)
    yield
    IDS.clear()


@pytest.fixture(params=["agent", "customer"])
def oncall_persona(request, oncall_records, keep_test_connection):  # noqa: F811
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
def test_oncall_api(case, oncall_persona):
    case.call_and_validate(headers=oncall_persona, checks=base.CHECKS)
