"""A record page's many-to-many lists (``itsm.prefetch``): one query tells which hold anything;
only those are fetched, and reading an empty one costs no query."""

import pytest
from django.db.models import Prefetch

from incidents.models import Incident
from itsm.models import Host
from itsm.prefetch import filled, prefetch_filled
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

LISTS = ["collaborators", "hosts", "related_configuration_items", "related_incidents", "changes_required"]


@pytest.fixture
def incident(customer, agent):
    incident = make_incident(requester=customer)
    incident.collaborators.add(agent)
    incident.hosts.add(Host.objects.create(hostname="web-01"))
    return Incident.objects.get(pk=incident.pk)


def test_one_query_tells_which_lists_hold_anything(incident, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert filled(incident, LISTS) == {"collaborators", "hosts"}


def test_only_the_filled_lists_are_fetched_and_the_empty_ones_read_as_empty(incident, agent, django_assert_num_queries):
    with django_assert_num_queries(3):  # which are filled, then the two filled lists
        prefetch_filled(incident, LISTS)
    with django_assert_num_queries(0):
        assert list(incident.collaborators.all()) == [agent]
        assert [host.hostname for host in incident.hosts.all()] == ["web-01"]
        assert list(incident.related_configuration_items.all()) == []
        assert list(incident.related_incidents.all()) == []
        assert list(incident.changes_required.all()) == []


def test_a_related_incident_is_found_from_either_side(customer, incident, django_assert_num_queries):
    other = make_incident(requester=customer, short_description="Same outage")
    incident.related_incidents.add(other)
    assert filled(Incident.objects.get(pk=other.pk), ["related_incidents", "hosts"]) == {"related_incidents"}


def test_a_prefetch_into_another_attribute_is_fetched_as_asked(incident, agent):
    prefetch_filled(incident, [*LISTS, Prefetch("related_incidents", to_attr="related")])
    assert incident.related == []
    assert list(incident.collaborators.all()) == [agent]
