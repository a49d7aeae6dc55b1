"""Alerts into incidents (SPEC §5): ``POST /api/v1/events/`` from a monitoring service account.

A new alert makes an enriched incident; a repeat of an open alert's fingerprint is attached to
its incident; the same rule on 3+ hosts within 5 minutes is one storm incident; the same event
twice has one effect; bad payloads are 400 naming the field; unknown hosts go to "Unassigned".
"""

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection, connections
from django.db.models import F

from conftest import make_user
from incidents import alerts, workflows
from incidents.api.events import EventInput
from incidents.enrichment import Severity
from incidents.models import Alert, Incident, IncidentNote, Source
from itsm.models import AuditEntry, Host, HostGroup, ServiceTier
from itsm.roles import Role

URL = "/api/v1/events/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitor(db):
    """A monitoring service account: a user with a token, given the itsm_agent role."""
    return make_user("monitoring", Role.ITSM_AGENT)


@pytest.fixture
def post(api, monitor):
    api.as_user(monitor)

    def post(**fields):
        return api.post(URL, payload(**fields), format="json")

    return post


def payload(**fields):
    values = {
        "source": "prometheus",
        "rule": "DiskFull",
        "host": "web01",
        "severity": "major",
        "message": "/var is 97% full",
        "fingerprint": "diskfull-web01",
    }
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def host_in(tier, name="web01", organisation=None):
    group, _ = HostGroup.objects.get_or_create(name=f"Tier {tier}", defaults={"service_tier": tier})
    return Host.objects.create(hostname=name, host_group=group, organisation=organisation)


def backdate(minutes, **lookup):
    Alert.objects.filter(**lookup).update(received_at=F("received_at") - timedelta(minutes=minutes))


def incident_of(response):
    return Incident.objects.get(pk=response.json()["incident"])


# --- A new alert ------------------------------------------------------------------------------


def test_a_new_alert_creates_an_incident_raised_by_the_service_account(post, monitor, organisation):
    host = host_in(ServiceTier.MEDIUM, organisation=organisation)
    r = post()
    assert r.status_code == 201, r.content
    body = r.json()
    incident = incident_of(r)
    alert = Alert.objects.get()
    assert body == {
        "incident": incident.pk,
        "number": incident.number,
        "alert": alert.pk,
        "outcome": "created",
        "duplicate": False,
    }
    assert (incident.state, incident.source) == ("new", Source.ALERT)
    assert (incident.category, incident.subcategory) == ("Monitoring", "Metric alert")
    assert incident.requester == monitor
    assert incident.organisation == organisation  # from the host, not from the service account
    assert list(incident.hosts.all()) == [host]
    assert "DiskFull on web01" in incident.short_description
    assert "/var is 97% full" in incident.description
    assert (alert.incident, alert.host, alert.posted_by, alert.outcome) == (
        incident,
        host,
        monitor,
        "created",
    )


# Written out from SPEC §5 and incidents/enrichment.py: urgency critical 1, major 2, other 3;
# impact the same from severity, one level higher on a critical-tier host (or, for a low base,
# a high-tier host); priority from the default impact × urgency matrix.
ENRICHMENT = [
    ("critical", ServiceTier.CRITICAL, 1, 1, "P1"),
    ("critical", ServiceTier.LOW, 1, 1, "P1"),
    ("major", ServiceTier.CRITICAL, 1, 2, "P2"),
    ("major", ServiceTier.HIGH, 2, 2, "P3"),
    ("major", ServiceTier.MEDIUM, 2, 2, "P3"),
    ("minor", ServiceTier.CRITICAL, 2, 3, "P4"),
    ("minor", ServiceTier.HIGH, 2, 3, "P4"),
    ("minor", ServiceTier.LOW, 3, 3, "P4"),
    ("warning", ServiceTier.MEDIUM, 3, 3, "P4"),
    ("info", ServiceTier.LOW, 3, 3, "P4"),
]


@pytest.mark.parametrize(("severity", "tier", "impact", "urgency", "priority"), ENRICHMENT)
def test_a_new_alerts_incident_is_enriched_from_severity_and_service_tier(
    severity, tier, impact, urgency, priority, post
):
    host_in(tier)
    r = post(severity=severity)
    assert r.status_code == 201, r.content
    incident = incident_of(r)
    assert (incident.impact, incident.urgency, incident.priority) == (impact, urgency, priority)


def test_an_event_kind_makes_an_incident_of_source_event(post):
    host_in(ServiceTier.MEDIUM)
    incident = incident_of(post(kind="event"))
    assert incident.source == Source.EVENT
    assert (incident.category, incident.subcategory) == ("Monitoring", "Event")


def test_a_host_without_an_organisation_takes_its_groups(post, organisation):
    group = HostGroup.objects.create(
        name="Payments", service_tier=ServiceTier.HIGH, organisation=organisation
    )
    Host.objects.create(hostname="pay01", host_group=group)
    assert incident_of(post(host="pay01")).organisation == organisation


def test_the_created_incident_is_visible_to_agents_in_the_incidents_api(post, agent, api):
    host_in(ServiceTier.MEDIUM)
    number = post().json()["number"]
    r = api.as_user(agent).get("/api/v1/incidents/", {"source": "alert"})
    assert r.status_code == 200
    assert [i["number"] for i in r.json()["results"]] == [number]


# --- Repeats of a fingerprint -----------------------------------------------------------------


def test_a_repeat_of_an_open_alerts_fingerprint_is_attached_to_its_incident(post):
    host_in(ServiceTier.MEDIUM)
    first = post(message="/var is 97% full")
    second = post(message="/var is 98% full")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["outcome"] == "attached"
    assert second.json()["incident"] == first.json()["incident"]
    assert Incident.objects.count() == 1
    assert Alert.objects.filter(incident_id=first.json()["incident"]).count() == 2


@pytest.mark.parametrize("state", ["in_progress", "on_hold"])
def test_a_repeat_is_attached_while_the_incident_is_still_open(state, post, agent):
    host_in(ServiceTier.MEDIUM)
    incident = incident_of(post(message="one"))
    workflows.incident_start(incident=incident, actor=agent)
    if state == "on_hold":
        workflows.incident_hold(incident=incident, actor=agent, reason="waiting for the vendor")
    assert post(message="two").json()["incident"] == incident.pk


@pytest.mark.parametrize("end", ["resolve", "cancel"])
def test_a_repeat_after_the_incident_is_resolved_or_cancelled_creates_a_new_incident(end, post, agent):
    host_in(ServiceTier.MEDIUM)
    incident = incident_of(post(message="one"))
    if end == "resolve":
        workflows.incident_resolve(
            incident=incident, actor=agent, resolution_code="resolved", resolution_notes="rm"
        )
    else:
        workflows.incident_cancel(incident=incident, actor=agent)
    r = post(message="two")
    assert r.status_code == 201
    assert r.json()["outcome"] == "created"
    assert r.json()["incident"] != incident.pk
    assert Incident.objects.count() == 2


def test_the_same_fingerprint_from_another_source_is_another_alert(post):
    host_in(ServiceTier.MEDIUM)
    first = post(source="prometheus")
    second = post(source="nagios")
    assert second.json()["outcome"] == "created"
    assert second.json()["incident"] != first.json()["incident"]


def test_a_repeat_on_another_host_adds_the_host_and_a_work_note(post):
    web01 = host_in(ServiceTier.MEDIUM)
    web02 = host_in(ServiceTier.MEDIUM, "web02")
    incident = incident_of(post())
    version = incident.version
    post(host="web02", message="also here")
    incident.refresh_from_db()
    assert set(incident.hosts.all()) == {web01, web02}
    assert incident.version == version + 1
    notes = list(incident.notes.filter(kind=IncidentNote.Kind.WORK_NOTE).values_list("body", flat=True))
    assert len(notes) == 1 and "web02" in notes[0]
    assert AuditEntry.objects.filter(object_id=str(incident.pk), field="hosts").count() == 2  # create + add


def test_a_plain_repeat_adds_no_work_note_but_a_worse_severity_does(post):
    host_in(ServiceTier.MEDIUM)
    incident = incident_of(post(severity="major", message="one"))
    post(severity="major", message="two")
    post(severity="minor", message="three")
    assert not incident.notes.exists()
    post(severity="critical", message="four")
    assert list(incident.notes.values_list("body", flat=True)) == [
        "Alert repeats on web01 (critical): DiskFull: four"
    ]


@pytest.mark.parametrize(
    ("has_host", "has_as_severe", "adds_host", "notes"),
    [
        (True, True, False, False),  # a plain repeat: nothing but the alert
        (True, False, False, True),  # worse than any before: a note
        (False, True, True, True),  # a new host: it joins, with a note
        (False, False, True, True),
    ],
    ids=["plain-repeat", "worse", "new-host", "new-host-and-worse"],
)
def test_an_attached_alert_adds_its_host_when_new_and_a_note_only_for_a_new_host_or_a_worse_severity(
    has_host, has_as_severe, adds_host, notes
):
    # The one rule the single post (alerts._attach) and the batch (alert_batches) both apply;
    # test_alert_batches checks that the two give the same notes, hosts and journal.
    effect = alerts.attaching(has_host=has_host, has_as_severe=has_as_severe)
    assert (effect.adds_host, effect.notes) == (adds_host, notes)


def test_a_repeat_costs_a_fixed_few_queries_however_many_alerts_its_incident_has(
    post, django_assert_max_num_queries
):
    """A storm is thousands of posts a minute: a plain repeat locks, reads and writes only what it
    must (the lock stripes exist after first use; one query locks the incident and tells whether
    the host and an alert as severe are already on it)."""
    for n in range(6):
        post(event_id=f"e{n}")
    with django_assert_max_num_queries(9):
        r = post(event_id="last")
    assert r.status_code == 201 and r.json()["outcome"] == "attached"


# --- Storms -----------------------------------------------------------------------------------


def test_the_same_rule_on_three_hosts_within_five_minutes_is_one_storm_incident_listing_every_host(post):
    hosts = [host_in(ServiceTier.MEDIUM, f"web0{n}") for n in (1, 2, 3)]
    a = post(host="web01", fingerprint="df-1")
    backdate(4, pk=a.json()["alert"])
    b = post(host="web02", fingerprint="df-2")
    c = post(host="web03", fingerprint="df-3")
    assert [r.json()["outcome"] for r in (a, b, c)] == ["created", "created", "storm"]
    storm = incident_of(c)
    assert storm.source == Source.STORM
    assert (storm.category, storm.subcategory) == ("Monitoring", "Cross-host storm")
    assert set(storm.hosts.all()) == set(hosts)
    assert set(Alert.objects.values_list("incident", flat=True)) == {storm.pk}
    # major on 3 hosts: impact raised from 2 to 1, urgency 2 → P2
    assert (storm.impact, storm.urgency, storm.priority) == (1, 2, "P2")
    singles = Incident.objects.exclude(pk=storm.pk)
    assert {(i.state, i.resolution_code) for i in singles} == {("resolved", "duplicate")}
    assert set(storm.related_incidents.all()) == set(singles)
    assert Incident.objects.filter(source=Source.STORM).count() == 1


def test_a_further_host_joins_the_open_storm_and_a_repeat_of_a_moved_alert_attaches_to_it(post):
    for n in (1, 2, 3, 4):
        host_in(ServiceTier.MEDIUM, f"web0{n}")
    for n in (1, 2, 3):
        storm_id = post(host=f"web0{n}", fingerprint=f"df-{n}").json()["incident"]
    fourth = post(host="web04", fingerprint="df-4")
    repeat = post(host="web01", fingerprint="df-1", message="still full")
    assert (fourth.json()["outcome"], fourth.json()["incident"]) == ("storm", storm_id)
    assert (repeat.json()["outcome"], repeat.json()["incident"]) == ("attached", storm_id)
    storm = Incident.objects.get(pk=storm_id)
    assert sorted(storm.hosts.values_list("hostname", flat=True)) == ["web01", "web02", "web03", "web04"]
    assert Incident.objects.filter(source=Source.STORM).count() == 1


def test_three_hosts_spread_over_more_than_five_minutes_make_no_storm(post):
    for n in (1, 2, 3):
        host_in(ServiceTier.MEDIUM, f"web0{n}")
    a = post(host="web01", fingerprint="df-1")
    backdate(4, pk=a.json()["alert"])
    b = post(host="web02", fingerprint="df-2")
    backdate(2, pk__in=[a.json()["alert"], b.json()["alert"]])  # web01 now 6 minutes ago
    c = post(host="web03", fingerprint="df-3")
    assert [r.json()["outcome"] for r in (a, b, c)] == ["created", "created", "created"]
    assert not Incident.objects.filter(source=Source.STORM).exists()
    assert Incident.objects.count() == 3


def test_one_host_firing_a_rule_three_times_is_no_storm(post):
    host_in(ServiceTier.MEDIUM)
    outcomes = [post(fingerprint=f"df-{n}").json()["outcome"] for n in (1, 2, 3)]
    assert outcomes == ["created", "created", "created"]


def test_three_different_rules_on_three_hosts_make_no_storm(post):
    for n in (1, 2, 3):
        host_in(ServiceTier.MEDIUM, f"web0{n}")
    outcomes = [
        post(host=f"web0{n}", rule=f"Rule{n}", fingerprint=f"f{n}").json()["outcome"] for n in (1, 2, 3)
    ]
    assert outcomes == ["created", "created", "created"]


def test_an_incident_an_agent_has_started_is_linked_to_the_storm_and_left_open(post, agent):
    for n in (1, 2, 3):
        host_in(ServiceTier.MEDIUM, f"web0{n}")
    started = incident_of(post(host="web01", fingerprint="df-1"))
    workflows.incident_start(incident=started, actor=agent)
    post(host="web02", fingerprint="df-2")
    storm = incident_of(post(host="web03", fingerprint="df-3"))
    started.refresh_from_db()
    assert started.state == "in_progress"
    assert storm in started.related_incidents.all()
    assert storm.number in started.notes.get().body
    assert not started.alerts.exists()  # its alert moved: repeats now go to the storm


# --- The same event twice ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "identity",
    [{}, {"event_id": "evt-42"}, {"occurred_at": "2025-03-01T10:00:00Z"}],
    ids=["payload-only", "event_id", "occurred_at"],
)
def test_the_same_event_posted_twice_has_one_effect(identity, post):
    host_in(ServiceTier.MEDIUM)
    first = post(**identity)
    journal = AuditEntry.objects.count()
    second = post(**identity)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == {**first.json(), "outcome": "duplicate", "duplicate": True}
    assert (Incident.objects.count(), Alert.objects.count(), IncidentNote.objects.count()) == (1, 1, 0)
    assert AuditEntry.objects.count() == journal


def test_an_identical_payload_without_event_id_after_ten_minutes_is_a_new_occurrence(post):
    host_in(ServiceTier.MEDIUM)
    first = post()
    backdate(11)
    second = post()
    assert (second.status_code, second.json()["outcome"]) == (201, "attached")
    assert second.json()["incident"] == first.json()["incident"]
    assert Alert.objects.count() == 2


def test_an_event_with_an_event_id_is_a_duplicate_however_late_it_is_posted_again(post):
    host_in(ServiceTier.MEDIUM)
    post(event_id="evt-1")
    backdate(60 * 24)
    assert post(event_id="evt-1").json()["outcome"] == "duplicate"


def test_a_different_event_id_is_a_different_event(post):
    host_in(ServiceTier.MEDIUM)
    post(event_id="evt-1")
    assert post(event_id="evt-2").json()["outcome"] == "attached"


# --- Bad payloads -----------------------------------------------------------------------------

BAD = [
    pytest.param({"host": None}, "host", id="missing-host"),
    pytest.param({"severity": None}, "severity", id="missing-severity"),
    pytest.param({"fingerprint": None}, "fingerprint", id="missing-fingerprint"),
    pytest.param({"severity": "catastrophic"}, "severity", id="unknown-severity"),
    pytest.param({"severity": "CRITICAL"}, "severity", id="severity-in-capitals"),
    pytest.param({"message": "   "}, "message", id="blank-message"),
    pytest.param({"message": 42}, "message", id="message-not-a-string"),
    pytest.param({"host": ["web01"]}, "host", id="host-a-list"),
    pytest.param({"host": "web 01"}, "host", id="host-with-a-space"),
    pytest.param({"rule": "x" * 201}, "rule", id="rule-too-long"),
    pytest.param({"source": "prom\x00"}, "source", id="null-character"),
    pytest.param({"kind": "metric"}, "kind", id="unknown-kind"),
    pytest.param({"occurred_at": "yesterday"}, "occurred_at", id="occurred-at-not-a-date"),
    pytest.param({"occurred_at": 1700000000}, "occurred_at", id="occurred-at-a-number"),
    pytest.param({"labels": {"team": "web"}}, "labels", id="unknown-field"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_a_bad_payload_is_400_naming_the_field_and_writes_nothing(change, field, post):
    r = post(**change)
    assert r.status_code == 400, r.content
    assert set(r.json()) - {"detail", "code"} == {field}
    assert (Incident.objects.count(), Alert.objects.count(), Host.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize("body", ["text", 42], ids=["string", "number"])
def test_a_body_that_is_not_an_object_or_a_list_is_400(body, api, monitor):
    r = api.as_user(monitor).post(URL, body, format="json")
    assert r.status_code == 400
    assert "non_field_errors" in r.json()


def test_several_bad_fields_are_all_named(api, monitor):
    r = api.as_user(monitor).post(URL, {"severity": "bad"}, format="json")
    assert r.status_code == 400
    assert {"source", "rule", "host", "severity", "message", "fingerprint"} <= set(r.json())


def test_the_documented_payload_is_the_accepted_payload():
    assert set(EventInput().fields) == set(alerts.FIELDS)


def test_alert_severities_are_the_enrichment_severities():
    assert [value for value, _ in Alert._meta.get_field("severity").choices] == list(Severity.ALL)


# --- Hosts ------------------------------------------------------------------------------------


def test_an_unknown_host_is_created_in_the_unassigned_host_group_of_low_tier(post, monitor):
    r = post(host="New-Box.example.com", severity="critical")
    assert r.status_code == 201
    host = Host.objects.get()
    assert host.hostname == "new-box.example.com"
    assert (host.host_group.name, host.host_group.service_tier) == ("Unassigned", ServiceTier.LOW)
    assert list(incident_of(r).hosts.all()) == [host]
    assert AuditEntry.objects.filter(object_id=str(host.pk), action="create", actor=monitor).exists()


def test_a_second_unknown_host_joins_the_same_unassigned_group(post):
    post(host="box1")
    post(host="box2", fingerprint="other")
    assert HostGroup.objects.filter(name="Unassigned").count() == 1
    assert HostGroup.objects.get(name="Unassigned").hosts.count() == 2


def test_a_host_name_matches_whatever_its_case(post):
    host = host_in(ServiceTier.MEDIUM, "Web01")
    r = post(host="WEB01")
    assert list(incident_of(r).hosts.all()) == [host]
    assert Host.objects.count() == 1


# --- Who may post and read --------------------------------------------------------------------


def test_a_customer_token_may_not_post_events(customer, api):
    r = api.as_user(customer).post(URL, payload(), format="json")
    assert r.status_code == 403
    assert not Incident.objects.exists() and not Host.objects.exists()


def test_an_unauthenticated_post_is_refused(api):
    r = api.post(URL, payload(), format="json")
    assert r.status_code in (401, 403)
    assert not Incident.objects.exists()


def test_a_wrong_token_is_refused(api):
    api.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    assert api.post(URL, payload(), format="json").status_code in (401, 403)
    assert not Incident.objects.exists()


def test_events_ingest_is_held_by_agents_and_above_not_customers(customer, l1, manager, monitor):
    from itsm import policy

    assert [policy.has_permission(u, "events.ingest") for u in (customer, l1, manager, monitor)] == [
        False,
        True,
        True,
        True,
    ]


def test_agents_list_received_alerts_and_customers_do_not(post, agent, customer, api):
    host_in(ServiceTier.MEDIUM)
    incident = post().json()["incident"]
    r = api.as_user(agent).get(URL, {"incident": incident})
    assert r.status_code == 200
    assert [(a["rule"], a["outcome"]) for a in r.json()["results"]] == [("DiskFull", "created")]
    assert api.as_user(customer).get(URL).status_code == 403


def test_an_alert_may_not_be_changed_or_deleted_through_the_api(post, manager, api):
    host_in(ServiceTier.MEDIUM)
    alert = post().json()["alert"]
    api.as_user(manager)
    assert api.patch(f"{URL}{alert}/", {"message": "x"}, format="json").status_code == 405
    assert api.delete(f"{URL}{alert}/").status_code == 405


@pytest.mark.parametrize(
    "query",
    [
        {"incident": str(2**70)},  # past the 64-bit id column: the driver raised
        {"host": "-28148891952402374656"},
        {"received_at__gte": "0278-03-25T03:28:02+17:40"},  # PostgreSQL refused the offset
    ],
    ids=["incident-past-64-bits", "host-past-64-bits", "far-off-date-with-odd-offset"],
)
def test_alert_filters_the_fuzzer_broke_answer_instead_of_crashing(query, agent, api):
    r = api.as_user(agent).get(URL, query)
    assert r.status_code in (200, 400)
    if r.status_code == 400:
        assert set(query) <= set(r.json())


@pytest.mark.parametrize("count", [3, 40])
def test_listing_alerts_costs_the_same_queries_whatever_the_page_size(
    count, post, agent, api, django_assert_max_num_queries
):
    for n in range(count):
        host_in(ServiceTier.MEDIUM, f"h{n}")
        post(host=f"h{n}", rule=f"R{n}", fingerprint=f"f{n}")
    api.as_user(agent)
    with django_assert_max_num_queries(6):
        r = api.get(URL, {"page_size": 100})
    assert r.json()["count"] == count


# --- Concurrency (PostgreSQL: SQLite lets one writer at a time anyway) ------------------------

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent posts need PostgreSQL row locks; SQLite serialises writers "
    "(run with DATABASE_URL=postgres://…)",
)
THREADS = 8


def _post_concurrently(actor, payloads):
    """Ingest each payload in its own thread and connection, all released at once."""
    start = threading.Barrier(len(payloads))
    results, errors = [], []
    lock = threading.Lock()

    def worker(body):
        close_old_connections()
        try:
            start.wait(timeout=30)
            result = alerts.event_ingest(actor=actor, payload=body)
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(body,)) for body in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker never finished"
    assert not errors, errors
    return results


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_fingerprint_make_one_incident(monitor):
    host_in(ServiceTier.MEDIUM)
    results = _post_concurrently(monitor, [payload(message=f"m{n}") for n in range(THREADS)])
    assert Incident.objects.count() == 1
    assert sorted(r.outcome for r in results) == ["attached"] * (THREADS - 1) + ["created"]


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_the_same_event_store_it_once(monitor):
    results = _post_concurrently(monitor, [payload(host="fresh01", event_id="e1")] * THREADS)
    assert (Alert.objects.count(), Incident.objects.count(), Host.objects.count()) == (1, 1, 1)
    assert sorted(r.outcome for r in results) == ["created"] + ["duplicate"] * (THREADS - 1)


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_rule_on_many_hosts_make_one_storm(monitor):
    results = _post_concurrently(
        monitor, [payload(host=f"web{n:02d}", fingerprint=f"df-{n}") for n in range(THREADS)]
    )
    storms = Incident.objects.filter(source=Source.STORM)
    assert storms.count() == 1
    assert storms.get().hosts.count() == THREADS
    assert set(Alert.objects.values_list("incident", flat=True)) == {storms.get().pk}
    assert sorted(r.outcome for r in results) == ["created"] * 2 + ["storm"] * (THREADS - 2)
