"""A record page's many-to-many lists (``itsm.prefetch``): one query tells which hold anything;
only those are fetched, and reading an empty one costs no query. The same query answers the
page's probes (rows of other tables pointing at the record), which panels read through
``holds``."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch

from incidents.models import Incident
from itsm.attachments import ATTACHED
from itsm.models import Host
from itsm.prefetch import Probe, filled, holds, prefetch_filled
from tests.incidents.factories import make_incident
from tests.itsm.factories import attach_file

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


# --- Probes: rows of other tables pointing at the record -------------------------------------

RELATED_TO = Probe(Incident.related_problems.through, "incident")  # a foreign key of a through model


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_probes_are_answered_by_the_same_one_query(incident, customer, django_assert_num_queries):
    attach_file(incident, by=customer)
    ContentType.objects.get_for_model(incident, for_concrete_model=False)  # Django caches it after once
    with django_assert_num_queries(1):
        assert filled(incident, LISTS, [ATTACHED, RELATED_TO]) == {"collaborators", "hosts", ATTACHED}


def test_a_probed_record_holds_only_what_points_at_it(customer, incident):
    other = make_incident(requester=customer, short_description="Another outage")
    attach_file(other, by=customer)  # another record's file says nothing about this one
    prefetch_filled(incident, LISTS, [ATTACHED, RELATED_TO])
    assert holds(incident, ATTACHED) is False
    assert holds(incident, RELATED_TO) is False
    attach_file(incident, by=customer)
    prefetch_filled(incident, LISTS, [ATTACHED])
    assert holds(incident, ATTACHED) is True


def test_a_record_the_page_did_not_probe_may_hold_anything(incident):
    # Only a probe that was asked and found nothing lets a panel skip its query.
    assert holds(incident, ATTACHED) is True
    prefetch_filled(incident, LISTS, [RELATED_TO])
    assert holds(incident, ATTACHED) is True


def test_two_probes_alone_cost_one_query(incident, django_assert_num_queries):
    ContentType.objects.get_for_model(incident, for_concrete_model=False)
    with django_assert_num_queries(1):
        prefetch_filled(incident, [], [ATTACHED, RELATED_TO])
    assert holds(incident, ATTACHED) is False


def test_a_probe_alone_is_not_asked_its_panels_query_costs_the_same(incident, django_assert_num_queries):
    with django_assert_num_queries(0):
        prefetch_filled(incident, [], [ATTACHED])
    assert holds(incident, ATTACHED) is True
