"""API fuzz test: every operation in the OpenAPI document, as an agent and as a customer.

Schemathesis generates valid requests (positive data only) from the document that
``/api/schema/`` serves and sends them straight to the WSGI app, signed in with a token. Any 5xx,
an undocumented status code or content type, or an answer that does not match its documented
schema fails the test. New endpoints are picked up automatically: there is nothing to list here.

Bounded for CI: ``ITSM_FUZZ_EXAMPLES`` examples per operation and persona (default 15), the
same examples on every run. ``ITSM_FUZZ_RANDOM=1`` draws new ones each run, e.g. with
``ITSM_FUZZ_EXAMPLES=500`` for a longer local hunt.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.test import Client
from drf_spectacular.settings import spectacular_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog import services as catalog_services
from config.wsgi import application
from incidents.models import Incident
from itsm import services
from itsm.models import AssignmentGroup, Host, HostGroup, HostGroupDependency, SlaDefinition

MAX_EXAMPLES = int(os.environ.get("ITSM_FUZZ_EXAMPLES", "15"))
DETERMINISTIC = os.environ.get("ITSM_FUZZ_RANDOM", "") not in ("1", "true", "yes")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
]


def build_document() -> dict:
    """The document ``/api/schema/`` serves (checked by
    ``test_schema_endpoint_serves_the_fuzzed_document``),
    built here because the endpoint needs a signed-in user, and collection has no database."""
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    document = generator.get_schema(request=None, public=spectacular_settings.SERVE_PUBLIC)
    return json.loads(json.dumps(document, default=str))  # lazy strings -> plain JSON


DOCUMENT = build_document()

schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "generation": {
                "mode": "positive",
                "max-examples": MAX_EXAMPLES,
                "deterministic": DETERMINISTIC,
                "database": "none",
                "with-security-parameters": False,
            },
            # Examples (none are declared yet) and fuzzing; the coverage phase adds hundreds of
            # boundary cases per operation and would not keep CI fast.
            "phases": {"coverage": {"enabled": False}},
        }
    ),
)
schema.app = application

# Ids of the records the test makes, by collection path, so detail operations hit real rows.
KNOWN_IDS: dict[str, list[int]] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """About half the examples of a detail operation use the id of a record that exists."""
    ids = KNOWN_IDS.get(context.operation.path.split("{", 1)[0])
    if not ids or not path_parameters or "id" not in path_parameters:
        return st.just(path_parameters)
    existing = st.sampled_from(ids).map(lambda pk: {**path_parameters, "id": pk})
    return st.one_of(st.just(path_parameters), existing)


@pytest.fixture
def records(customer, agent, manager):
    """Something on every resource: a host group with a host and a dependency, an assignment
    group, an SLA, an incident the customer raised, and a catalog item with a request of the
    customer's waiting for the manager's approval."""
    sla = SlaDefinition.objects.create(name="Standard")
    group = AssignmentGroup.objects.create(name="Service desk", organisation=customer.organisation)
    web = HostGroup.objects.create(name="Web", sla=sla, organisation=customer.organisation)
    db = HostGroup.objects.create(name="Databases")
    dependency = HostGroupDependency.objects.create(dependent=web, depends_on=db)
    host = Host.objects.create(hostname="web01", host_group=web, ip_address="192.0.2.10")
    incident = services.record_create(
        model=Incident,
        actor=customer,
        data={"short_description": "Printer on fire"},
        requester=customer,
        organisation=customer.organisation,
    )
    agents_incident = services.record_create(
        model=Incident,
        actor=agent,
        data={"short_description": "Disk full"},
        requester=agent,
        organisation=None,
    )
    category = catalog_services.category_create(actor=manager, data={"name": "Hardware"})
    item = catalog_services.item_create(
        actor=manager,
        data={"name": "Laptop", "category": category},
        form_fields=[{"name": "model", "label": "Model", "type": "dropdown", "options": ["13-inch", "15-inch"]}],
        levels=[{"mode": "any", "users": [manager]}],
        task_templates=[{"short_description": "Order it"}],
    )
    request = catalog_services.request_create(actor=customer, catalog_item=item, form_data={"model": "13-inch"})
    KNOWN_IDS.clear()
    KNOWN_IDS.update(
        {
            "/api/v1/catalog-categories/": [category.pk],
            "/api/v1/catalog-items/": [item.pk],
            "/api/v1/requests/": [request.pk],
            "/api/v1/work/": [incident.pk, agents_incident.pk],
            "/api/v1/incidents/": [incident.pk, agents_incident.pk],
            "/api/v1/organisations/": [customer.organisation_id],
            "/api/v1/assignment-groups/": [group.pk],
            "/api/v1/sla-definitions/": [sla.pk],
            "/api/v1/host-groups/": [web.pk, db.pk],
            "/api/v1/hosts/": [host.pk],
            "/api/v1/host-group-dependencies/": [dependency.pk],
        }
    )
    yield
    KNOWN_IDS.clear()


@pytest.fixture
def keep_test_connection():
    """Calling the WSGI app fires request_started/finished, whose close_old_connections would
    close the test's PostgreSQL connection mid-transaction (Django's test client disconnects
    it the same way)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["agent", "customer"])
def persona(request, records, keep_test_connection):
    """The headers of a signed-in agent or customer (a token, as an API client would use)."""
    user = request.getfixturevalue(request.param)
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api(case, persona):
    case.call_and_validate(headers=persona, checks=CHECKS)


@pytest.mark.django_db
def test_schema_endpoint_serves_the_fuzzed_document(agent):
    client = Client()
    client.force_login(agent)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert json.loads(response.content) == DOCUMENT


@pytest.mark.django_db
def test_schema_endpoint_needs_a_signed_in_user():
    assert Client().get("/api/schema/").status_code in (401, 403)


# --- What the fuzzer found, pinned down ----------------------------------------------------

BEYOND_ANY_ID = 2**70  # past the 64-bit id column: the driver raised instead of matching nothing


@pytest.mark.django_db
def test_an_id_no_record_can_have_is_not_found(api, agent, records):
    api.as_user(agent)
    for path in ("incidents", "work", "hosts"):
        assert api.get(f"/api/v1/{path}/{BEYOND_ANY_ID}/").status_code == 404
    assert api.get(f"/api/v1/incidents/{BEYOND_ANY_ID}/journal/").status_code == 404
    response = api.patch(f"/api/v1/incidents/{BEYOND_ANY_ID}/", {"description": "x"}, format="json")
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_related_id_no_record_can_have_is_invalid_input(api, agent, records):
    incident = KNOWN_IDS["/api/v1/incidents/"][0]
    response = api.as_user(agent).patch(
        f"/api/v1/incidents/{incident}/", {"related_incidents": [BEYOND_ANY_ID]}, format="json"
    )
    assert response.status_code == 400
    assert "related_incidents" in response.json()


# --- Hostile shapes, on every operation the document lists -----------------------------------

OPERATIONS = [result.ok() for result in schema.get_all_operations()]
DEEP_JSON = b'{"a": ' * 3000 + b"1" + b"}" * 3000  # 3,000 levels: past Python's recursion limit


def _label(operation) -> str:
    return f"{operation.method.upper()} {operation.path}"


def _path_parameters(operation, **given) -> dict:
    """A record that exists where there is one, else 1; ``given`` wins."""
    names = [p.name for p in operation.path_parameters]
    known = KNOWN_IDS.get(operation.path.split("{", 1)[0]) or [1]
    return {name: given.get(name, known[0]) for name in names}


def _checked(case, headers):
    return case.call_and_validate(headers=headers, checks=CHECKS)


@pytest.mark.django_db
def test_deeply_nested_json_is_refused_by_every_operation_with_a_body(persona):
    refused_wrongly = []
    for operation in (op for op in OPERATIONS if op.body):
        case = operation.Case(
            path_parameters=_path_parameters(operation), body=DEEP_JSON, media_type="application/json"
        )
        try:
            response = _checked(case, persona)
        except Exception as exc:  # a failed check: a 500, or an answer the document does not list
            refused_wrongly.append(f"{_label(operation)}: {str(exc).splitlines()[0]}")
            continue
        if response.status_code not in (400, 403, 404):
            refused_wrongly.append(f"{_label(operation)}: {response.status_code}")
    assert not refused_wrongly, "\n".join(refused_wrongly)


@pytest.mark.django_db
@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op.path_parameters], ids=_label)
def test_an_id_past_64_bits_is_not_found_or_invalid_on_every_operation(operation, persona):
    names = [p.name for p in operation.path_parameters]
    case = operation.Case(path_parameters=_path_parameters(operation, **{names[-1]: BEYOND_ANY_ID}))
    response = _checked(case, persona)
    assert response.status_code in (400, 403, 404, 405), response.text[:200]


def _user_filters(operation) -> list[str]:
    """The query parameters of a list operation that name a user (a relation to the user model)."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import FieldDoesNotExist
    from django.urls import resolve

    view = resolve(operation.path).func
    model = getattr(getattr(view, "cls", None), "queryset", None)
    if model is None:
        return []
    names = []
    for parameter in operation.query:
        try:
            field = model.model._meta.get_field(parameter.name)
        except FieldDoesNotExist:
            continue
        if field.is_relation and field.related_model is get_user_model():
            names.append(parameter.name)
    return names


USER_FILTERS = [
    (operation, name)
    for operation in OPERATIONS
    if operation.method == "get" and "{" not in operation.path
    for name in _user_filters(operation)
]


@pytest.mark.django_db
def test_a_customer_filtering_by_a_user_they_may_not_see_learns_nothing(
    customer, other_organisation, records, keep_test_connection
):
    from conftest import make_user

    assert USER_FILTERS, "no list operation has a user filter: _user_filters finds none"
    outsider = make_user("outsider", organisation=other_organisation)
    token, _ = Token.objects.get_or_create(user=customer)
    headers = {"Authorization": f"Token {token.key}"}
    telling = []
    for operation, name in USER_FILTERS:
        answers = [
            _checked(operation.Case(query={name: value}), headers)
            for value in (outsider.pk, outsider.pk + 1000)  # a user of another organisation; nobody
        ]
        if (answers[0].status_code, answers[0].content) != (answers[1].status_code, answers[1].content):
            telling.append(
                f"{_label(operation)} ?{name}: {answers[0].status_code} / {answers[1].status_code}"
            )
    assert not telling, "\n".join(telling)
