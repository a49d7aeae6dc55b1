"""A group list (the assign form's, the queues' group filter) is read with one plain query:
Django's ``QuerySet.iterator()`` would open a server-side cursor on PostgreSQL (DECLARE, FETCH,
CLOSE: three round trips for forty groups)."""

import pytest
from django.db.models import QuerySet
from django.test import RequestFactory

from incidents.forms import QueueFilter
from incidents.models import Incident
from itsm.forms import AssignForm
from tests.incidents.factories import make_incident
from tests.itsm.factories import make_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_iterator(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise AssertionError("QuerySet.iterator() opens a server-side cursor on PostgreSQL")

    monkeypatch.setattr(QuerySet, "iterator", refuse)


def test_the_assign_forms_groups_are_listed_without_a_cursor(agent, customer, no_iterator):
    make_group("Network", members=[agent])
    make_group("Zeta retired", is_active=False)
    incident = make_incident(requester=customer)
    html = str(AssignForm(user=agent, record=incident)["assignment_group"])
    assert ">Network</option>" in html and "Zeta retired" not in html


def test_the_queue_group_filter_is_listed_without_a_cursor(agent, no_iterator):
    make_group("Network", members=[agent])
    request = RequestFactory().get("/desk/incidents/")
    request.user = agent
    filterset = QueueFilter({}, queryset=Incident.objects.all(), request=request)
    assert ">Network</option>" in str(filterset.form["assignment_group"])
