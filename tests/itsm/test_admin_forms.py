"""Every add and change form of every model on the admin site, submitted as an administrator
would: valid data is saved through the record's service (journaled; an incident gets its SLA
clocks and its priority from the matrix), invalid data comes back as the form's errors with
nothing written, and nothing is ever a 500.

The models come from the admin site's registry, so a newly registered model fails here until it
has an entry below. POST data starts from the form's own initial values, as the page renders
them; each entry overrides only what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType

from catalog.formdef import validate_definition
from conftest import make_user
from incidents import enrichment
from incidents import services as incident_services
from incidents.models import Incident, PriorityMatrix
from itsm import policy, services
from itsm.models import AssignmentGroup, AuditEntry, HostGroup, SlaDefinition
from itsm.roles import PERSONAS, Persona, Role
from oncall import services as oncall_services
from sla.models import SlaClock
from tests.itsm.admin_support import errors_on, page_data

pytestmark = pytest.mark.django_db

PASSWORD = "Corr3ct-horse-battery"


# --- The records the forms refer to -----------------------------------------------------------


class World:
    """A few records for the forms to point at, made through the services."""

    def __init__(self, actor):
        self.agent = make_user("agent", *PERSONAS[Persona.L2_AGENT])
        self.group = AssignmentGroup.objects.create(name="Service desk")
        self.other_group = AssignmentGroup.objects.create(name="Network")
        self.host_group = HostGroup.objects.create(name="Databases")
        self.other_host_group = HostGroup.objects.create(name="Web")
        SlaDefinition.objects.create(
            name="Standard", is_default=True, **{f"p{n}_resolution_minutes": 480 * n for n in range(1, 5)}
        )
        self.incident = incident_services.incident_create(actor=actor, data={"short_description": "Parent"})
        self.request = services.record_create(
            model=_model("catalog.Request"),
            actor=actor,
            data={"short_description": "Laptop"},
            requester=actor,
        )
        self.change = services.record_create(
            model=_model("changes.Change"), actor=actor, data={"short_description": "Patch"}, requester=actor
        )
        self.problem = services.record_create(
            model=_model("problems.Problem"), actor=actor, data={"short_description": "Leak"}, requester=actor
        )
        self.schedule = oncall_services.schedule_create(
            actor=actor,
            data={
                "name": "Days",
                "time_zone": "UTC",
                "rotation": "daily",
                "start": datetime(2026, 3, 2, 9, tzinfo=UTC),
                "participants": [self.agent],
            },
        )
        PriorityMatrix.objects.filter(impact=1, urgency=3).delete()  # a free cell to add
        self.category = _model("catalog.CatalogCategory").objects.create(name="Hardware")
        self.item = _model("catalog.CatalogItem").objects.create(
            category=self.category, name="Laptop",
            form_fields=validate_definition([{"name": "model", "label": "Model", "type": "text"}]),
        )


def _model(label):
    from django.apps import apps

    return apps.get_model(label)


@dataclass
class Entry:
    """Valid and invalid values for the add and change forms (callables get the ``World``)."""

    add: dict = field(default_factory=dict)
    change: dict = field(default_factory=dict)
    invalid_add: dict = field(default_factory=dict)
    invalid_change: dict = field(default_factory=dict)


def _task(parent: str) -> Entry:
    return Entry(
        add={"short_description": "Check the cabling", parent: lambda w: getattr(w, parent).pk},
        change={"description": "Both racks"},
        invalid_add={"short_description": "Check", parent: ""},
        invalid_change={"priority": "P9"},
    )


def _work(**extra) -> Entry:
    return Entry(
        add={"short_description": "Something broke", **extra},
        change={"description": "More detail"},
        invalid_add={"short_description": ""},
        invalid_change={"short_description": ""},
    )


ENTRIES: dict[str, Entry] = {
    "itsm.user": Entry(
        add={"username": "newbie", "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD},
        change={"first_name": "Ann"},
        invalid_add={"username": "newbie", "password1": PASSWORD, "password2": "something else"},
        invalid_change={"email": "not an address"},
    ),
    "itsm.organisation": Entry(
        add={"name": "Initech"},
        change={"name": "Initech Ltd"},
        invalid_add={"name": ""},
        invalid_change={"name": ""},
    ),
    "itsm.assignmentgroup": Entry(
        add={"name": "Storage"},
        change={"description": "Disks and arrays"},
        invalid_add={"name": "Storage", "email": "no address"},
        invalid_change={"email": "no address"},
    ),
    "itsm.sladefinition": Entry(
        add={"name": "Gold", "p1_response_minutes": 30, "p1_resolution_minutes": 240},
        change={"p2_resolution_minutes": 960},
        invalid_add={"name": "Gold", "p1_response_minutes": 300, "p1_resolution_minutes": 240},
        invalid_change={"p1_response_minutes": 900},
    ),
    "itsm.hostgroup": Entry(
        add={"name": "Mail", "service_tier": "high"},
        change={"description": "Exchange"},
        invalid_add={"name": ""},
        invalid_change={"service_tier": "cosmic"},
    ),
    "itsm.host": Entry(
        add={"hostname": "db01", "host_group": lambda w: w.host_group.pk},
        change={"description": "Primary"},
        invalid_add={"hostname": "db01", "ip_address": "999.1.1.1"},
        invalid_change={"ip_address": "not an address"},
    ),
    "itsm.hostgroupdependency": Entry(
        add={"dependent": lambda w: w.other_host_group.pk, "depends_on": lambda w: w.host_group.pk},
        change={"description": "Reads the catalogue"},
        invalid_add={"dependent": lambda w: w.other_host_group.pk, "depends_on": ""},
        invalid_change={"depends_on": ""},
    ),
    "incidents.incident": Entry(
        add={"short_description": "Printer on fire", "impact": 1, "urgency": 2},
        change={"impact": 3},
        invalid_add={"short_description": ""},
        invalid_change={"urgency": 9},
    ),
    "incidents.incidenttask": _task("incident"),
    "incidents.prioritymatrix": Entry(
        add={"impact": 1, "urgency": 3, "priority": "P2"},
        change={"priority": "P3"},
        invalid_add={"impact": 1, "urgency": 3, "priority": "P9"},
        invalid_change={"priority": ""},
    ),
    "problems.problem": _work(),
    "problems.problemtask": _task("problem"),
    "changes.change": _work(),
    "changes.changetask": _task("change"),
    "changes.governancetemplate": Entry(
        add={"name": "Database changes", "required_gates": "Security review\nBackout tested", "min_notice_hours": 72},
        change={"optional_gates": "DBA sign-off"},
        invalid_add={"name": "Database changes", "required_gates": "Backout\nBackout"},
        invalid_change={"optional_gates": "Security review"},
    ),
    "changes.maintenancewindow": Entry(
        add={"name": "Sunday patching", "start_0": "2026-03-08", "start_1": "01:00", "end_0": "2026-03-08",
             "end_1": "05:00"},
        change={"description": "Kernel updates"},
        invalid_add={"name": "Backwards", "start_0": "2026-03-08", "start_1": "05:00", "end_0": "2026-03-08",
                     "end_1": "01:00"},
        invalid_change={"end_0": "not a date"},
    ),
    "changes.changefreeze": Entry(
        add={"name": "Year-end", "start_0": "2026-12-20", "start_1": "00:00", "end_0": "2027-01-04",
             "end_1": "00:00"},
        change={"reason": "Closing the books"},
        invalid_add={"name": "Year-end", "start_0": "2026-12-20", "start_1": "00:00", "end_0": "", "end_1": ""},
        invalid_change={"end_0": "2026-12-01"},
    ),
    "catalog.request": Entry(
        add={"catalog_item": lambda w: w.item.pk, "short_description": "Laptop for Ann", "form_data": '{"model": "X1"}'},
        change={"description": "More detail"},
        invalid_add={"catalog_item": lambda w: w.item.pk, "form_data": '{"colour": "red"}'},
        invalid_change={"short_description": ""},
    ),
    "catalog.catalogcategory": Entry(
        add={"name": "Software"},
        change={"description": "Licences and access"},
        invalid_add={"name": ""},
        invalid_change={"name": ""},
    ),
    "catalog.catalogitem": Entry(
        add={"category": lambda w: w.category.pk, "name": "Phone", "form_fields": "[]"},
        change={"description": "A smartphone"},
        invalid_add={"category": lambda w: w.category.pk, "name": "Phone",
                     "form_fields": '[{"name": "size", "label": "Size", "type": "radio"}]'},
        invalid_change={"form_fields": '[{"name": "Bad name", "label": "X", "type": "text"}]'},
    ),
    "catalog.requesttask": _task("request"),
    "oncall.schedule": Entry(
        add={
            "name": "Nights",
            "rotation": "daily",
            "start_0": "2026-03-02",
            "start_1": "21:00",
            "participant_usernames": "agent",
        },
        change={"description": "Out of hours"},
        invalid_add={"name": "Nights", "participant_usernames": "nobody"},
        invalid_change={"participant_usernames": "nobody"},
    ),
    "oncall.override": Entry(
        add={
            "schedule": lambda w: w.schedule.pk,
            "user": lambda w: w.agent.pk,
            "start_0": "2026-03-03",
            "start_1": "09:00",
            "end_0": "2026-03-03",
            "end_1": "17:00",
            "reason": "Swap",
        },
        change={"reason": "Swap, agreed"},
        invalid_add={"schedule": lambda w: w.schedule.pk, "user": ""},
        invalid_change={"end_0": "not a date"},
    ),
    "oncall.groupschedule": Entry(
        add={"group": lambda w: w.other_group.pk, "schedule": lambda w: w.schedule.pk},
        change={"group": lambda w: w.group.pk},
        invalid_add={"group": ""},
        invalid_change={"schedule": ""},
    ),
    "sla.businesscalendar": Entry(
        add={"name": "Round the clock", "always_open": "on"},
        change={"description": "Operations"},
        invalid_add={"name": "Mars", "time_zone": "Mars/Olympus", "always_open": "on"},
        invalid_change={"time_zone": "Mars/Olympus"},
    ),
    "knowledge.article": Entry(
        add={"title": "Reset a password", "body": "Open *Settings*."},
        change={"summary": "For the self-service portal"},
        invalid_add={"title": ""},
        invalid_change={"title": ""},
    ),
    "escalation.escalationpolicy": Entry(
        add={"name": "Night shift"},
        change={"description": "After hours"},
        invalid_add={"name": ""},
        invalid_change={"name": ""},
    ),
}

# Written only by their services and sweeps: no add form, no saving change form.
READ_ONLY = {
    "itsm.work", "itsm.auditentry", "sla.slaclock", "notifications.notification", "knowledge.articleversion",
    "knowledge.articlefeedback", "itsm.attachment",
}  # fmt: skip

# Not ITSM records (framework and task-queue bookkeeping): no journal, no domain service.
NOT_OURS = {
    "auth.group", "authtoken.tokenproxy", "django_q.schedule", "django_q.success", "django_q.failure",
    "django_q.ormq",
}  # fmt: skip


def _resolve(values: dict, world: World) -> dict:
    return {k: (v(world) if callable(v) else v) for k, v in values.items()}


def _url(model, suffix: str) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


def _journal(model, pk, action: str) -> int:
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    concrete = ContentType.objects.get_for_model(model)
    return AuditEntry.objects.filter(
        content_type__in=[content_type, concrete], object_id=str(pk), action=action
    ).count()


def _post(client, url: str, values: dict, world: World):
    page = client.get(url)
    assert page.status_code == 200, f"GET {url}: {page.status_code}"
    data = page_data(page)
    for name, value in _resolve(values, world).items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(url, data)


def _values(record) -> dict:
    return {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}


def _assert_incident_went_through_its_service(record) -> None:
    assert record.priority == enrichment.priority_for(record.impact, record.urgency)
    clocks = SlaClock.objects.filter(work_id=record.pk, is_current=True)
    assert clocks.exists(), "no SLA clocks: the incident skipped incident_create"
    assert {c.priority for c in clocks} == {record.priority}, "the clocks were not retargeted"


@pytest.fixture(params=["superuser", "itsm_administrator"])
def administrator(request, db):
    if request.param == "superuser":
        return make_user("root", superuser=True)
    return make_user("itsmadmin", Role.ITSM_ADMINISTRATOR)


def test_every_registered_model_has_an_entry():
    labels = {model._meta.label_lower for model in admin.site._registry}
    missing = labels - set(ENTRIES) - READ_ONLY - NOT_OURS
    assert not missing, f"Give these admin models valid and invalid form data here: {sorted(missing)}"


@pytest.mark.parametrize("label", sorted(ENTRIES))
def test_admin_forms_save_through_the_service_and_refuse_invalid_data(client, administrator, label):
    world = World(administrator)
    model = _model(label)
    entry = ENTRIES[label]
    client.force_login(administrator)
    if client.get(_url(model, "add/")).status_code == 403:
        # The ITSM administrator holds no CMDB role: the page is refused because the policy says so.
        assert not policy.can(administrator, "create", model), f"{label}: add page refused, policy allows"
        return
    before = set(model._default_manager.values_list("pk", flat=True))
    audit_rows = AuditEntry.objects.count()

    response = _post(client, _url(model, "add/"), entry.invalid_add, world)
    assert response.status_code == 200, f"invalid add of {label}: {response.status_code}"
    assert errors_on(response), f"invalid add of {label} was not answered with the form's errors"
    assert set(model._default_manager.values_list("pk", flat=True)) == before
    assert AuditEntry.objects.count() == audit_rows

    response = _post(client, _url(model, "add/"), entry.add, world)
    assert response.status_code == 302, errors_on(response) if response.context else response.status_code
    (pk,) = set(model._default_manager.values_list("pk", flat=True)) - before
    assert _journal(model, pk, "create") == 1, (
        f"adding {label} wrote no journal entry: it skipped its service"
    )
    if model is Incident:
        _assert_incident_went_through_its_service(Incident.objects.get(pk=pk))

    record, updates = model._default_manager.get(pk=pk), _journal(model, pk, "update")
    response = _post(client, _url(model, f"{pk}/change/"), entry.invalid_change, world)
    assert response.status_code == 200, f"invalid change of {label}: {response.status_code}"
    assert errors_on(response), f"invalid change of {label} was not answered with the form's errors"
    assert _journal(model, pk, "update") == updates
    assert _values(model._default_manager.get(pk=pk)) == _values(record)

    response = _post(client, _url(model, f"{pk}/change/"), entry.change, world)
    assert response.status_code == 302, errors_on(response) if response.context else response.status_code
    assert _journal(model, pk, "update") > updates, (
        f"changing {label} wrote no journal entry: it skipped its service"
    )
    if model is Incident:
        _assert_incident_went_through_its_service(Incident.objects.get(pk=pk))


@pytest.mark.parametrize("label", sorted(READ_ONLY))
def test_records_written_only_by_their_services_have_no_saving_admin_form(client, administrator, label):
    World(administrator)  # an incident with its clocks, its journal
    model = _model(label)
    client.force_login(administrator)
    assert client.get(_url(model, "add/")).status_code == 403
    record = model._default_manager.order_by("pk").first()
    if record is None:  # notifications: none were sent
        return
    assert client.post(_url(model, f"{record.pk}/change/"), {}).status_code == 403
