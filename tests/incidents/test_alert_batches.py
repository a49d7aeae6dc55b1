"""Batches of alerts (``POST /api/v1/events/`` with a JSON list, ``incidents.alert_batches``).

A batch gives each alert the result it would get posted on its own, in order: the same
incidents, storms, duplicates, hosts, work notes and journal. All or nothing: a bad alert is a
400 naming ``[index].field``; at most 500 per post; only who may post events may post batches.
"""

import random
import threading
from collections import Counter

import pytest
from django.db import close_old_connections, connection, connections, transaction

from conftest import make_user
from incidents import alert_batches, alerts
from incidents.models import Alert, Incident, IncidentNote, Source
from itsm.models import AuditEntry, Host, HostGroup, ServiceTier
from itsm.roles import Role

URL = "/api/v1/events/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitor(db):
    """A monitoring service account: a user with a token, given the itsm_agent role."""
    return make_user("monitoring", Role.ITSM_AGENT)


def alert(**fields):
    values = {
        "source": "prometheus",
        "rule": "DiskFull",
        "host": "web01",
        "severity": "major",
        "message": "/var is 97% full",
        "fingerprint": "diskfull-web01",
    }
    values.update(fields)
    return values


def stream(n=160, seed=7):
    """A storm as a monitoring tool sends it: rules firing on many hosts (storms), fingerprints
    repeating on one host, severities going up and down, resends of events already sent (with
    and without event_id), hosts the CMDB does not know yet, another source with the same rule."""
    rng = random.Random(seed)
    sent = []
    for i in range(n):
        if sent and rng.random() < 0.12:
            sent.append(dict(rng.choice(sent)))  # a resend: the same event
            continue
        rule = rng.randrange(6)
        host = rng.randrange(5) if rule % 2 == 0 else rule  # even rules fire on many hosts
        body = alert(
            source=rng.choice(["prometheus", "prometheus", "zabbix"]),
            rule=f"rule{rule}",
            host=f"{'known' if host < 3 else 'new'}{host}",
            severity=rng.choice(["critical", "major", "minor", "warning"]),
            message=f"rule{rule} on host{host}",
            fingerprint=f"rule{rule}-host{host}",
        )
        if rng.random() < 0.8:
            body["event_id"] = f"e{i}"
        sent.append(body)
    return sent


def known_hosts():
    group = HostGroup.objects.create(name="Web", service_tier=ServiceTier.HIGH)
    for n in range(3):
        Host.objects.create(hostname=f"known{n}", host_group=group)


def outcome_of_everything(results):
    """What a user would compare: each post's outcome and incident, every incident's source,
    state, resolution, priority, hosts, alerts, related incidents, work notes and host journal.
    Incidents are named by their order of creation (ids differ between runs)."""
    incidents = list(Incident.objects.order_by("pk"))
    name = {i.pk: n for n, i in enumerate(incidents)}
    answers = [(r.outcome, name[r.incident.pk], r.alert.fingerprint, r.alert.severity) for r in results]
    described = []
    for i in incidents:
        described.append(
            {
                "source": i.source,
                "state": i.state,
                "resolution": i.resolution_code,
                "priority": (i.impact, i.urgency, i.priority),
                "organisation": i.organisation_id,
                "hosts": sorted(h.hostname for h in i.hosts.all()),
                "alerts": sorted(
                    (a.source, a.rule, a.fingerprint, a.host.hostname, a.severity, a.outcome)
                    for a in i.alerts.all()
                ),
                "related": sorted(name[r.pk] for r in i.related_incidents.all()),
                "notes": Counter((n.kind, n.body.replace(_number(n.body), "#")) for n in i.notes.all()),
                "host_journal": [
                    (e.old_value.count("(#"), e.new_value.count("(#"))
                    for e in AuditEntry.objects.filter(object_id=str(i.pk), field="hosts").order_by("pk")
                ],
            }
        )
    return {
        "answers": answers,
        "incidents": described,
        "alerts": Alert.objects.count(),
        "hosts": sorted(Host.objects.values_list("hostname", flat=True)),
    }


def _number(body):
    """Incident numbers differ between runs; the rest of a note must not."""
    words = [w.strip(".,") for w in body.split() if w.strip(".,").startswith("INC")]
    return words[0] if words else "\x00"


def one_by_one(actor, sent):
    return [alerts.event_ingest(actor=actor, payload=body) for body in sent]


def in_batches(actor, sent, sizes):
    results, i, n = [], 0, 0
    while i < len(sent):
        size = sizes[n % len(sizes)]
        results.extend(alert_batches.events_ingest(actor=actor, payloads=sent[i : i + size]))
        i, n = i + size, n + 1
    return results


def run_and_roll_back(do):
    with transaction.atomic():
        known_hosts()
        figures = outcome_of_everything(do())
        transaction.set_rollback(True)
    return figures


# --- The same results as one by one -----------------------------------------------------------


@pytest.mark.parametrize(
    "sizes", [[500], [1], [7, 3, 20], [50]], ids=["one-batch", "single", "mixed", "fifties"]
)
def test_a_batch_gives_exactly_the_results_of_posting_the_alerts_one_by_one(sizes, monitor):
    sent = stream()
    expected = run_and_roll_back(lambda: one_by_one(monitor, sent))
    assert Incident.objects.count() == 0
    got = run_and_roll_back(lambda: in_batches(monitor, sent, sizes))
    assert sum(1 for i in expected["incidents"] if i["source"] == Source.STORM) >= 2  # storms were formed
    assert Counter(a[0] for a in expected["answers"])["duplicate"] >= 5  # and resends answered
    assert got["answers"] == expected["answers"]
    assert got == expected


def test_a_resend_inside_one_batch_answers_the_first_alert(api, monitor):
    api.as_user(monitor)
    r = api.post(URL, [alert(event_id="x"), alert(event_id="y"), alert(event_id="x")], format="json")
    assert r.status_code == 201, r.content
    first, second, again = r.json()
    assert (first["outcome"], second["outcome"], again["outcome"]) == ("created", "attached", "duplicate")
    assert again["alert"] == first["alert"] and again["duplicate"] is True
    assert Alert.objects.count() == 2


def test_a_batch_of_events_all_received_before_answers_200(api, monitor):
    api.as_user(monitor)
    api.post(URL, [alert(event_id="x"), alert(event_id="y")], format="json")
    r = api.post(URL, [alert(event_id="y"), alert(event_id="x")], format="json")
    assert r.status_code == 200
    assert [a["outcome"] for a in r.json()] == ["duplicate", "duplicate"]
    assert Alert.objects.count() == 2


def test_a_batch_answers_each_alert_in_order_as_the_single_post_does(api, monitor):
    api.as_user(monitor)
    r = api.post(
        URL, [alert(host=f"web{n}", fingerprint=f"df{n}", event_id=f"e{n}") for n in range(4)], format="json"
    )
    assert r.status_code == 201
    body = r.json()
    assert [a["outcome"] for a in body] == ["created", "created", "storm", "storm"]
    storm = Incident.objects.get(source=Source.STORM)
    assert {a["incident"] for a in body[2:]} == {storm.pk} and body[3]["number"] == storm.number
    assert set(body[0]) == {"incident", "number", "alert", "outcome", "duplicate"}
    assert sorted(h.hostname for h in storm.hosts.all()) == ["web0", "web1", "web2", "web3"]
    assert set(Alert.objects.values_list("incident", flat=True)) == {storm.pk}


def test_a_batch_of_repeats_costs_the_same_queries_whatever_its_size(
    api, monitor, django_assert_max_num_queries
):
    """Repeats and storm joins are settled in memory: a batch of 300 costs a handful of queries,
    as a batch of 3 does (SQLite may split a large insert in a few statements)."""
    api.as_user(monitor)
    api.post(
        URL,
        [alert(host=f"web{n}", fingerprint=f"df{n}", event_id=f"warm{n}") for n in range(6)],
        format="json",
    )
    counts = []
    for size in (3, 300):
        batch = [
            alert(host=f"web{n % 6}", fingerprint=f"df{n % 6}", event_id=f"{size}-{n}", severity="minor")
            for n in range(size)
        ]
        with django_assert_max_num_queries(20) as captured:
            r = api.post(URL, batch, format="json")
        assert r.status_code == 201 and {a["outcome"] for a in r.json()} <= {"attached", "storm"}
        counts.append(len(captured))
    assert counts[1] <= counts[0] + 5
    assert Alert.objects.count() == 6 + 303


def test_a_repeat_in_a_batch_writes_a_work_note_only_for_a_new_host_or_a_worse_severity(api, monitor):
    api.as_user(monitor)
    api.post(URL, [alert(severity="minor", event_id="0")], format="json")
    incident = Incident.objects.get()
    r = api.post(
        URL,
        [
            alert(severity="minor", event_id="1"),  # plain repeat: no note
            alert(severity="critical", event_id="2"),  # worse: a note
            alert(severity="major", event_id="3"),  # not worse than critical: no note
            alert(host="web02", severity="minor", event_id="4"),  # new host: a note
        ],
        format="json",
    )
    assert r.status_code == 201
    notes = list(incident.notes.filter(kind=IncidentNote.Kind.WORK_NOTE).values_list("body", flat=True))
    assert len(notes) == 2 and "critical" in notes[0] and "web02" in notes[1]
    assert sorted(h.hostname for h in incident.hosts.all()) == ["web01", "web02"]
    assert (
        AuditEntry.objects.filter(object_id=str(incident.pk), field="hosts").count() == 2
    )  # created, joined


# --- Bad input, limits, who may post ----------------------------------------------------------


def test_a_bad_alert_in_a_batch_is_400_naming_its_index_and_field_and_nothing_is_written(api, monitor):
    api.as_user(monitor)
    r = api.post(
        URL, [alert(event_id="ok"), alert(host="no spaces"), alert(severity="fatal", rule="")], format="json"
    )
    assert r.status_code == 400
    body = r.json()
    assert set(body) == {"detail", "code", "[1].host", "[2].severity", "[2].rule"}
    assert "index 1, 2" in body["detail"] and "none was received" in body["detail"]
    assert (Alert.objects.count(), Incident.objects.count(), Host.objects.count()) == (0, 0, 0)


def test_an_unknown_field_in_a_batch_is_named_with_its_index(api, monitor):
    api.as_user(monitor)
    r = api.post(URL, [alert(), {**alert(), "priority": "P1"}], format="json")
    assert r.status_code == 400 and r.json()["[1].priority"] == ["This field is not accepted."]


@pytest.mark.parametrize("body", [[], ["text"], [[alert()]]], ids=["empty", "a-string", "nested-list"])
def test_a_batch_that_is_empty_or_holds_no_objects_is_400(body, api, monitor):
    api.as_user(monitor)
    r = api.post(URL, body, format="json")
    assert r.status_code == 400
    assert Alert.objects.count() == 0


def test_a_batch_of_more_than_500_alerts_is_400_and_500_is_accepted(api, monitor):
    api.as_user(monitor)
    too_many = [alert(event_id=f"e{n}") for n in range(501)]
    r = api.post(URL, too_many, format="json")
    assert r.status_code == 400 and "at most 500" in r.json()["detail"]
    assert Alert.objects.count() == 0
    r = api.post(URL, too_many[:500], format="json")
    assert r.status_code == 201 and len(r.json()) == 500
    assert Alert.objects.count() == 500 and Incident.objects.count() == 1


def test_a_customer_may_not_post_a_batch(customer, api):
    api.as_user(customer)
    r = api.post(URL, [alert()], format="json")
    assert r.status_code == 403
    assert Alert.objects.count() == 0


def test_an_unauthenticated_batch_is_refused(api):
    r = api.post(URL, [alert()], format="json")
    assert r.status_code in (401, 403)
    assert Alert.objects.count() == 0


def test_the_schema_documents_the_single_and_the_batch_form(api, agent):
    api.as_user(agent)
    r = api.get("/api/schema/", {"format": "json"})
    assert r.status_code == 200, r.content[:300]
    schema = r.json()
    body = schema["paths"]["/api/v1/events/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    one_of = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]["oneOf"]
    single = next(s for s in one_of if "$ref" in s)
    assert single["$ref"].startswith("#/components/schemas/EventInput")
    assert {"type": "array", "items": single} in one_of


# --- Concurrency (PostgreSQL: SQLite lets one writer at a time anyway) ------------------------

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent batches need PostgreSQL row locks; SQLite serialises writers "
    "(run with DATABASE_URL=postgres://…)",
)


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_batches_are_exact(monitor):
    """Four threads post overlapping batches (the same storms, the same fingerprints, some of the
    same events): every event stored once, every resend answered duplicate with the first alert,
    one open incident per fingerprint, one storm per storm rule listing every host sent."""
    rng = random.Random(3)
    bodies = []
    for n in range(400):
        rule = rng.randrange(8)
        host = rng.randrange(12) if rule % 2 == 0 else 0
        bodies.append(
            alert(rule=f"r{rule}", host=f"h{rule}-{host}", fingerprint=f"r{rule}-h{host}", event_id=f"e{n}",
                  severity=rng.choice(["critical", "major", "minor"]))
        )  # fmt: skip
    threads_n, per_thread = 4, 40
    plans = []
    for t in range(threads_n):
        own = bodies[t * 100 : (t + 1) * 100]
        shared = rng.sample(bodies, 30)  # events other threads send too
        mixed = own + shared
        rng.shuffle(mixed)
        plans.append([mixed[i : i + per_thread] for i in range(0, len(mixed), per_thread)])
    start = threading.Barrier(threads_n)
    results, errors = [], []
    lock = threading.Lock()

    def worker(plan):
        close_old_connections()
        try:
            start.wait(timeout=30)
            for batch in plan:
                answered = alert_batches.events_ingest(actor=monitor, payloads=batch)
                with lock:
                    results.extend(zip(batch, answered, strict=True))
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker never finished"
    assert not errors, errors

    sent = {b["event_id"] for b, _ in results}
    assert Alert.objects.count() == len(sent)  # each event once
    assert sorted(Alert.objects.values_list("event_id", flat=True)) == sorted(sent)
    first = {}
    for body, result in results:
        if not result.duplicate:
            assert body["event_id"] not in first, "an event was received twice"
            first[body["event_id"]] = result.alert.pk
    assert all(first[b["event_id"]] == r.alert.pk for b, r in results if r.duplicate)
    hosts_by_rule = {}
    for body in {b["event_id"]: b for b, _ in results}.values():
        hosts_by_rule.setdefault(body["rule"], set()).add(body["host"])
    storm_rules = {rule for rule, hosts in hosts_by_rule.items() if len(hosts) >= 3}
    storms = Incident.objects.filter(source=Source.STORM)
    assert storms.count() == len(storm_rules) > 0
    for storm in storms:
        rule = storm.alerts.values_list("rule", flat=True).first()
        assert {a.rule for a in storm.alerts.all()} == {rule}
        assert {h.hostname for h in storm.hosts.all()} == hosts_by_rule[rule]
    for rule in set(hosts_by_rule) - storm_rules:  # a repeating fingerprint: one incident
        assert Alert.objects.filter(rule=rule).values("incident").distinct().count() == 1
