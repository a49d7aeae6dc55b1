"""Batches of alerts: ``POST /api/v1/events/`` with a JSON list, as monitoring tools send them.

``events_ingest`` gives the results of posting the alerts one by one, in order (``alerts``),
but in one transaction and with the look-ups done once per batch:

- Checked first, all or nothing: a list of 1 to ``MAX_BATCH`` events; any bad event is a 400
  naming each ``[index].field`` at fault, and nothing is written.
- The lock stripes of every fingerprint and rule in the batch are taken at once, in stripe
  order, so a batch queues behind any post (single or batch) that could touch the same
  incidents, exactly as single posts do.
- Earlier events (by ``event_key``), hosts and each fingerprint's open incident are read in one
  query each; the open incidents met are locked in one query that also says which hosts and
  severities they already have.
- An alert that repeats a fingerprint with an open incident, or joins a storm that this batch
  already fed, is settled in memory: its row, its host link, journal entry and work note
  (written under the same rules as a single post) are written together at the end.
- Anything else (a new incident, a new storm, an unknown fingerprint) first writes what is
  pending and then goes through the single post's own ``alerts.route``, so its outcome is the
  one-by-one outcome by construction; the caches are re-read after a storm moved alerts.

What differs from posting one by one: every alert of a batch has the same ``received_at`` (when
the batch was received), and an incident's ``version`` goes up once per batch that adds hosts
to it, not once per host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone

from incidents import alerts
from incidents.alerts import DUPLICATE, OPEN_STATES, SEVERITY_RANK, Event, IngestResult
from incidents.models import Alert, AlertOutcome, Incident, IncidentNote, Source
from itsm import audit, policy
from itsm.errors import InvalidInput, NotAllowed
from itsm.models import Host, Work

MAX_BATCH = 500


def batch_clean(payloads: Any) -> list[Event]:
    """Check a posted list of events; every bad one is named by its index and field."""
    if not isinstance(payloads, list):
        raise InvalidInput(
            "Send the events as a JSON list.", fields={"non_field_errors": ["Send a JSON list."]}
        )
    if not payloads:
        raise InvalidInput("Send at least one event.", fields={"non_field_errors": ["The list is empty."]})
    if len(payloads) > MAX_BATCH:
        message = f"Send at most {MAX_BATCH} events per post (this one has {len(payloads)})."
        raise InvalidInput(message, fields={"non_field_errors": [message]})
    events: list[Event] = []
    errors: dict[str, list[str]] = {}
    bad: list[str] = []
    for index, payload in enumerate(payloads):
        try:
            events.append(alerts.event_clean(payload))
        except InvalidInput as exc:
            bad.append(str(index))
            for name, messages in exc.fields.items():
                errors[f"[{index}].{name}"] = messages
    if errors:
        which = ", ".join(bad[:10]) + (", …" if len(bad) > 10 else "")
        raise InvalidInput(
            f"{len(bad)} of the {len(payloads)} events are not valid (index {which}); none was received.",
            fields=errors,
        )
    return events


def events_ingest(*, actor, payloads: Any) -> list[IngestResult]:
    """Receive a batch of monitoring alerts (events.ingest): the same results, in the same order,
    as posting them one by one; all or nothing."""
    if not policy.has_permission(actor, "events.ingest"):
        raise NotAllowed("Posting monitoring events needs the events.ingest permission.")
    events = batch_clean(payloads)
    try:
        return alerts.retrying_deadlocks(lambda: _Batch(actor, events).run())
    except IntegrityError:
        # The stripe locks queue posts of the same event, so this is a backstop: the unique
        # event_key refused a twin that got in anyway. Again: it is now read as a duplicate.
        return alerts.retrying_deadlocks(lambda: _Batch(actor, events).run())


@dataclass
class _Open:
    """An open incident this batch holds locked, and what the attach rules need to know of it."""

    incident: Incident
    hosts: dict[int, Host]  # id -> host (with its hostname), as the journal shows them
    ranks: set[int]  # severity ranks among its alerts (only those the batch asks about)
    bumped: bool = False

    def has_as_severe(self, rank: int) -> bool:
        return any(r <= rank for r in self.ranks)


@dataclass
class _Batch:
    actor: Any
    events: list[Event]
    now: datetime = field(default_factory=timezone.now)
    pending: list[Alert] = field(default_factory=list)
    links: list[Any] = field(default_factory=list)
    entries: list[Any] = field(default_factory=list)
    notes: list[IncidentNote] = field(default_factory=list)
    opens: dict[int, _Open] = field(default_factory=dict)
    by_fingerprint: dict[tuple[str, str], int | None] = field(default_factory=dict)
    storm_of_rule: dict[tuple[str, str], int] = field(default_factory=dict)

    def run(self) -> list[IngestResult]:
        alerts.lock_stripes(set().union(*(alerts.stripes_of(e) for e in self.events)))
        self.max_rank = max(SEVERITY_RANK[e.severity] for e in self.events)
        keys = {e.key for e in self.events}
        earlier = {a.event_key: a for a in Alert.objects.filter(event_key__in=keys)}
        self.hosts = self._hosts({e.host for e in self.events})
        self._read_fingerprints({(e.source, e.fingerprint) for e in self.events})
        self._load({pk for pk in self.by_fingerprint.values() if pk is not None})
        received: dict[str, Alert] = {}  # key -> this batch's alert
        results: list[IngestResult | tuple[Alert, int]] = []
        for event in self.events:
            key = event.key
            if key in received:  # posted twice in the batch: the same event (same received_at)
                alert = received[key]
                results.append((alert, alert.incident_id))
                continue
            before = earlier.get(key)
            if before is not None:
                if alerts.same_event(before, self.now):
                    results.append((before, before.incident_id))
                    continue
                Alert.objects.filter(pk=before.pk).update(event_key=None)  # a new occurrence
            result = self._receive(event)
            received[key] = result.alert
            if result.new_storm:  # alerts (of this batch or earlier) may have moved onto it
                mine = {a.pk: a for a in [*earlier.values(), *received.values()]}  # all written by now
                for pk, incident_id in Alert.objects.filter(pk__in=mine).values_list("pk", "incident_id"):
                    mine[pk].incident_id = incident_id
            results.append(result)
        self._flush()
        return self._answers(results)

    # --- Reading, once per batch ----------------------------------------------------------------

    def _hosts(self, names: set[str]) -> dict[str, Host]:
        found: dict[str, Host] = {}
        rows = (
            Host.objects.select_related("host_group")
            .annotate(lower=Lower("hostname"))
            .filter(lower__in=names)
            .order_by("hostname")
        )
        for host in rows:
            found.setdefault(host.lower, host)
        return found

    def _read_fingerprints(self, pairs: set[tuple[str, str]]) -> None:
        """Each (source, fingerprint)'s open incident: that of its newest alert on an open
        incident (as ``alerts.route`` reads it), for all pairs in one query."""
        pairs = sorted(pairs)
        if not pairs:
            return
        alert, work = Alert._meta, Work._meta
        sql = (
            f"SELECT k.column1, k.column2, (SELECT a.{alert.get_field('incident').column} "
            f"FROM {alert.db_table} a JOIN {work.db_table} w ON w.{work.pk.column} = a.{alert.get_field('incident').column} "
            f"WHERE a.source = k.column1 AND a.fingerprint = k.column2 AND w.state IN ({', '.join(['%s'] * len(OPEN_STATES))}) "
            f"ORDER BY a.received_at DESC, a.{alert.pk.column} DESC LIMIT 1) "
            f"FROM (VALUES {', '.join(['(%s, %s)'] * len(pairs))}) AS k"
        )
        params = [*OPEN_STATES, *(value for pair in pairs for value in pair)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for source, fingerprint, incident_id in cursor.fetchall():
                self.by_fingerprint[(source, fingerprint)] = incident_id

    def _load(self, incident_ids: set[int]) -> None:
        """Lock these incidents (in id order) and learn their hosts and alert severities."""
        incident_ids = incident_ids - self.opens.keys()
        if not incident_ids:
            return
        severities = [s for s, rank in SEVERITY_RANK.items() if rank <= self.max_rank]
        rows = list(
            # The work rows only, as the sweeps lock them (they update the incident rows they
            # did not lock: holding those too could deadlock with a sweep).
            Incident.objects.select_for_update(of=("work_ptr",))
            .filter(pk__in=incident_ids)
            .annotate(
                **{
                    f"has_{s}": Exists(Alert.objects.filter(incident_id=OuterRef("pk"), severity=s))
                    for s in severities
                }
            )
            .order_by("pk")
        )
        hosts: dict[int, dict[int, Host]] = {i.pk: {} for i in rows}
        through = Incident.hosts.through.objects.filter(incident_id__in=hosts)
        for incident_id, host_id, hostname in through.values_list("incident_id", "host_id", "host__hostname"):
            hosts[incident_id][host_id] = Host(pk=host_id, hostname=hostname)
        for incident in rows:
            ranks = {SEVERITY_RANK[s] for s in severities if getattr(incident, f"has_{s}")}
            self.opens[incident.pk] = _Open(incident, hosts[incident.pk], ranks)

    # --- One event ------------------------------------------------------------------------------

    def _receive(self, event: Event) -> IngestResult:
        host = self.hosts.get(event.host)
        if host is None:
            host = self.hosts[event.host] = alerts.host_for(self.actor, event.host)
        pair = (event.source, event.fingerprint)
        incident_id = self.by_fingerprint.get(pair, ...)
        if incident_id is ...:  # not read yet (the caches were dropped after a new storm)
            self._read_fingerprints({pair})
            incident_id = self.by_fingerprint[pair]
        outcome = AlertOutcome.ATTACHED
        if incident_id is None:
            incident_id, outcome = self.storm_of_rule.get((event.source, event.rule)), AlertOutcome.STORM
        if incident_id is not None:
            self._load({incident_id})
            opened = self.opens.get(incident_id)
            if opened is not None and opened.incident.state in OPEN_STATES:
                return self._attach(event, host, opened, outcome)
        return self._route(event, host)

    def _attach(self, event: Event, host: Host, opened: _Open, outcome: str) -> IngestResult:
        """``alerts._attach`` in memory: the same row, host link, journal entry and work note."""
        incident = opened.incident
        alert = self._alert(event, host, incident, outcome)
        rank = SEVERITY_RANK[event.severity]
        effect = alerts.attaching(has_host=host.pk in opened.hosts, has_as_severe=opened.has_as_severe(rank))
        if effect.adds_host:
            old = list(opened.hosts.values())
            opened.hosts[host.pk] = host
            self.links.append(Incident.hosts.through(incident_id=incident.pk, host_id=host.pk))
            self.entries.append(audit.change_entry(incident, self.actor, "hosts", old, [*old, host]))
            opened.bumped = True
        if effect.notes:
            self.notes.append(alerts.attach_note(self.actor, incident, alert, outcome))
        opened.ranks.add(rank)
        self._remember(event, incident)
        return IngestResult(alert, incident, outcome)

    def _alert(self, event: Event, host: Host, incident: Incident, outcome: str) -> Alert:
        alert = Alert(
            source=event.source, kind=event.kind, rule=event.rule, host=host, severity=event.severity,
            message=event.message, fingerprint=event.fingerprint, event_id=event.event_id,
            occurred_at=event.occurred_at, event_key=event.key, posted_by=self.actor,
            received_at=self.now, incident=incident, outcome=outcome,
        )  # fmt: skip
        self.pending.append(alert)
        return alert

    def _route(self, event: Event, host: Host) -> IngestResult:
        """The single post's path, on what is written so far."""
        self._flush()
        result = alerts.route(self.actor, event, host=host, now=self.now)
        incident = result.incident
        if result.new_storm:  # it moved alerts and resolved incidents: read everything again
            self.opens.clear()
            self.by_fingerprint.clear()
            self.storm_of_rule.clear()
        self.opens.pop(incident.pk, None)  # read again (locked already) when next needed
        self._remember(event, incident)
        return result

    def _remember(self, event: Event, incident: Incident) -> None:
        self.by_fingerprint[(event.source, event.fingerprint)] = incident.pk
        if incident.source == Source.STORM:  # this rule's newest alert on an open storm
            self.storm_of_rule[(event.source, event.rule)] = incident.pk

    # --- Writing --------------------------------------------------------------------------------

    def _flush(self) -> None:
        if self.pending:
            Alert.objects.bulk_create(self.pending)
            self.pending = []
        if self.links:
            Incident.hosts.through.objects.bulk_create(self.links)
            self.links = []
        if self.entries:
            audit.write(self.entries)
            self.entries = []
        if self.notes:
            IncidentNote.objects.bulk_create(self.notes)
            self.notes = []
        bumped = [pk for pk, opened in self.opens.items() if opened.bumped]
        if bumped:
            Incident.objects.filter(pk__in=bumped).update(version=F("version") + 1, updated_at=timezone.now())
            for pk in bumped:
                self.opens[pk].bumped = False

    def _answers(self, results) -> list[IngestResult]:
        """Duplicates answer their first result: the earlier alert and its incident."""
        wanted = {r[1] for r in results if isinstance(r, tuple)}
        incidents = Incident.objects.in_bulk(wanted) if wanted else {}
        return [
            IngestResult(r[0], incidents[r[1]], DUPLICATE) if isinstance(r, tuple) else r for r in results
        ]
