"""Editing or deleting a note leaves a trace (issue 12, item 5): the incident's journal keeps the
old text, for those who may read the note; a note changed or removed meanwhile is a 404, never
a 500 (item 4)."""

import threading

import pytest
from django.db import close_old_connections, connection, connections

from incidents import services
from incidents.models import IncidentNote
from itsm import audit
from itsm.errors import NotAllowed, NotFound
from tests.incidents.factories import make_incident

URL = "/api/v1/incidents/"


@pytest.fixture
def incident(customer):
    return make_incident(requester=customer)


def _note_url(incident, note):
    return f"{URL}{incident.pk}/notes/{note.pk}/"


def _texts(entries) -> list[tuple[str, str, str]]:
    return [
        (e["field"], e["old_value"], e["new_value"])
        for e in entries
        if e["field"] in ("conversation", "work_journal")
    ]


@pytest.mark.django_db
def test_editing_a_work_note_journals_its_old_text(incident, agent, api):
    note = services.note_add(incident=incident, actor=agent, kind="work_note", body="Fuser is cold")
    r = api.as_user(agent).patch(_note_url(incident, note), {"body": "Fuser is hot"}, format="json")
    assert r.status_code == 200
    journal = api.as_user(agent).get(f"{URL}{incident.pk}/journal/").json()
    assert _texts(journal) == [("work_journal", "Fuser is cold", "Fuser is hot")]
    entry = journal[-1]
    assert entry["actor_label"] == "agent"
    assert entry["action"] == "update"
    assert str(note.pk) in entry["note"]


@pytest.mark.django_db
def test_deleting_a_comment_journals_its_old_text_for_the_customer_too(incident, customer, agent, api):
    note = services.note_add(incident=incident, actor=agent, kind="comment", body="We will come at 3")
    assert api.as_user(agent).delete(_note_url(incident, note)).status_code == 204
    for reader in (agent, customer):
        journal = api.as_user(reader).get(f"{URL}{incident.pk}/journal/").json()
        assert _texts(journal) == [("conversation", "We will come at 3", "")]
        timeline = api.as_user(reader).get(f"{URL}{incident.pk}/timeline/").json()
        assert [(i["field"], i["old_value"]) for i in timeline if i["field"] == "conversation"] == [
            ("conversation", "We will come at 3")
        ]


@pytest.mark.django_db
def test_a_customer_never_sees_a_work_notes_old_text(incident, customer, agent, api):
    note = services.note_add(
        incident=incident, actor=agent, kind="work_note", body="Secret fuser-7781 diagnosis"
    )
    services.note_edit(note=note, actor=agent, body="Secret fuser-7782 diagnosis")
    services.note_delete(note=note, actor=agent)
    client = api.as_user(customer)
    for path in ("journal/", "timeline/", "notes/"):
        r = client.get(f"{URL}{incident.pk}/{path}")
        assert r.status_code == 200
        assert "fuser-778" not in r.content.decode()
    assert not [e for e in audit.entries_for(customer, incident) if "fuser" in e.old_value + e.new_value]
    assert len([e for e in audit.entries_for(agent, incident) if "fuser" in e.old_value]) == 2


@pytest.mark.django_db
def test_the_desk_timeline_shows_a_deleted_notes_old_text(client, agent, incident):
    note = services.note_add(incident=incident, actor=agent, kind="work_note", body="Tried turning it off")
    client.force_login(agent)
    r = client.post(f"/desk/incidents/{incident.pk}/notes/{note.pk}/delete/")
    assert r.status_code == 302
    page = client.get(f"/desk/incidents/{incident.pk}/timeline/").content.decode()
    assert "Tried turning it off" in page


@pytest.mark.django_db
def test_an_unchanged_edit_writes_no_journal_entry(incident, agent):
    note = services.note_add(incident=incident, actor=agent, kind="comment", body="Same")
    services.note_edit(note=note, actor=agent, body="Same ")
    assert not [e for e in audit.entries_for(agent, incident) if e.field == "conversation"]


@pytest.mark.django_db
def test_a_refused_note_edit_journals_nothing(incident, agent, l1):
    note = services.note_add(incident=incident, actor=agent, kind="comment", body="Mine")
    with pytest.raises(NotAllowed):
        services.note_edit(note=note, actor=l1, body="Yours")
    assert not [e for e in audit.entries_for(agent, incident) if e.field == "conversation"]


# --- Deleted or changed meanwhile -----------------------------------------------------------


@pytest.mark.django_db
def test_a_note_deleted_meanwhile_is_not_found_for_edit_and_delete(incident, agent):
    note = services.note_add(incident=incident, actor=agent, kind="work_note", body="Gone soon")
    stale = IncidentNote.objects.get(pk=note.pk)
    services.note_delete(note=note, actor=agent)
    with pytest.raises(NotFound):
        services.note_delete(note=stale, actor=agent)
    with pytest.raises(NotFound):
        services.note_edit(note=stale, actor=agent, body="Too late")


@pytest.mark.django_db
def test_a_note_deleted_meanwhile_is_a_404_on_the_desk(client, agent, incident, monkeypatch):
    note = services.note_add(incident=incident, actor=agent, kind="work_note", body="Gone soon")
    load = services._note_for_edit

    def deleted_meanwhile(n, actor):
        IncidentNote.objects.filter(pk=n.pk).delete()  # another request's delete, just before ours
        return load(n, actor)

    monkeypatch.setattr(services, "_note_for_edit", deleted_meanwhile)
    client.force_login(agent)
    r = client.post(f"/desk/incidents/{incident.pk}/notes/{note.pk}/edit/", {"body": "Too late"})
    assert r.status_code == 404


@pytest.mark.django_db
def test_a_note_deleted_meanwhile_is_a_404_over_the_api(incident, agent, api, monkeypatch):
    note = services.note_add(incident=incident, actor=agent, kind="work_note", body="Gone soon")
    load = services._note_for_edit

    def deleted_meanwhile(n, actor):
        IncidentNote.objects.filter(pk=n.pk).delete()
        return load(n, actor)

    monkeypatch.setattr(services, "_note_for_edit", deleted_meanwhile)
    assert api.as_user(agent).delete(_note_url(incident, note)).status_code == 404


needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="racing requests need PostgreSQL row locks (run with DATABASE_URL=postgres://…)",
)
RACERS = 30


def _race(request_once) -> list:
    """Run ``request_once()`` in RACERS threads at once, each on its own connection; answer
    their status codes, or the exceptions they raised."""
    start = threading.Barrier(RACERS)
    results: list = []
    lock = threading.Lock()

    def worker():
        close_old_connections()
        try:
            start.wait(timeout=30)
            result = request_once()
        except BaseException as exc:  # reported by the test
            result = exc
        finally:
            connections.close_all()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=worker) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racer never finished"
    return results


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_racing_deletes_of_one_note_delete_it_once_and_answer_404_to_the_rest(customer, agent, api):
    incident = make_incident(requester=customer)
    note = services.note_add(incident=incident, actor=agent, kind="work_note", body="Delete me")
    url = _note_url(incident, note)
    api.as_user(agent)
    codes = _race(lambda: api.delete(url).status_code)
    assert sorted(codes, key=str) == [204] + [404] * (RACERS - 1)
    deleted = [e for e in audit.entries_for(agent, incident) if e.field == "work_journal"]
    assert len(deleted) == 1


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_racing_edits_and_deletes_of_one_note_never_answer_500(customer, agent, api):
    incident = make_incident(requester=customer)
    note = services.note_add(incident=incident, actor=agent, kind="comment", body="Version 0")
    url = _note_url(incident, note)
    api.as_user(agent)
    counter = iter(range(RACERS))

    def edit_or_delete():
        n = next(counter)
        if n % 3 == 0:
            return api.delete(url).status_code
        return api.patch(url, {"body": f"Version {n}"}, format="json").status_code

    codes = _race(edit_or_delete)
    assert set(codes) <= {200, 204, 404}, codes
    assert codes.count(204) == 1
    changes = [e for e in audit.entries_for(agent, incident) if e.field == "conversation"]
    assert len(changes) == codes.count(200) + 1
