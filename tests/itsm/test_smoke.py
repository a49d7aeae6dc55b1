import pytest

from incidents.models import Incident
from itsm import policy, services

pytestmark = pytest.mark.django_db


def test_customer_creates_incident_and_reads_only_own(customer, customer2, agent, api):
    inc = services.record_create(
        model=Incident,
        actor=customer,
        data={"short_description": "Printer"},
        requester=customer,
        organisation=customer.organisation,
    )
    assert inc.number == "INC0000001"
    assert policy.is_readable(customer, inc)
    assert not policy.is_readable(customer2, inc)
    assert policy.writable_fields(customer, inc) == {"short_description", "description", "requested_for"}
    r = api.as_user(agent).get("/api/v1/work/")
    assert r.status_code == 200, r.content
    assert r.json()["count"] == 1
    r = api.as_user(customer).get("/api/v1/work/")
    assert r.status_code == 403
