"""On-call fixtures: agents to put on call, and a way to make a schedule through the service."""

from datetime import UTC, datetime

import pytest

from conftest import make_user
from itsm.roles import PERSONAS, Persona
from oncall import services


@pytest.fixture
def alice(db):
    return make_user("alice", *PERSONAS[Persona.L1_AGENT])


@pytest.fixture
def bob(db):
    return make_user("bob", *PERSONAS[Persona.L1_AGENT])


@pytest.fixture
def carol(db):
    return make_user("carol", *PERSONAS[Persona.L1_AGENT])


@pytest.fixture
def make_schedule(agent):
    """``make_schedule(participants, **fields)``: a schedule made by the L2 agent."""

    def make(participants=(), *, actor=None, **fields):
        data = {
            "name": fields.pop("name", "Tier 1 Support On-Call"),
            "time_zone": "UTC",
            "rotation": "daily",
            "start": datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            "participants": list(participants),
            **fields,
        }
        return services.schedule_create(actor=actor or agent, data=data)

    return make
