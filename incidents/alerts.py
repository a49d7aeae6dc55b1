"""Alerts into incidents: what a monitoring service posts to ``POST /api/v1/events/``.

One call, ``event_ingest``, in one transaction:

1. The same event posted twice has one effect: the cleaned payload's hash (``event_key``) is
   unique, and a second post answers the first one's alert and incident (``duplicate``). A
   payload without ``event_id`` or ``occurred_at`` cannot tell a retry from a new occurrence, so
   an identical one counts as the same event only within ``IDENTICAL_PAYLOAD_WINDOW``.
2. The host is found by hostname (case-insensitive); an unknown host is created in the host
   group "Unassigned" (service tier low, created on first use) for the CMDB team to sort out.
3. A repeat of a fingerprint (same source) whose incident is open is attached to that incident.
4. Otherwise, if an open storm incident of the same source and rule got an alert within
   ``STORM_WINDOW``, the alert joins it; if the rule fired on ``STORM_HOSTS`` or more distinct
   hosts within ``STORM_WINDOW`` (counting this one and alerts whose incidents are open), one
   storm incident is created listing every host, and those alerts move onto it.
5. Otherwise a new incident, enriched from severity, host count and host-group service tier.

Concurrent posts that could touch the same incident (same fingerprint or same rule) queue on
lock stripes (``AlertLock``) taken in stripe order, so two posts of one fingerprint never make
two incidents and a storm is made once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from incidents import enrichment, services, workflows
from incidents.enrichment import Severity
from incidents.models import (
    Alert,
    AlertKind,
    AlertLock,
    AlertOutcome,
    Incident,
    IncidentNote,
    IncidentState,
    ResolutionCode,
    Source,
)
from itsm import audit, policy
from itsm.errors import InvalidInput, ItsmError, NotAllowed
from itsm.models import Host, HostGroup, Organisation, ServiceTier

STORM_HOSTS = 3
STORM_WINDOW = timedelta(minutes=5)
IDENTICAL_PAYLOAD_WINDOW = timedelta(minutes=10)
UNASSIGNED_GROUP = "Unassigned"
LOCK_STRIPES = 1024
DUPLICATE = "duplicate"
OPEN_STATES = (IncidentState.NEW, IncidentState.IN_PROGRESS, IncidentState.ON_HOLD)
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(Severity.ALL)}  # 0 is the worst

# --- The payload ------------------------------------------------------------------------------

HOSTNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
TEXT_FIELDS = {  # name: (required, max length)
    "source": (True, 100),
    "rule": (True, 200),
    "host": (True, 255),
    "message": (True, 10000),
    "fingerprint": (True, 200),
    "event_id": (False, 200),
}
CHOICE_FIELDS = {"severity": (True, Severity.ALL), "kind": (False, tuple(AlertKind.values))}
FIELDS = (*TEXT_FIELDS, *CHOICE_FIELDS, "occurred_at")


@dataclass(frozen=True)
class Event:
    source: str
    kind: str
    rule: str
    host: str
    severity: str
    message: str
    fingerprint: str
    event_id: str
    occurred_at: datetime | None

    @property
    def key(self) -> str:
        """The identity of this event: a hash of the whole cleaned payload."""
        values = {**self.__dict__, "occurred_at": self.occurred_at and self.occurred_at.isoformat()}
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def _text(value: Any, required: bool, max_length: int) -> tuple[str | None, str | None]:
    """The cleaned string, or why it is refused."""
    if not isinstance(value, str):
        return None, "Send a string."
    if "\x00" in value:
        return None, "Null characters are not allowed."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None, "Surrogate characters are not allowed."
    value = value.strip()
    if required and not value:
        return None, "This field may not be blank."
    if len(value) > max_length:
        return None, f"Ensure this field has no more than {max_length} characters."
    return value, None


def event_clean(payload: Any) -> Event:
    """Check a posted payload; every problem is a 400 naming its field."""
    if not isinstance(payload, Mapping):
        raise InvalidInput(
            "Send the event as a JSON object (or a list of them).",
            fields={"non_field_errors": ["Send a JSON object."]},
        )
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in payload:
        if name not in FIELDS:
            errors[str(name)[:100]] = ["This field is not accepted."]
    for name, (required, max_length) in TEXT_FIELDS.items():
        if payload.get(name) is None:
            if required:
                errors[name] = ["This field is required."]
            values[name] = ""
            continue
        values[name], error = _text(payload[name], required, max_length)
        if error:
            errors[name] = [error]
    for name, (required, choices) in CHOICE_FIELDS.items():
        value = payload.get(name)
        if value is None:
            if required:
                errors[name] = ["This field is required."]
            continue
        if not isinstance(value, str) or value not in choices:
            errors[name] = [f"Choose one of: {', '.join(choices)}."]
        values[name] = value
    if values.get("host") and not HOSTNAME.match(values["host"]):
        errors["host"] = ["Give a host name: letters, digits, '.', '-', '_' or ':', no spaces."]
    values["occurred_at"] = None
    if payload.get("occurred_at") is not None:
        values["occurred_at"], error = _moment(payload["occurred_at"])
        if error:
            errors["occurred_at"] = [error]
    if errors:
        raise InvalidInput("The event is not valid.", fields=errors)
    return Event(
        source=values["source"],
        kind=values.get("kind") or AlertKind.ALERT,
        rule=values["rule"],
        host=values["host"].lower(),  # host names are not case-sensitive
        severity=values["severity"],
        message=values["message"],
        fingerprint=values["fingerprint"],
        event_id=values["event_id"],
        occurred_at=values["occurred_at"],
    )


def _moment(value: Any) -> tuple[datetime | None, str | None]:
    error = "Give a date and time in ISO 8601, e.g. 2025-01-31T12:00:00Z."
    if not isinstance(value, str):
        return None, error
    try:
        moment = parse_datetime(value.strip())
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        return None, error
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC), None
    except (ValueError, OverflowError):
        return None, error


# --- Receiving --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    alert: Alert
    incident: Incident
    outcome: str  # an AlertOutcome, or "duplicate"
    new_storm: bool = False  # this alert formed a storm (alerts moved, incidents resolved)

    @property
    def duplicate(self) -> bool:
        return self.outcome == DUPLICATE


def event_ingest(*, actor, payload: Any) -> IngestResult:
    """Turn a monitoring alert into an incident, attach it to its fingerprint's open incident,
    or gather it into a cross-host storm incident (events.ingest). The same post twice answers
    the first result with ``duplicate``."""
    if not policy.has_permission(actor, "events.ingest"):
        raise NotAllowed("Posting monitoring events needs the events.ingest permission.")
    event = event_clean(payload)
    try:
        return retrying_deadlocks(lambda: _ingest(actor, event))
    except IntegrityError:
        # The stripe locks queue posts of the same event, so this is a backstop: the unique
        # event_key refused a twin that got in anyway; answer it as the duplicate it is.
        earlier = Alert.objects.select_related("incident").filter(event_key=event.key).first()
        if earlier is None:
            raise
        return IngestResult(earlier, earlier.incident, DUPLICATE)


DEADLOCK_ATTEMPTS = 3


def retrying_deadlocks(receive):
    """Run ``receive`` in a transaction, again (up to ``DEADLOCK_ATTEMPTS`` times) when PostgreSQL
    chose it as a deadlock's victim: everything it did was rolled back, so running it again is
    safe. Alerts lock few rows, in order, but the sweeps and transitions lock incidents too."""
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return receive()
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != "40P01" or attempt == DEADLOCK_ATTEMPTS:
                raise


def _stripe(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") % LOCK_STRIPES


def stripes_of(event: Event) -> set[int]:
    """The lock stripes of an event: its fingerprint's and its rule's."""
    return {_stripe("fingerprint", event.source, event.fingerprint), _stripe("rule", event.source, event.rule)}


def lock_stripes(stripes: set[int]) -> None:
    """Queue behind any post holding one of these stripes (locked in stripe order: no deadlock)."""
    locked = AlertLock.objects.select_for_update().filter(stripe__in=stripes).order_by("stripe")
    if len(list(locked)) < len(stripes):
        # The stripes' first use: make every row at once, in order. Only the first posts into an
        # empty table get here, holding no stripe yet; making only some rows would let two posts
        # each hold a stripe the other is inserting (a deadlock).
        AlertLock.objects.bulk_create([AlertLock(stripe=s) for s in range(LOCK_STRIPES)], ignore_conflicts=True)
        list(locked.all())


def same_event(earlier: Alert, now: datetime) -> bool:
    """Whether a post whose key is ``earlier``'s repeats that event (else it is a new occurrence:
    an identical payload without event_id or occurred_at, after the identical-payload window)."""
    identified = earlier.event_id or earlier.occurred_at is not None
    return bool(identified or earlier.received_at >= now - IDENTICAL_PAYLOAD_WINDOW)


def _ingest(actor, event: Event) -> IngestResult:
    lock_stripes(stripes_of(event))
    now = timezone.now()
    key = event.key
    # Most posts are new events: no join here (the incident is read only for a duplicate).
    earlier = Alert.objects.filter(event_key=key).first()
    if earlier is not None:
        if same_event(earlier, now):
            return IngestResult(earlier, earlier.incident, DUPLICATE)
        Alert.objects.filter(pk=earlier.pk).update(event_key=None)  # a new occurrence: free the key
    return route(actor, event, host=host_for(actor, event.host), now=now)


def route(actor, event: Event, *, host: Host, now: datetime) -> IngestResult:
    """Store a new (not duplicate) event's alert on the incident it belongs to: its fingerprint's
    open incident, the rule's open storm, a new storm, or a new incident. The stripes are held."""
    alert = Alert(
        source=event.source, kind=event.kind, rule=event.rule, host=host, severity=event.severity,
        message=event.message, fingerprint=event.fingerprint, event_id=event.event_id,
        occurred_at=event.occurred_at, event_key=event.key, posted_by=actor, received_at=now,
    )  # fmt: skip

    # Only the incident's id: ``_attach`` reads the incident as it locks it.
    repeat = (
        Alert.objects.filter(source=event.source, fingerprint=event.fingerprint, incident__state__in=OPEN_STATES)
        .order_by("-received_at", "-id")
        .values_list("incident_id", flat=True)
        .first()
    )
    if repeat is not None:
        return _attach(actor, alert, repeat, AlertOutcome.ATTACHED)

    recent = Alert.objects.filter(
        source=event.source, rule=event.rule, received_at__gte=now - STORM_WINDOW,
        incident__state__in=OPEN_STATES,
    )  # fmt: skip
    storm = (
        recent.filter(incident__source=Source.STORM)
        .order_by("-received_at", "-id")
        .values_list("incident_id", flat=True)
        .first()
    )
    if storm is not None:
        return _attach(actor, alert, storm, AlertOutcome.STORM)
    members = list(recent.select_related("host__host_group", "incident"))
    if len({a.host_id for a in members} | {host.pk}) >= STORM_HOSTS:
        return _storm(actor, alert, members)
    return _single(actor, alert)


def host_for(actor, hostname: str) -> Host:
    """The host of that name; an unknown one is created in the "Unassigned" host group."""
    host = Host.objects.select_related("host_group").filter(hostname__iexact=hostname).first()
    if host is not None:
        return host
    group, created = HostGroup.objects.get_or_create(
        name=UNASSIGNED_GROUP,
        defaults={
            "service_tier": ServiceTier.LOW,
            "description": "Hosts first seen in a monitoring alert; give each its real group.",
        },
    )
    if created:
        audit.log_create(group, actor)
    host, created = Host.objects.select_related("host_group").get_or_create(
        hostname__iexact=hostname,
        defaults={
            "hostname": hostname,
            "host_group": group,
            "description": "First seen in a monitoring alert.",
        },
    )
    if created:
        audit.log_create(host, actor)
    return host


def _organisation(hosts, actor):
    """The hosts' organisation (their own, else their group's) when they all agree; none when
    they differ; the posting account's when no host has one."""
    found = {h.organisation_id or (h.host_group.organisation_id if h.host_group else None) for h in hosts}
    found.discard(None)
    if len(found) == 1:
        return Organisation.objects.get(pk=found.pop())
    return None if found else getattr(actor, "organisation", None)


def _describe(alert: Alert) -> str:
    return (
        f"{alert.get_kind_display()} from {alert.source}: rule {alert.rule} on {alert.host.hostname}, "
        f"severity {alert.severity}, fingerprint {alert.fingerprint}.\n\n{alert.message}"
    )


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:199] + "…"


def _create_incident(actor, *, source: str, severity: str, hosts, short_description: str, description: str):
    tiers = [h.host_group.service_tier for h in hosts if h.host_group is not None]
    impact = enrichment.impact_for(severity, host_count=len(hosts), tiers=tiers)
    urgency = enrichment.urgency_for(severity)
    incident = services.incident_create(
        actor=actor,
        data={},
        source=source,
        short_description=_short(short_description),
        description=description,
        impact=impact,
        urgency=urgency,
        priority=enrichment.priority_for(impact, urgency),
        organisation=_organisation(hosts, actor),
        hosts=hosts,
    )
    audit.log_changes(incident, actor, [("hosts", [], list(hosts))])
    return incident


def _single(actor, alert: Alert) -> IngestResult:
    incident = _create_incident(
        actor,
        source=alert.kind,
        severity=alert.severity,
        hosts=[alert.host],
        short_description=f"{alert.rule} on {alert.host.hostname}: {alert.message}",
        description=_describe(alert),
    )
    alert.incident = incident
    alert.outcome = AlertOutcome.CREATED
    alert.save()
    return IngestResult(alert, incident, AlertOutcome.CREATED)


def _attach(actor, alert: Alert, incident_id: int, outcome: str) -> IngestResult:
    """Add the alert to an open incident, with the host and work note ``attaching`` decides."""
    # One query: lock the incident, and learn whether the host is new to it and whether it has
    # an alert at least as severe as this one (else this one is worse than any before).
    as_severe = [s for s, rank in SEVERITY_RANK.items() if rank <= SEVERITY_RANK[alert.severity]]
    incident = (
        Incident.objects.select_for_update(of=("work_ptr",))  # the work row, as the sweeps lock it
        .annotate(
            has_host=Exists(Incident.hosts.through.objects.filter(incident_id=OuterRef("pk"), host_id=alert.host_id)),
            has_as_severe=Exists(Alert.objects.filter(incident_id=OuterRef("pk"), severity__in=as_severe)),
        )
        .get(pk=incident_id)
    )
    effect = attaching(has_host=incident.has_host, has_as_severe=incident.has_as_severe)
    alert.incident = incident
    alert.outcome = outcome
    alert.save()
    if effect.adds_host:
        old_hosts = list(incident.hosts.all())
        incident.hosts.add(alert.host)
        audit.log_changes(incident, actor, [("hosts", old_hosts, [*old_hosts, alert.host])])
        Incident.objects.filter(pk=incident.pk).update(version=F("version") + 1, updated_at=timezone.now())
    if effect.notes:
        attach_note(actor, incident, alert, outcome).save()
    return IngestResult(alert, incident, outcome)


@dataclass(frozen=True)
class Attaching:
    """What an alert joining an open incident does besides being stored on it."""

    adds_host: bool  # its host joins the incident's hosts (journaled; the version goes up)
    notes: bool  # a work note says so (``attach_note``)


def attaching(*, has_host: bool, has_as_severe: bool) -> Attaching:
    """The rule for an alert joining an open incident, whether posted alone or in a batch, on
    what the incident has: its host (``has_host``), an alert at least as severe as this one
    (``has_as_severe``). A host it lacks joins it; a work note is written for a new host or a
    worse severity than any before — a plain repeat adds neither."""
    return Attaching(adds_host=not has_host, notes=not has_host or not has_as_severe)


def attach_note(actor, incident: Incident, alert: Alert, outcome: str) -> IncidentNote:
    """The (unsaved) work note of an alert that brings a new host or a worse severity."""
    what = "joins the storm" if outcome == AlertOutcome.STORM else "repeats"
    return IncidentNote(
        incident=incident,
        kind=IncidentNote.Kind.WORK_NOTE,
        author=actor,
        body=f"Alert {what} on {alert.host.hostname} ({alert.severity}): {alert.rule}: {alert.message}",
    )


def _storm(actor, alert: Alert, members: list[Alert]) -> IngestResult:
    """One incident for a rule firing on many hosts at once. The recent alerts of the rule move
    onto it; their incidents are linked to it, and those nobody has touched yet (still new and
    unassigned, with no alert left) are resolved as duplicates of it."""
    by_host = {a.host_id: a.host for a in members}
    by_host[alert.host_id] = alert.host
    hosts = sorted(by_host.values(), key=lambda h: h.hostname)
    severity = min((a.severity for a in [*members, alert]), key=SEVERITY_RANK.__getitem__)
    names = ", ".join(h.hostname for h in hosts)
    storm = _create_incident(
        actor,
        source=Source.STORM,
        severity=severity,
        hosts=hosts,
        short_description=f"Storm: {alert.rule} firing on many hosts ({alert.source})",
        description=(
            f"Rule {alert.rule} from {alert.source} fired on {len(hosts)} hosts within "
            f"{int(STORM_WINDOW.total_seconds() // 60)} minutes: {names}.\n\n{alert.message}"
        ),
    )
    alert.incident = storm
    alert.outcome = AlertOutcome.STORM
    alert.save()
    earlier = {a.incident_id: a.incident for a in members}
    Alert.objects.filter(pk__in=[a.pk for a in members]).update(incident=storm)
    for incident in earlier.values():
        storm.related_incidents.add(incident)
        untouched = (
            incident.state == IncidentState.NEW
            and incident.assignee_id is None
            and incident.assignment_group_id is None
            and not incident.alerts.exists()
        )
        if untouched:
            try:
                with transaction.atomic():
                    workflows.incident_resolve(
                        incident=incident,
                        actor=actor,
                        resolution_code=ResolutionCode.DUPLICATE,
                        resolution_notes=f"Part of the storm incident {storm.number}.",
                    )
                continue
            except ItsmError:
                pass  # the account may not resolve it: it stays open, linked to the storm
        IncidentNote.objects.create(
            incident=incident,
            kind=IncidentNote.Kind.WORK_NOTE,
            author=actor,
            body=f"Its alerts of rule {alert.rule} moved to the storm incident {storm.number}.",
        )
    if earlier:
        merged = ", ".join(sorted(i.number for i in earlier.values()))
        IncidentNote.objects.create(
            incident=storm,
            kind=IncidentNote.Kind.WORK_NOTE,
            author=actor,
            body=f"Gathers the recent alerts of rule {alert.rule} from {merged}.",
        )
    return IngestResult(alert, storm, AlertOutcome.STORM, new_storm=True)
