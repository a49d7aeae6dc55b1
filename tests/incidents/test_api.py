"""The incident API beyond transitions (SPEC §5): notes (conversation vs work journal), the
timeline as each reader may see it, bulk acknowledge / resolve, time entries and reports, and
customer satisfaction (CSAT)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import services, workflows
from incidents.models import CsatResponse, Incident, TimeEntry
from itsm.models import AssignmentGroup, AuditEntry, GroupMembership
from tests.incidents.factories import make_incident
from tests.itsm.factories import make_group

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"


def _resolved(incident, agent, notes="Replaced the fuser.") -> Incident:
    incident = workflows.incident_start(incident=incident, actor=agent)
    return workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes=notes
    )


@pytest.fixture
def incident(customer):
    return make_incident(requester=customer)


# --- The list's reads ------------------------------------------------------------------------------


def _sql(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


def test_the_list_reads_only_the_ids_of_related_records_and_nothing_of_relations_the_reader_cannot_see(
    customer, agent, api
):
    first = make_incident(requester=customer, assignee=agent)
    second = make_incident(requester=customer)
    second.collaborators.add(agent)
    second.related_incidents.add(first)
    with CaptureQueriesContext(connection) as captured:
        body = api.as_user(agent).get(URL).json()
    rows = {row["id"]: row for row in body["results"]}
    assert rows[second.pk]["collaborators"] == [agent.pk]
    assert rows[second.pk]["related_incidents"] == [first.pk]
    assert rows[first.pk]["assignee"] == agent.pk and rows[first.pk]["requester"] == customer.pk
    related = [sql for sql in _sql(captured) if "_prefetch_related_val" in sql]
    assert len(related) == 6  # one per relation, each reading keys, not people's or records' rows
    assert not any('"password"' in sql or '"description"' in sql for sql in related)
    listing = [
        sql for sql in _sql(captured) if "LIMIT" in sql and "incidents_incident" in sql and sql not in related
    ]
    assert listing and not any("itsm_user" in sql for sql in listing)  # people are ids on the row

    with CaptureQueriesContext(connection) as captured:
        body = api.as_user(customer).get(URL).json()
    assert body["count"] == 2 and "collaborators" not in body["results"][0]
    assert not any("_prefetch_related_val" in sql for sql in _sql(captured))


# --- Notes ----------------------------------------------------------------------------------------


def _notes(api, user, incident, **params):
    r = api.as_user(user).get(f"{URL}{incident.pk}/notes/", params)
    assert r.status_code == 200, r.content
    return [(n["kind"], n["body"]) for n in r.json()]


def _add(api, user, incident, kind, body):
    return api.as_user(user).post(f"{URL}{incident.pk}/notes/", {"kind": kind, "body": body}, format="json")


def test_comments_and_work_notes_are_separate_streams(incident, customer, agent, api):
    assert _add(api, customer, incident, "comment", "Still broken").status_code == 201
    assert _add(api, agent, incident, "work_note", "Checked the fuser").status_code == 201
    assert _add(api, agent, incident, "comment", "Coming over").status_code == 201
    assert _notes(api, agent, incident, kind="comment") == [
        ("comment", "Still broken"),
        ("comment", "Coming over"),
    ]
    assert _notes(api, agent, incident, kind="work_note") == [("work_note", "Checked the fuser")]
    assert len(_notes(api, agent, incident)) == 3


def test_customer_notes_list_has_no_work_notes(incident, customer, agent, api):
    _add(api, agent, incident, "work_note", "Secret fuser-7781 diagnosis")
    _add(api, agent, incident, "comment", "Coming over")
    assert _notes(api, customer, incident) == [("comment", "Coming over")]
    assert _notes(api, customer, incident, kind="work_note") == []
    r = api.as_user(customer).get(f"{URL}{incident.pk}/notes/", {"kind": "work_note"})
    assert "fuser-7781" not in r.content.decode()


def test_customer_cannot_add_a_work_note(incident, customer, api):
    r = _add(api, customer, incident, "work_note", "Let me in")
    assert r.status_code == 403, r.content
    assert not incident.notes.exists()


def test_customer_comments_on_its_own_incident_but_not_on_someone_elses(incident, customer, customer2, api):
    assert _add(api, customer, incident, "comment", "Any news?").status_code == 201
    assert _add(api, customer2, incident, "comment", "Me too").status_code == 404
    assert list(incident.notes.values_list("author__username", flat=True)) == ["customer"]


@pytest.mark.parametrize(
    ("body", "field"), [({"kind": "memo", "body": "x"}, "kind"), ({"kind": "comment", "body": " "}, "body")]
)
def test_a_bad_note_is_400_naming_the_field(body, field, incident, agent, api):
    r = api.as_user(agent).post(f"{URL}{incident.pk}/notes/", body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()
    assert not incident.notes.exists()


def _note_url(incident, note):
    return f"{URL}{incident.pk}/notes/{note.pk}/"


def test_only_the_author_or_an_itsm_administrator_edits_a_note(incident, agent, l1, manager, api):
    note = services.note_add(incident=incident, actor=agent, kind="work_note", body="First look")
    r = api.as_user(l1).patch(_note_url(incident, note), {"body": "Hijacked"}, format="json")
    assert r.status_code == 403, r.content
    note.refresh_from_db()
    assert note.body == "First look"
    r = api.as_user(agent).patch(_note_url(incident, note), {"body": "Second look"}, format="json")
    assert (r.status_code, r.json()["body"]) == (200, "Second look")
    r = api.as_user(manager).patch(_note_url(incident, note), {"body": "Moderated"}, format="json")
    assert (r.status_code, r.json()["body"]) == (200, "Moderated")


def test_only_the_author_or_an_itsm_administrator_deletes_a_note(incident, agent, l1, lead, manager, api):
    mine = services.note_add(incident=incident, actor=agent, kind="comment", body="One")
    theirs = services.note_add(incident=incident, actor=agent, kind="comment", body="Two")
    for user in (l1, lead):
        assert api.as_user(user).delete(_note_url(incident, mine)).status_code == 403
    assert incident.notes.count() == 2
    assert api.as_user(agent).delete(_note_url(incident, mine)).status_code == 204
    assert api.as_user(manager).delete(_note_url(incident, theirs)).status_code == 204
    assert not incident.notes.exists()


def test_customer_edits_its_own_comment_but_not_an_agents(incident, customer, agent, api):
    own = services.note_add(incident=incident, actor=customer, kind="comment", body="Typo")
    agents = services.note_add(incident=incident, actor=agent, kind="comment", body="Reply")
    r = api.as_user(customer).patch(_note_url(incident, own), {"body": "Fixed typo"}, format="json")
    assert (r.status_code, r.json()["body"]) == (200, "Fixed typo")
    r = api.as_user(customer).patch(_note_url(incident, agents), {"body": "Nope"}, format="json")
    assert r.status_code == 403, r.content
    agents.refresh_from_db()
    assert agents.body == "Reply"


def test_a_work_note_is_404_for_the_customer_like_a_missing_note(incident, customer, agent, api):
    note = services.note_add(incident=incident, actor=agent, kind="work_note", body="Internal")
    client = api.as_user(customer)
    r = client.patch(_note_url(incident, note), {"body": "Peek"}, format="json")
    missing = client.patch(f"{URL}{incident.pk}/notes/999999/", {"body": "Peek"}, format="json")
    assert r.status_code == missing.status_code == 404
    assert client.delete(_note_url(incident, note)).status_code == 404
    note.refresh_from_db()
    assert note.body == "Internal"


def test_a_note_of_another_incident_is_404_under_this_one(customer, agent, api):
    a, b = (
        make_incident(requester=customer, short_description="A"),
        make_incident(requester=customer, short_description="B"),
    )
    note = services.note_add(incident=b, actor=agent, kind="comment", body="On B")
    r = api.as_user(agent).patch(f"{URL}{a.pk}/notes/{note.pk}/", {"body": "moved"}, format="json")
    assert r.status_code == 404


# --- Timeline -------------------------------------------------------------------------------------

SECRETS = {
    "priority": "P1",
    "impact": 1,
    "urgency": 1,
    "classification": "cls-kestrel-19",
    "service": "svc-heron-58",
    "major_incident_review": "review-osprey-33",
}


@pytest.fixture
def eventful(customer, agent, l1):
    """An incident that has been through comments, work notes, field changes on hidden and
    visible fields, an assignment, a resolution with notes and a reopen."""
    incident = make_incident(requester=customer, short_description="Badge reader broken")
    group = AssignmentGroup.objects.create(name="grp-plover-77")
    GroupMembership.objects.create(group=group, user=l1)
    services.note_add(incident=incident, actor=customer, kind="comment", body="It beeps red")
    services.note_add(incident=incident, actor=agent, kind="work_note", body="wn-curlew-64 firmware")
    incident = services.incident_update(
        incident=incident, actor=agent, data={**SECRETS, "description": "desc-visible"}
    )
    incident = services.incident_assign(incident=incident, actor=agent, assignee=l1, assignment_group=group)
    incident = workflows.incident_start(incident=incident, actor=agent)
    incident = workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="workaround", resolution_notes="rn-dunlin-21 reset"
    )
    incident = workflows.incident_reopen(incident=incident, actor=agent, notes="ro-godwit-45 again")
    return incident


def _timeline(api, user, incident):
    r = api.as_user(user).get(f"{URL}{incident.pk}/timeline/")
    assert r.status_code == 200, r.content
    return r.json(), r.content.decode()


def test_timeline_merges_comments_journal_transitions_and_field_changes(eventful, agent, api):
    items, body = _timeline(api, agent, eventful)
    types = {item["type"] for item in items}
    assert {"comment", "work_note", "create", "update", "transition"} <= types
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    fields = {item["field"] for item in items if item["type"] == "update"}
    assert {
        "priority",
        "impact",
        "urgency",
        "assignee",
        "assignment_group",
        "resolution_notes",
        "description",
    } <= fields
    transitions = [item["text"] for item in items if item["type"] == "transition"]
    assert transitions == ["start", "resolve", "reopen"]
    for marker in (
        "wn-curlew-64",
        "rn-dunlin-21",
        "[Reopened] ro-godwit-45",
        "grp-plover-77",
        "It beeps red",
    ):
        assert marker in body


HIDDEN_IN_TIMELINE = {
    "priority", "impact", "urgency", "classification", "service", "major_incident_review", "assignee",
    "assignment_group", "resolution_notes", "work_journal",
}  # fmt: skip


def test_customer_timeline_has_no_work_notes_and_nothing_about_hidden_fields(eventful, customer, api):
    items, body = _timeline(api, customer, eventful)
    assert {item["type"] for item in items} >= {"comment", "transition"}
    assert "work_note" not in {item["type"] for item in items}
    assert not {item["field"] for item in items} & HIDDEN_IN_TIMELINE
    for secret in ("wn-curlew-64", "ro-godwit-45", "rn-dunlin-21", "grp-plover-77", "cls-kestrel-19",
                   "svc-heron-58", "review-osprey-33", "l1"):  # fmt: skip
        assert secret not in body, secret
    assert "It beeps red" in body
    assert "desc-visible" in body
    assert [item["text"] for item in items if item["type"] == "transition"] == ["start", "resolve", "reopen"]


def test_another_customers_timeline_is_404(eventful, customer2, api):
    assert api.as_user(customer2).get(f"{URL}{eventful.pk}/timeline/").status_code == 404


# --- Bulk -----------------------------------------------------------------------------------------


def _bulk(api, user, **body):
    return api.as_user(user).post(f"{URL}bulk/", body, format="json")


def test_bulk_acknowledge_answers_requested_affected_and_unchanged(customer, customer2, agent, api):
    a, b = (
        make_incident(requester=customer, short_description="A"),
        make_incident(requester=customer2, short_description="B"),
    )
    done = _resolved(make_incident(requester=customer, short_description="C"), agent)
    r = _bulk(api, agent, action="acknowledge", ids=[a.pk, b.pk, done.pk], comment="Taking these")
    assert r.status_code == 200, r.content
    body = r.json()
    assert {k: body[k] for k in ("requested", "affected", "unchanged")} == {
        "requested": 3,
        "affected": 2,
        "unchanged": 1,
    }
    [refusal] = body["refused"]
    assert (refusal["id"], refusal["number"]) == (done.pk, done.number)
    assert "resolved" in refusal["reason"]
    for incident in (a, b):
        incident.refresh_from_db()
        assert (incident.state, incident.assignee) == ("in_progress", agent)
        assert incident.notes.get().body == "Taking these"
    done.refresh_from_db()
    assert (done.state, done.assignee) == ("resolved", None)


def test_bulk_resolve_resolves_each_with_the_comment(customer, agent, api):
    a, b = (
        make_incident(requester=customer, short_description="A"),
        make_incident(requester=customer, short_description="B"),
    )
    r = _bulk(
        api, agent, action="resolve", ids=[a.pk, b.pk], comment="Outage over", resolution_code="workaround"
    )
    assert r.json() == {"requested": 2, "affected": 2, "unchanged": 0, "refused": []}
    for incident in (a, b):
        incident.refresh_from_db()
        assert (incident.state, incident.resolution_code, incident.resolution_notes) == (
            "resolved", "workaround", "Outage over",
        )  # fmt: skip
        assert incident.notes.filter(kind="work_note", body="Outage over").exists()


def _bulk_assign_queries(customer, agent, l1, group, n, django_assert_max_num_queries) -> int:
    ids = [make_incident(requester=customer, short_description=f"Disk {k}").pk for k in range(n)]
    # The bulk runner's own few, then per incident: its savepoints, the lock, the membership
    # check, the write and its version, the journal, the withdrawn "needs you".
    with django_assert_max_num_queries(3 + 10 * n) as captured:
        body = services.incident_bulk(
            actor=agent, action="assign", ids=ids, assignee=l1, assignment_group=group
        )
    assert body["affected"] == n
    assigned = Incident.objects.filter(pk__in=ids).values_list("assignee", "assignment_group")
    assert set(assigned) == {(l1.pk, group.pk)}
    return len(captured.captured_queries)


def test_bulk_assign_costs_the_same_queries_for_each_incident_whatever_their_number(
    customer, agent, l1, django_assert_max_num_queries
):
    group = make_group("Desk", members=[l1])
    two = _bulk_assign_queries(customer, agent, l1, group, 2, django_assert_max_num_queries)
    six = _bulk_assign_queries(customer, agent, l1, group, 6, django_assert_max_num_queries)
    assert (six - two) / 4 <= 10  # each further incident: no look-up of its own beyond these


def test_bulk_counts_missing_ids_as_unchanged(customer, agent, api):
    incident = make_incident(requester=customer, short_description="Mine")
    r = _bulk(api, agent, action="acknowledge", ids=[incident.pk, 999999], comment="Taking it")
    assert r.status_code == 200, r.content
    assert r.json() == {
        "requested": 2, "affected": 1, "unchanged": 1,
        "refused": [{"id": 999999, "number": None, "reason": "Not found."}],
    }  # fmt: skip


def test_bulk_refuses_a_customer_before_reading_its_body(customer, api):
    """A customer learns it may not act in bulk, not which fields its body got wrong."""
    r = _bulk(api, customer, action="no-such-action", ids="not a list")
    assert r.status_code == 403, r.content
    assert "ids" not in r.json() and "action" not in r.json()


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_bulk_refuses_customers_with_403(action, customer, customer2, api):
    """A customer may take neither bulk action on any incident: refused outright, not answered
    with counts; nothing changes."""
    own, other = (
        make_incident(requester=customer, short_description="Mine"),
        make_incident(requester=customer2, short_description="Theirs"),
    )
    r = _bulk(api, customer, action=action, ids=[own.pk, other.pk, 999999], comment="Me")
    assert r.status_code == 403, r.content
    for incident in (own, other):
        incident.refresh_from_db()
        assert (incident.state, incident.assignee, incident.version) == ("new", None, 1)
        assert not incident.notes.exists()


def test_bulk_resolve_leaves_incidents_whose_state_forbids_it(customer, agent, api):
    closed = workflows.incident_close(
        incident=_resolved(make_incident(requester=customer), agent), actor=agent
    )
    version = closed.version
    r = _bulk(api, agent, action="resolve", ids=[closed.pk], comment="Again")
    body = r.json()
    assert (body["affected"], body["unchanged"], body["refused"][0]["number"]) == (0, 1, closed.number)
    closed.refresh_from_db()
    assert (closed.state, closed.version) == ("closed", version)
    assert not closed.notes.filter(body="Again").exists()


def test_bulk_above_100_ids_is_400_naming_ids(customer, agent, api):
    incident = make_incident(requester=customer)
    r = _bulk(api, agent, action="acknowledge", ids=[incident.pk] + list(range(10_000, 10_100)), comment="x")
    assert r.status_code == 400, r.content
    assert "ids" in r.json()
    incident.refresh_from_db()
    assert incident.state == "new"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "delete", "ids": [1], "comment": "x"}, "action"),
        ({"action": "resolve", "ids": [], "comment": "x"}, "ids"),
        ({"action": "resolve", "ids": ["a"], "comment": "x"}, "ids"),
        ({"action": "resolve", "ids": [1], "comment": ""}, "comment"),
        ({"action": "resolve", "ids": [1], "comment": "x", "resolution_code": "fixed"}, "resolution_code"),
        ({"action": "assign", "ids": [1]}, "assignee"),
        ({"action": "assign", "ids": [1], "assignee": 2**70}, "assignee"),
    ],
)
def test_bad_bulk_input_is_400_naming_the_field(body, field, agent, api):
    r = api.as_user(agent).post(f"{URL}bulk/", body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()


def test_the_bulk_service_itself_refuses_more_than_100_ids(agent):
    from itsm.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        services.incident_bulk(actor=agent, action="acknowledge", ids=list(range(1, 102)), comment="x")
    assert "ids" in exc.value.fields


# --- Time entries ----------------------------------------------------------------------------------


def _log(api, user, incident, **body):
    return api.as_user(user).post(f"{URL}{incident.pk}/time-entries/", body, format="json")


def test_agent_logs_time_with_minutes_billable_date_note_and_author(incident, agent, api):
    r = _log(api, agent, incident, minutes=45, billable=False, date="2024-03-05", note="Remote session")
    assert r.status_code == 201, r.content
    body = r.json()
    assert {k: body[k] for k in ("minutes", "billable", "date", "note", "author")} == {
        "minutes": 45, "billable": False, "date": "2024-03-05", "note": "Remote session", "author": "agent",
    }  # fmt: skip
    entry = TimeEntry.objects.get()
    assert (entry.incident, entry.author, entry.date) == (incident, agent, date(2024, 3, 5))


def test_time_totals_roll_up_billable_and_non_billable(incident, agent, l1, api):
    _log(api, agent, incident, minutes=30)
    _log(api, agent, incident, minutes=15, billable=False)
    _log(api, l1, incident, minutes=60, billable=True)
    other = make_incident(requester=incident.requester, short_description="Other")
    _log(api, agent, other, minutes=500)
    r = api.as_user(agent).get(f"{URL}{incident.pk}/time-entries/")
    assert r.status_code == 200, r.content
    assert r.json()["totals"] == {"total": 105, "billable": 90, "non_billable": 15, "entries": 3}
    assert len(r.json()["entries"]) == 3


def test_customer_cannot_log_or_read_time(incident, customer, agent, api):
    services.time_entry_add(incident=incident, actor=agent, minutes=20)
    r = _log(api, customer, incident, minutes=10)
    assert r.status_code == 403, r.content
    r = api.as_user(customer).get(f"{URL}{incident.pk}/time-entries/")
    assert r.status_code == 403, r.content
    assert "minutes" not in r.json()
    assert TimeEntry.objects.count() == 1


@pytest.mark.parametrize("minutes", [0, -5, 1441, "ten", None, 1.5])
def test_invalid_minutes_are_400_naming_minutes(minutes, incident, agent, api):
    r = _log(api, agent, incident, minutes=minutes)
    assert r.status_code == 400, r.content
    assert "minutes" in r.json()
    assert not TimeEntry.objects.exists()


def test_the_time_service_itself_refuses_invalid_minutes(incident, agent):
    from itsm.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        services.time_entry_add(incident=incident, actor=agent, minutes=0)
    assert "minutes" in exc.value.fields


@pytest.fixture
def logged(customer, agent, l1, other_organisation):
    """Time in March and April 2024 by two agents on two organisations' incidents."""
    from conftest import make_user
    from itsm.roles import PERSONAS, Persona

    globex = make_user("globex", *PERSONAS[Persona.EVERYONE], organisation=other_organisation)
    acme, gx = (
        make_incident(requester=customer, short_description="Acme"),
        make_incident(requester=globex, short_description="Globex"),
    )
    for incident, actor, minutes, billable, on in [
        (acme, agent, 30, True, date(2024, 3, 4)),
        (acme, agent, 10, False, date(2024, 3, 20)),
        (gx, l1, 60, True, date(2024, 3, 21)),
        (gx, agent, 5, True, date(2024, 4, 2)),
        (acme, l1, 999, True, date(2024, 6, 1)),  # outside the period asked below
    ]:
        services.time_entry_add(incident=incident, actor=actor, minutes=minutes, billable=billable, on=on)


REPORT = f"{URL}time-report/"


def test_time_report_by_user_and_month(logged, agent, api):
    r = api.as_user(agent).get(
        REPORT, {"start": "2024-03-01", "end": "2024-04-30", "period": "month", "group_by": "user"}
    )
    assert r.status_code == 200, r.content
    rows = [
        (row["period"][:7], row["user"], row["minutes"], row["billable"], row["non_billable"])
        for row in r.json()
    ]
    assert rows == [
        ("2024-03", "agent", 40, 30, 10),
        ("2024-03", "l1", 60, 60, 0),
        ("2024-04", "agent", 5, 5, 0),
    ]


def test_time_report_by_organisation(logged, agent, api):
    r = api.as_user(agent).get(
        REPORT, {"start": "2024-03-01", "end": "2024-04-30", "group_by": "organisation"}
    )
    assert r.status_code == 200, r.content
    rows = [(row["period"][:7], row["organisation"], row["minutes"]) for row in r.json()]
    assert rows == [("2024-03", "Acme", 40), ("2024-03", "Globex", 60), ("2024-04", "Globex", 5)]


def test_time_report_by_day(logged, agent, api):
    r = api.as_user(agent).get(REPORT, {"start": "2024-03-20", "end": "2024-03-21", "period": "day"})
    assert r.status_code == 200, r.content
    assert [(row["period"][:10], row["minutes"]) for row in r.json()] == [
        ("2024-03-20", 10),
        ("2024-03-21", 60),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2024-13-01", "end": "2024-12-31"}, "start"),
        ({"start": "2024-01-01", "end": "yesterday"}, "end"),
        ({"end": "2024-12-31"}, "start"),
        ({"start": "2024-05-01", "end": "2024-04-01"}, "end"),
        ({"start": "2024-01-01", "end": "2024-12-31", "period": "year"}, "period"),
        ({"start": "2024-01-01", "end": "2024-12-31", "group_by": "priority"}, "group_by"),
    ],
)
def test_a_bad_time_report_query_is_400_naming_the_field(params, field, agent, api):
    r = api.as_user(agent).get(REPORT, params)
    assert r.status_code == 400, r.content
    assert field in r.json()


def test_customer_cannot_read_the_time_report(logged, customer, api):
    r = api.as_user(customer).get(REPORT, {"start": "2024-03-01", "end": "2024-04-30"})
    assert r.status_code == 403, r.content
    assert "minutes" not in r.content.decode()


# --- CSAT ------------------------------------------------------------------------------------------


def _rate(api, user, incident, rating, comment=""):
    return api.as_user(user).post(
        f"{URL}{incident.pk}/csat/", {"rating": rating, "comment": comment}, format="json"
    )


@pytest.mark.parametrize("state", ["new", "in_progress", "on_hold", "cancelled"])
def test_csat_is_refused_before_resolution_with_a_clear_message(state, incident, customer, agent, api):
    step = {
        "new": [],
        "in_progress": [workflows.incident_start],
        "on_hold": [workflows.incident_hold],
        "cancelled": [workflows.incident_cancel],
    }[state]
    for call in step:
        incident = call(incident=incident, actor=agent)
    r = _rate(api, customer, incident, 5)
    assert r.status_code == 403, r.content
    assert "resolved" in r.json()["detail"]
    assert not CsatResponse.objects.exists()


@pytest.mark.parametrize("closed", [False, True])
def test_customer_rates_a_resolved_or_closed_incident(closed, incident, customer, agent, api):
    incident = _resolved(incident, agent)
    if closed:
        incident = workflows.incident_close(incident=incident, actor=agent)
    r = _rate(api, customer, incident, 4, "Quick fix")
    assert r.status_code == 200, r.content
    assert (r.json()["rating"], r.json()["actor"]) == (4, "customer")
    assert CsatResponse.objects.get().comment == "Quick fix"


def test_a_second_csat_submission_updates_the_first(incident, customer, agent, api):
    incident = _resolved(incident, agent)
    _rate(api, customer, incident, 2, "Slow")
    r = _rate(api, customer, incident, 5, "Fine after all")
    assert r.status_code == 200, r.content
    response = CsatResponse.objects.get()
    assert (response.rating, response.comment, response.actor) == (5, "Fine after all", customer)


@pytest.mark.parametrize("rating", [0, 6, -1, "great", None])
def test_a_rating_outside_1_to_5_is_400_naming_rating(rating, incident, customer, agent, api):
    incident = _resolved(incident, agent)
    r = _rate(api, customer, incident, rating)
    assert r.status_code == 400, r.content
    assert "rating" in r.json()
    assert not CsatResponse.objects.exists()


def test_an_agent_cannot_rate_and_another_customer_gets_404(incident, customer2, agent, api):
    incident = _resolved(incident, agent)
    r = _rate(api, agent, incident, 5)
    assert r.status_code == 403, r.content
    assert _rate(api, customer2, incident, 1).status_code == 404
    assert not CsatResponse.objects.exists()


def test_the_requested_for_person_rates_too_one_response_each(customer, customer2, agent, api):
    incident = services.incident_create(
        actor=customer, data={"short_description": "x", "requested_for": customer2}
    )
    incident = _resolved(incident, agent)
    assert _rate(api, customer, incident, 5).status_code == 200
    assert _rate(api, customer2, incident, 2).status_code == 200
    r = api.as_user(agent).get(f"{URL}{incident.pk}/csat/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["average"], body["count"]) == (3.5, 2)
    assert body["breakdown"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert sorted(row["actor"] for row in body["responses"]) == ["customer", "customer2"]


def test_csat_report_by_organisation_and_period(customer, agent, api, other_organisation):
    a, b = (
        _resolved(make_incident(requester=customer, short_description="A"), agent),
        _resolved(make_incident(requester=customer, short_description="B"), agent),
    )
    services.csat_submit(incident=a, actor=customer, rating=5)
    services.csat_submit(incident=b, actor=customer, rating=2)
    today = date.today().isoformat()
    r = api.as_user(agent).get(f"{URL}csat-report/", {"start": today, "end": today, "period": "day"})
    assert r.status_code == 200, r.content
    assert [(row["organisation"], row["average"], row["count"]) for row in r.json()] == [("Acme", 3.5, 2)]


@pytest.mark.parametrize(
    ("params", "field"), [({"start": "x", "end": "2024-01-01"}, "start"), ({"start": "2024-01-01"}, "end")]
)
def test_a_bad_csat_report_query_is_400_naming_the_field(params, field, agent, api):
    r = api.as_user(agent).get(f"{URL}csat-report/", params)
    assert r.status_code == 400, r.content
    assert field in r.json()


def test_customer_cannot_read_the_csat_report(customer, api):
    r = api.as_user(customer).get(f"{URL}csat-report/", {"start": "2024-01-01", "end": "2024-01-31"})
    assert r.status_code == 403, r.content


def test_no_audit_entry_mentions_a_csat_refusal(incident, customer, api):
    before = AuditEntry.objects.count()
    _rate(api, customer, incident, 5)
    assert AuditEntry.objects.count() == before
