"""The audit journal (SPEC §4, §6): written by every write in the same transaction, append-only,
and read through the policy (no entry about a field hidden from the reader)."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from conftest import make_user
from incidents.models import Incident
from itsm import audit, services
from itsm.errors import Conflict, InvalidInput
from itsm.models import AuditEntry, Organisation

pytestmark = pytest.mark.django_db

NO_TRUNCATE = "itsm_auditentry_no_truncate"


def _create_incident(customer, text="Printer on fire"):
    return services.record_create(
        model=Incident,
        actor=customer,
        data={"short_description": text},
        requester=customer,
        organisation=customer.organisation,
    )


def _journal(obj):
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
    )


# --- What is written ------------------------------------------------------------------------


def test_creating_an_incident_writes_a_create_entry_with_actor_and_time(customer):
    before = timezone.now()
    incident = _create_incident(customer)
    after = timezone.now()
    [entry] = _journal(incident)
    assert entry.action == "create"
    assert entry.actor == customer
    assert entry.actor_label == "customer"
    assert before <= entry.at <= after
    assert entry.object_repr == "INC0000001 Printer on fire"


def test_creating_an_incident_through_the_api_writes_a_create_entry(customer, api):
    r = api.as_user(customer).post("/api/v1/incidents/", {"short_description": "VPN down"}, format="json")
    assert r.status_code == 201, r.content
    incident = Incident.objects.get(pk=r.json()["id"])
    assert list(_journal(incident).values_list("action", "actor_label")) == [("create", "customer")]


def test_a_field_change_writes_field_old_and_new_values(customer, agent):
    incident = _create_incident(customer)
    services.record_update(obj=incident, actor=agent, data={"priority": "P2", "assignee": agent})
    changes = {
        e.field: (e.action, e.actor_label, e.old_value, e.new_value)
        for e in _journal(incident).exclude(action="create")
    }
    assert changes == {
        "priority": ("update", "agent", "", "P2"),
        "assignee": ("update", "agent", "", f"agent (#{agent.pk})"),
    }


def test_an_unchanged_field_writes_no_entry(customer, agent):
    incident = _create_incident(customer, "Same text")
    services.record_update(obj=incident, actor=agent, data={"short_description": "Same text"})
    assert list(_journal(incident).values_list("action", flat=True)) == ["create"]


def test_delete_writes_a_delete_entry_that_outlives_the_record(customer, manager):
    incident = _create_incident(customer)
    pk = incident.pk
    services.record_delete(obj=incident, actor=manager)
    assert not Incident.objects.filter(pk=pk).exists()
    entries = AuditEntry.objects.filter(object_id=str(pk)).order_by("id")
    assert [(e.action, e.actor_label) for e in entries] == [("create", "customer"), ("delete", "manager")]
    assert entries[1].object_repr == "INC0000001 Printer on fire"


def test_delete_through_the_api_writes_a_delete_entry(customer, manager, api):
    incident = _create_incident(customer)
    r = api.as_user(manager).delete(f"/api/v1/incidents/{incident.pk}/")
    assert r.status_code == 204, r.content
    assert AuditEntry.objects.filter(object_id=str(incident.pk), action="delete", actor=manager).exists()


# --- Same transaction -----------------------------------------------------------------------


def test_a_refused_update_writes_no_entry_and_changes_nothing(customer, agent):
    incident = _create_incident(customer)
    with pytest.raises(InvalidInput):
        services.record_update(
            obj=incident,
            actor=agent,
            data={"short_description": "Fine", "priority": "P9"},
        )
    incident.refresh_from_db()
    assert (incident.short_description, incident.priority) == ("Printer on fire", "")
    assert list(_journal(incident).values_list("action", flat=True)) == ["create"]


def test_a_stale_update_writes_no_entry(customer, agent):
    incident = _create_incident(customer)
    with pytest.raises(Conflict):
        services.record_update(
            obj=incident, actor=agent, data={"priority": "P1"}, expected_version=incident.version + 1
        )
    assert list(_journal(incident).values_list("action", flat=True)) == ["create"]


def test_when_the_journal_write_fails_the_change_is_undone(customer, agent, monkeypatch):
    incident = _create_incident(customer)

    def failing_log_changes(obj, actor, changes):
        audit.AuditEntry.objects.bulk_create(
            [audit._entry(obj, actor, "update", field=name) for name, _old, _new in changes]
        )
        raise DatabaseError("journal disk full")

    monkeypatch.setattr(audit, "log_changes", failing_log_changes)
    with pytest.raises(DatabaseError):
        services.record_update(obj=incident, actor=agent, data={"priority": "P1"})
    incident.refresh_from_db()
    assert incident.priority == ""
    assert incident.version == 1
    assert list(_journal(incident).values_list("action", flat=True)) == ["create"]


def test_when_the_create_entry_fails_no_record_is_left(customer, monkeypatch):
    def failing_log_create(obj, actor):
        audit._entry(obj, actor, "create").save()
        raise DatabaseError("journal disk full")

    monkeypatch.setattr(audit, "log_create", failing_log_create)
    with pytest.raises(DatabaseError):
        _create_incident(customer)
    assert not Incident.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_refused_delete_leaves_no_delete_entry(manager, customer):
    organisation = Organisation.objects.get(pk=customer.organisation_id)  # still has users
    with pytest.raises(Conflict):
        services.record_delete(obj=organisation, actor=manager)
    assert Organisation.objects.filter(pk=organisation.pk).exists()
    assert not AuditEntry.objects.filter(action="delete").exists()


# --- Append-only ----------------------------------------------------------------------------


@pytest.fixture
def entry(customer):
    incident = _create_incident(customer)
    return _journal(incident).get()


def test_saving_an_existing_entry_again_is_refused(entry):
    entry.note = "rewritten history"
    with pytest.raises(PermissionError):
        entry.save()
    entry.refresh_from_db()
    assert entry.note == ""


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(PermissionError):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_of_entries_is_refused(entry):
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(actor_label="someone else")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().update(note="x")
    entry.refresh_from_db()
    assert entry.actor_label == "customer"


def test_queryset_delete_of_entries_is_refused(entry):
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_bulk_update_of_entries_is_refused(entry):
    entry.note = "x"
    with pytest.raises(PermissionError), transaction.atomic():
        AuditEntry.objects.bulk_update([entry], ["note"])
    assert AuditEntry.objects.get(pk=entry.pk).note == ""


def test_the_database_refuses_a_raw_sql_update_of_an_entry(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE itsm_auditentry SET actor_label = %s WHERE id = %s", ["forger", entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).actor_label == "customer"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no DELETE trigger on the journal (the test runner's flush must empty it); "
    "the model and every door refuse deletes there",
)
def test_the_database_refuses_a_raw_sql_delete_of_an_entry(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM itsm_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE statement")
def test_the_database_refuses_truncating_the_journal(entry):
    with connection.cursor() as cursor:
        # The test run switches the trigger off for its flush (conftest.py); switch it on as in
        # production, inside this test's transaction, which is rolled back at its end.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks: ALTER TABLE needs none
        cursor.execute(f"ALTER TABLE itsm_auditentry ENABLE TRIGGER {NO_TRUNCATE}")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("TRUNCATE itsm_auditentry")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("TRUNCATE itsm_auditentry, django_content_type CASCADE")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE statement")
def test_the_truncate_trigger_is_a_statement_trigger_before_truncate():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgtype FROM pg_trigger WHERE tgrelid = 'itsm_auditentry'::regclass AND tgname = %s",
            [NO_TRUNCATE],
        )
        rows = cursor.fetchall()
    assert len(rows) == 1
    tgtype = rows[0][0]
    assert tgtype & 32, "fires on TRUNCATE"  # TRIGGER_TYPE_TRUNCATE
    assert tgtype & 2, "fires before"  # TRIGGER_TYPE_BEFORE
    assert not tgtype & 1, "once per statement"  # TRIGGER_TYPE_ROW


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("resource", ["incidents", "work"])
def test_no_api_route_writes_the_journal(method, resource, customer, manager, api):
    incident = _create_incident(customer)
    before = list(AuditEntry.objects.values_list("id", "action", "field", "note"))
    r = getattr(api.as_user(manager), method)(
        f"/api/v1/{resource}/{incident.pk}/journal/",
        {"action": "delete", "note": "forged", "field": "priority"},
        format="json",
    )
    assert r.status_code == 405, r.content
    assert list(AuditEntry.objects.values_list("id", "action", "field", "note")) == before


# --- Read through the policy ----------------------------------------------------------------

HIDDEN_CHANGED = {"priority", "assignee", "service", "impact", "major_incident"}


@pytest.fixture
def worked_incident(customer, agent):
    """The customer's incident after an agent set hidden fields and one visible field."""
    incident = _create_incident(customer)
    secret_assignee = make_user("secret-assignee", "itsm_agent")
    services.record_update(
        obj=incident,
        actor=agent,
        data={
            "priority": "P1",
            "assignee": secret_assignee,
            "impact": 1,
            "major_incident": True,
            "service": "xyzzy-hidden-service",
            "short_description": "Printer on fire (all floors)",
        },
    )
    return incident


def _leaks(entries):
    return [
        e
        for e in entries
        if e["field"] in HIDDEN_CHANGED
        or "secret-assignee" in e["new_value"] + e["old_value"]
        or "xyzzy-hidden-service" in e["new_value"] + e["old_value"]
        or e["new_value"] in {"P1", "True"}
    ]


def test_customer_journal_over_the_api_has_no_entry_about_hidden_fields(worked_incident, customer, api):
    r = api.as_user(customer).get(f"/api/v1/incidents/{worked_incident.pk}/journal/")
    assert r.status_code == 200, r.content
    entries = r.json()
    assert _leaks(entries) == []
    assert "secret-assignee" not in r.content.decode()
    assert "xyzzy-hidden-service" not in r.content.decode()
    # the customer still sees what it may see: creation and the visible change
    assert [(e["action"], e["field"]) for e in entries] == [
        ("create", ""),
        ("update", "short_description"),
    ]


def test_agent_journal_over_the_api_shows_hidden_field_changes(worked_incident, agent, api):
    r = api.as_user(agent).get(f"/api/v1/incidents/{worked_incident.pk}/journal/")
    assert r.status_code == 200, r.content
    by_field = {e["field"]: e for e in r.json() if e["action"] == "update"}
    assert set(by_field) == HIDDEN_CHANGED | {"short_description"}
    assert by_field["priority"]["new_value"] == "P1"
    assert by_field["assignee"]["new_value"].startswith("secret-assignee")


def test_entries_for_hides_hidden_field_entries_from_the_customer(worked_incident, customer, agent):
    seen_by_customer = [
        {"field": e.field, "old_value": e.old_value, "new_value": e.new_value}
        for e in audit.entries_for(customer, worked_incident)
    ]
    assert _leaks(seen_by_customer) == []
    assert {e["field"] for e in seen_by_customer} == {"", "short_description"}
    seen_by_agent = {e.field for e in audit.entries_for(agent, worked_incident)}
    assert seen_by_agent >= HIDDEN_CHANGED


def test_entries_for_shows_nothing_to_a_user_who_cannot_read_the_record(worked_incident, customer2, api):
    assert not audit.entries_for(customer2, worked_incident)
    r = api.as_user(customer2).get(f"/api/v1/incidents/{worked_incident.pk}/journal/")
    assert r.status_code == 404


def test_journal_is_listed_oldest_first_with_a_time(worked_incident, agent, api):
    r = api.as_user(agent).get(f"/api/v1/incidents/{worked_incident.pk}/journal/")
    entries = r.json()
    assert entries[0]["action"] == "create"
    times = [datetime.datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in entries]
    assert times == sorted(times)
