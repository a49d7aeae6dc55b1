"""Field-level security through the incidents API (SPEC §4): for each field a self-service user
never reads, the customer neither sees it in bodies nor learns it through filters, ordering,
search or write refusals; another customer's incident is 404 at every door; and the list costs
a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from changes.models import Change
from incidents import services
from incidents.models import Incident
from itsm import policy
from itsm import services as core
from itsm.models import AssignmentGroup, Host, Work
from problems.models import Problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"

# SPEC §4, "A self-service user never reads these fields", Incident, in snake_case.
SPEC_HIDDEN = (
    "major_incident", "major_incident_review", "major_incident_journal", "major_incident_manager",
    "major_incident_followers", "sla_status", "work_journal", "priority", "assignment_group", "assignee",
    "classification", "impact", "urgency", "resolution_notes", "collaborators", "service",
    "related_configuration_items", "related_incidents", "changes_required", "related_problems",
    "related_slas", "subtasks",
)  # fmt: skip
ON_MODEL = [name for name in SPEC_HIDDEN if name in policy.model_field_names(Incident)]

# Fields the agent's list filters and orders by: the controls that show these tests can fail.
AGENT_FILTERS = {"priority", "impact", "urgency", "assignment_group", "assignee", "major_incident"}
AGENT_ORDERING = {"priority", "impact", "urgency"}
AGENT_SEARCH = {"resolution_notes", "service"}


def test_the_parametrized_fields_are_the_spec_fields_on_the_model():
    assert ON_MODEL == [
        "major_incident", "major_incident_review", "major_incident_manager", "sla_status", "priority",
        "assignment_group", "assignee", "classification", "impact", "urgency", "resolution_notes", "collaborators", "service",
        "related_configuration_items", "related_incidents", "changes_required", "related_problems",
    ]  # fmt: skip
    assert set(ON_MODEL) <= policy.hidden_fields(_customer_stub(), Incident)


def _customer_stub():
    from conftest import make_user
    from itsm.roles import PERSONAS, Persona

    return make_user("stub", *PERSONAS[Persona.EVERYONE])


class World:
    """Three incidents of the customer (A, B, C) and the records their hidden fields point at."""

    def __init__(self, customer, agent, l1, lead, manager):
        self.customer, self.agent = customer, agent
        self.a = self._raise("Alpha printer")
        self.b = self._raise("Bravo printer")
        self.c = self._raise("Charlie printer")
        groups = [AssignmentGroup.objects.create(name=f"grp-{x}") for x in ("alpha-11", "bravo-22")]
        hosts = [Host.objects.create(hostname=f"host-{x}") for x in ("alpha-11", "bravo-22")]
        problems = [
            core.record_create(model=Problem, actor=agent, data={"short_description": f"prb-{x}"})
            for x in ("alpha-11", "bravo-22")
        ]
        changes = [
            core.record_create(model=Change, actor=agent, data={"short_description": f"chg-{x}"})
            for x in ("alpha-11", "bravo-22")
        ]
        # field: (value on A, value on B, value a write names, a search token only in that field)
        self.values = {
            "major_incident": (True, False, True, None),
            "major_incident_review": ("mir-alpha-11", "mir-bravo-22", "mir-new", "mir-alpha-11"),
            "major_incident_manager": (manager, lead, manager.pk, "manager"),
            "sla_status": ("breached", "met", "met", "breached"),
            "priority": ("P1", "P3", "P1", "P1"),
            "assignment_group": (groups[0], groups[1], groups[0].pk, "grp-alpha-11"),
            "assignee": (agent, l1, agent.pk, "agent"),
            "classification": ("cls-alpha-11", "cls-bravo-22", "cls-new", "cls-alpha-11"),
            "impact": (1, 2, 1, None),
            "urgency": (1, 2, 1, None),
            "resolution_notes": ("rn-alpha-11", "rn-bravo-22", "rn-new", "rn-alpha-11"),
            "collaborators": ([agent], [l1], [agent.pk], "agent"),
            "service": ("svc-alpha-11", "svc-bravo-22", "svc-new", "svc-alpha-11"),
            "related_configuration_items": ([hosts[0]], [hosts[1]], [hosts[0].pk], "host-alpha-11"),
            "related_incidents": ([self.c], [], [self.c.pk], None),
            "changes_required": ([changes[0]], [changes[1]], [changes[0].pk], "chg-alpha-11"),
            "related_problems": ([problems[0]], [problems[1]], [problems[0].pk], "prb-alpha-11"),
        }
        assert set(self.values) == set(ON_MODEL)

    def _raise(self, text):
        return services.incident_create(actor=self.customer, data={"short_description": text})

    def set(self, field):
        """Give ``field`` value a on A and value b on B (behind the API, in the database)."""
        first, second, _, _ = self.values[field]
        for incident, value in ((self.a, first), (self.b, second)):
            if isinstance(value, list):
                getattr(incident, field).set(value)
            else:  # a partial save: the search column follows, as it does for every write
                Incident.objects.filter(pk=incident.pk).update(**{field: value})
                incident.refresh_from_db()
                incident.save(update_fields=[field])
        self.a.refresh_from_db()
        self.b.refresh_from_db()

    def query_value(self, field, which):
        value = self.values[field][which]
        if isinstance(value, list):
            value = value[0] if value else None
        if value is None:
            return ""
        if hasattr(value, "pk"):
            return str(value.pk)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)


@pytest.fixture
def world(customer, agent, l1, lead, manager):
    return World(customer, agent, l1, lead, manager)


def _get(api, user, **params):
    r = api.as_user(user).get(URL, params)
    assert r.status_code == 200, r.content
    return r


def _ids(api, user, **params):
    return [row["id"] for row in _get(api, user, **params).json()["results"]]


# --- Bodies -------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ON_MODEL)
def test_customer_never_sees_a_hidden_field_in_detail_or_list(field, world, customer, agent, api):
    world.set(field)
    token = world.values[field][3]
    detail = api.as_user(customer).get(f"{URL}{world.a.pk}/")
    assert detail.status_code == 200, detail.content
    assert field not in detail.json()
    listing = _get(api, customer)
    assert all(field not in row for row in listing.json()["results"])
    if token is not None:
        assert token not in detail.content.decode()
        assert token not in listing.content.decode()
    assert field in api.as_user(agent).get(f"{URL}{world.a.pk}/").json()


# --- Filters, ordering, search ------------------------------------------------------------------


@pytest.mark.parametrize("field", ON_MODEL)
def test_customer_filtering_by_a_hidden_field_answers_the_same_for_any_value(
    field, world, customer, agent, api
):
    world.set(field)
    everything = _ids(api, customer)
    assert len(everything) == 3
    for name in (field, f"{field}__in"):
        first = _ids(api, customer, **{name: world.query_value(field, 0)})
        second = _ids(api, customer, **{name: world.query_value(field, 1)})
        assert first == second == everything, name
    if field in AGENT_FILTERS:  # the same query narrows the agent's list: the filter is real
        assert _ids(api, agent, **{field: world.query_value(field, 0)}) == [world.a.pk]


@pytest.mark.parametrize("field", ON_MODEL)
def test_customer_ordering_by_a_hidden_field_keeps_the_default_order(field, world, customer, agent, api):
    world.set(field)
    default = _ids(api, customer)
    assert _ids(api, customer, ordering=field) == default
    assert _ids(api, customer, ordering=f"-{field}") == default
    assert _ids(api, customer, ordering=f"{field},-opened_at") == default
    if field in AGENT_ORDERING:
        assert _ids(api, agent, ordering=field)[0] == world.a.pk
        assert _ids(api, agent, ordering=f"-{field}")[-1] == world.a.pk


@pytest.mark.parametrize(
    "field", [f for f in ON_MODEL if f not in ("major_incident", "impact", "urgency", "related_incidents")]
)
def test_customer_search_for_a_value_only_in_a_hidden_field_finds_nothing(field, world, customer, agent, api):
    world.set(field)
    token = world.values[field][3]
    assert _ids(api, customer, search=token) == []
    assert _ids(api, customer, search="Alpha") == [world.a.pk]  # search itself works
    if field in AGENT_SEARCH:
        assert _ids(api, agent, search=token) == [world.a.pk]


def test_customer_assigned_to_me_and_unassigned_filters_answer_as_if_not_asked(world, customer, agent, api):
    """``mine`` and ``unassigned`` read the hidden assignee: the customer gets the plain list."""
    Incident.objects.filter(pk=world.a.pk).update(assignee=customer)
    Incident.objects.filter(pk=world.b.pk).update(assignee=agent)
    everything = _ids(api, customer)
    for params in ({"mine": "true"}, {"mine": "false"}, {"unassigned": "true"}, {"unassigned": "false"}):
        assert _ids(api, customer, **params) == everything, params
    assert _ids(api, agent, mine="true") == [world.b.pk]
    assert _ids(api, agent, unassigned="true") == [world.c.pk]


# --- Writes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ON_MODEL)
def test_customer_create_naming_a_hidden_field_is_400_and_creates_nothing(field, world, customer, api):
    count = Work.objects.count()
    body = {"short_description": "Sneaky", field: world.values[field][2]}
    r = api.as_user(customer).post(URL, body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    assert Work.objects.count() == count
    assert not Incident.objects.filter(short_description="Sneaky").exists()


@pytest.mark.parametrize("field", ON_MODEL)
def test_customer_update_naming_a_hidden_field_is_400_and_changes_nothing(field, world, customer, api):
    before = Incident.objects.values().get(pk=world.c.pk)
    related = {
        f: set(getattr(world.c, f).values_list("pk", flat=True))
        for f in ON_MODEL
        if isinstance(world.values[f][2], list)
    }
    body = {"short_description": "Changed", field: world.values[field][2]}
    r = api.as_user(customer).patch(f"{URL}{world.c.pk}/", body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    assert Incident.objects.values().get(pk=world.c.pk) == before
    assert {f: set(getattr(world.c, f).values_list("pk", flat=True)) for f in related} == related


@pytest.mark.parametrize("field", ON_MODEL)
def test_a_hidden_field_write_is_refused_in_the_same_words_as_an_unknown_field(field, world, customer, api):
    client = api.as_user(customer)
    hidden = client.patch(f"{URL}{world.c.pk}/", {field: world.values[field][2]}, format="json")
    unknown = client.patch(f"{URL}{world.c.pk}/", {"no_such_field": 1}, format="json")
    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json()[field] == unknown.json()["no_such_field"]


# --- Another customer's incident ---------------------------------------------------------------------

DOORS = [
    ("get", ""), ("patch", ""), ("put", ""), ("delete", ""), ("get", "journal/"), ("get", "timeline/"),
    ("post", "start/"), ("post", "acknowledge/"), ("post", "hold/"), ("post", "resume/"), ("post", "resolve/"),
    ("post", "reopen/"), ("post", "close/"), ("post", "cancel/"), ("post", "assign/"),
    ("get", "notes/"), ("post", "notes/"), ("patch", "notes/{note}/"), ("delete", "notes/{note}/"),
    ("get", "time-entries/"), ("post", "time-entries/"), ("get", "csat/"), ("post", "csat/"),
    ("get", "tasks/"), ("post", "tasks/"),
]  # fmt: skip
BODY = {
    "short_description": "Mine now", "kind": "comment", "body": "Hello", "minutes": 5, "rating": 5,
    "resolution_code": "resolved", "resolution_notes": "x", "assignee": None, "reason": "x", "notes": "x",
}  # fmt: skip


@pytest.mark.parametrize(("method", "suffix"), DOORS)
def test_another_customers_incident_is_404_at_every_door(method, suffix, customer, customer2, agent, api):
    incident = services.incident_create(actor=customer, data={"short_description": "Not yours"})
    note = services.note_add(incident=incident, actor=customer, kind="comment", body="Private")
    before = Incident.objects.values().get(pk=incident.pk)
    client = api.as_user(customer2)
    body = {} if method == "get" else BODY
    r = getattr(client, method)(f"{URL}{incident.pk}/{suffix.format(note=note.pk)}", body, format="json")
    missing = getattr(client, method)(f"{URL}999999/{suffix.format(note=note.pk)}", body, format="json")
    assert r.status_code == missing.status_code == 404, r.content
    assert r.json() == missing.json()
    assert Incident.objects.values().get(pk=incident.pk) == before
    assert list(incident.notes.values_list("body", flat=True)) == ["Private"]


# --- Query counts -----------------------------------------------------------------------------------


def _add(world, count):
    for i in range(count):
        incident = world._raise(f"Extra {i}")
        Incident.objects.filter(pk=incident.pk).update(
            assignee=world.agent,
            assignment_group=AssignmentGroup.objects.first(),
            requested_for=world.customer,
        )
        incident.collaborators.set([world.agent])
        incident.related_incidents.set([world.a])
        incident.related_problems.set(Problem.objects.all())
        incident.changes_required.set(Change.objects.all())
        incident.related_configuration_items.set(Host.objects.all())
        incident.hosts.set(Host.objects.all())


def _count_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(URL, {"page_size": 50})
    assert r.status_code == 200, r.content
    return len(ctx.captured_queries), r.json()["count"]


@pytest.mark.parametrize("user_fixture", ["customer", "agent"])
def test_the_incident_list_costs_the_same_queries_for_3_and_30_incidents(
    user_fixture, world, request, api, django_assert_max_num_queries
):
    client = api.as_user(request.getfixturevalue(user_fixture))
    few, count = _count_queries(client)
    assert count == 3
    _add(world, 27)
    with django_assert_max_num_queries(few):
        many, count = _count_queries(client)
    assert count == 30
    assert many == few
