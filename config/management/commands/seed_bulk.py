"""Generate a large, realistic dataset for benchmarks: ``manage.py seed_bulk --incidents 1000000``.

What it makes: organisations, agents and customers, assignment groups with members and leads,
host groups and hosts, two calendars and SLA definitions, an escalation policy; then incidents
spread over ``--years`` of history in every state, priority and source (most of them closed,
``--open-share`` of them open and recent), each with notes, some with time entries, and SLA
clocks that match their history (met or breached when finished, running, paused or already
past due when open); then problems for about ``--problem-share`` of the incidents (a third of
them known errors with symptoms, root cause and workaround), each linked to a few of them, the
linked incidents on one of the problem's hosts, the problem's counters exact; then
``--articles`` knowledge articles (by default 5 % of the incidents: about 50,000 at a million)
with realistic text (``knowledge.bulk_text``), mostly published, some agents-only, drafts, in
review and retired, with their published versions, readers' votes (the counts exact) and links
to incidents; a tenth of the agents become knowledge editors, a fiftieth knowledge managers.

How: rows are written in batches of ``--batch`` incidents with PostgreSQL ``COPY`` (plain
``executemany`` on SQLite), with ids handed out here so child rows need no round trip; memory
stays bounded by one batch. Sequences and the INC counter are moved past the new rows at the
end. Random data comes from a seeded generator: the same options give the same data.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from catalog.models import (
    ApprovalLevel,
    CatalogCategory,
    CatalogItem,
    FormVersion,
    Request,
    RequestApproval,
    RequestTask,
    RequestUserObjectPermission,
    TaskTemplate,
)
from changes import risk
from changes.models import Change, ChangeFreeze, GovernanceTemplate, MaintenanceWindow
from escalation.models import EscalationPolicy, EscalationStage
from incidents.models import Incident, IncidentNote, TimeEntry
from itsm.bulk import Copier
from itsm.models import (
    AssignmentGroup,
    GroupMembership,
    Host,
    HostGroup,
    HostGroupDependency,
    NumberSequence,
    Organisation,
    ServiceTier,
    SlaDefinition,
    User,
    UserRole,
    Work,
)
from itsm.roles import Role
from knowledge.bulk_text import ArticleWriter
from knowledge.models import Article, ArticleFeedback, ArticleVersion
from knowledge.models import search_vector_sql as article_vector_sql
from problems.models import Problem, search_vector_sql
from sla.models import BusinessCalendar, ClockEvent, Holiday, SlaClock, SlaClockEvent, WorkingPeriod

PRIORITIES = ("P1", "P2", "P3", "P4")
PRIORITY_WEIGHTS = (2, 10, 48, 40)
OPEN_STATES = ("new", "in_progress", "on_hold")
OPEN_WEIGHTS = (25, 60, 15)
DONE_STATES = ("closed", "resolved", "cancelled")
DONE_WEIGHTS = (90, 5, 5)
SOURCES = ("manual", "alert", "event", "storm")
SOURCE_WEIGHTS = (55, 30, 12, 3)
CATEGORIES = {
    "manual": ("inquiry", "help"),
    "alert": ("monitoring", "metric"),
    "event": ("monitoring", "event"),
    "storm": ("monitoring", "storm"),
}
WORDS = [
    "printer",
    "email",
    "vpn",
    "laptop",
    "password",
    "server",
    "disk",
    "memory",
    "cpu",
    "network",
    "latency",
    "outage",
    "login",
    "database",
    "backup",
    "certificate",
    "wifi",
    "phone",
    "license",
    "upgrade",
    "slow",
    "error",
    "timeout",
    "crash",
    "queue",
]
CODES = ("resolved", "workaround", "duplicate", "not_reproducible", "by_design")
# From this many incidents on, secondary indexes are dropped during the load and rebuilt after.
INDEX_REBUILD_AT = 100_000
CATALOG_CATEGORIES = (
    "Hardware", "Software", "Access and accounts", "Facilities", "Telephony", "Onboarding", "Security",
    "Data and reports",
)  # fmt: skip
CATALOG_NOUNS = (
    "New laptop", "Monitor", "Software licence", "VPN access", "Shared mailbox", "Desk move", "Mobile phone",
    "Badge", "Database access", "Report", "New starter", "Firewall rule",
)  # fmt: skip
FIELD_TYPES = ("text", "textarea", "number", "dropdown", "radio", "checkbox", "hidden", "date", "email")
REQUEST_OPEN = ("submitted", "pending_approval", "approved", "in_fulfilment")
LEVEL = {"P1": (1, 1), "P2": (1, 2), "P3": (2, 2), "P4": (3, 3)}


class Command(BaseCommand):
    help = "Generate a large realistic dataset (incidents with notes, time and SLA clocks) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=100_000)
        parser.add_argument("--organisations", type=int, default=50)
        parser.add_argument("--agents", type=int, default=300)
        parser.add_argument("--customers", type=int, default=20_000)
        parser.add_argument("--groups", type=int, default=40)
        parser.add_argument("--hosts", type=int, default=5_000)
        parser.add_argument("--years", type=float, default=3.0, help="How much history the incidents span.")
        parser.add_argument("--open-share", type=float, default=0.08, help="Share of incidents still open.")
        parser.add_argument(
            "--problem-share", type=float, default=0.02, help="Problems per incident (a third known errors)."
        )
        parser.add_argument(
            "--articles", type=int, default=None, help="Knowledge articles (default: 5 %% of --incidents)."
        )
        parser.add_argument(
            "--change-share", type=float, default=0.10, help="Changes per incident (most of them closed)."
        )
        parser.add_argument(
            "--dependency-groups", type=int, default=2_000, help="Host groups of the dependency graph."
        )
        parser.add_argument("--dependency-edges", type=int, default=10_000, help="Dependencies between them.")
        parser.add_argument(
            "--request-share", type=float, default=0.5, help="Catalog requests per incident (most completed)."
        )
        parser.add_argument("--catalog-items", type=int, default=40, help="Catalog items (forms of 3 to 30 fields).")
        parser.add_argument("--batch", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=20261123)

    def handle(self, *args, **o):
        if (
            o["incidents"] < 0
            or not 0 <= o["open_share"] <= 1
            or not 0 <= o["problem_share"] <= 1
            or not 0 <= o["change_share"] <= 1
            or not 0 <= o["request_share"] <= 1
            or o["catalog_items"] < 1
            or o["dependency_groups"] < 0
            or o["dependency_edges"] < 0
            or o["batch"] < 1
            or (o["articles"] is not None and o["articles"] < 0)
        ):
            raise CommandError(
                "--incidents ≥ 0, --articles ≥ 0, --open-share, --problem-share, --change-share and "
                "--request-share in 0..1, --catalog-items ≥ 1, --dependency-groups and --dependency-edges ≥ 0, "
                "--batch ≥ 1."
            )
        self.rng = random.Random(o["seed"])
        self.now = timezone.now().replace(microsecond=0)
        started = time.monotonic()
        with transaction.atomic():
            self._reference(o)
        self._incidents(o)
        self._problems(o)
        self._articles(o)
        self._dependencies(o)
        self._changes(o)
        self._requests(o)
        self._finish()
        self.stdout.write(f"Done in {time.monotonic() - started:.0f} s.")

    # --- reference data --------------------------------------------------------------------

    def _reference(self, o):
        rng, tag = self.rng, f"bulk{o['seed']}"
        password = make_password("bulk")
        Organisation.objects.bulk_create(
            [Organisation(name=f"{tag} org {i:04d}") for i in range(o["organisations"])],
            ignore_conflicts=True,
        )
        self.orgs = list(
            Organisation.objects.filter(name__startswith=f"{tag} org").values_list("pk", flat=True)
        )
        User.objects.bulk_create(
            [
                User(username=f"{tag}-agent-{i:05d}", email=f"agent{i}@bulk.example", password=password)
                for i in range(o["agents"])
            ],
            ignore_conflicts=True,
        )
        self.agents = list(
            User.objects.filter(username__startswith=f"{tag}-agent-").values_list("pk", flat=True)
        )
        UserRole.objects.bulk_create(
            [UserRole(user_id=pk, role=Role.ITSM_AGENT) for pk in self.agents], ignore_conflicts=True
        )
        User.objects.bulk_create(
            [
                User(
                    username=f"{tag}-customer-{i:06d}",
                    email=f"customer{i}@bulk.example",
                    password=password,
                    organisation_id=rng.choice(self.orgs) if self.orgs else None,
                )
                for i in range(o["customers"])
            ],
            ignore_conflicts=True,
            batch_size=5000,
        )
        self.customers = list(
            User.objects.filter(username__startswith=f"{tag}-customer-").values_list("pk", "organisation_id")
        )
        UserRole.objects.bulk_create(
            [UserRole(user_id=pk, role=Role.PLATFORM_SELFSERVICE) for pk, _ in self.customers],
            ignore_conflicts=True,
            batch_size=5000,
        )
        AssignmentGroup.objects.bulk_create(
            [AssignmentGroup(name=f"{tag} group {i:03d}") for i in range(o["groups"])], ignore_conflicts=True
        )
        self.groups = list(
            AssignmentGroup.objects.filter(name__startswith=f"{tag} group").values_list("pk", flat=True)
        )
        self.members: dict[int, list[int]] = {}
        memberships = []
        for i, agent in enumerate(self.agents):
            group = self.groups[i % len(self.groups)] if self.groups else None
            if group is None:
                continue
            self.members.setdefault(group, []).append(agent)
            role = GroupMembership.Role.LEAD if len(self.members[group]) == 1 else GroupMembership.Role.MEMBER
            memberships.append(GroupMembership(group_id=group, user_id=agent, role=role))
        GroupMembership.objects.bulk_create(memberships, ignore_conflicts=True)

        hours, _ = BusinessCalendar.objects.get_or_create(
            name=f"{tag} business hours", defaults={"time_zone": "Europe/London"}
        )
        if not hours.periods.exists():
            WorkingPeriod.objects.bulk_create(
                [WorkingPeriod(calendar=hours, weekday=d, start=dtime(9), end=dtime(17)) for d in range(5)]
            )
            Holiday.objects.bulk_create(
                [
                    Holiday(
                        calendar=hours,
                        name="Christmas Day",
                        date=datetime(2025, 12, 25).date(),
                        recurring=True,
                    ),
                    Holiday(
                        calendar=hours, name="Boxing Day", date=datetime(2025, 12, 26).date(), recurring=True
                    ),
                    Holiday(
                        calendar=hours,
                        name="New Year's Day",
                        date=datetime(2026, 1, 1).date(),
                        recurring=True,
                    ),
                ]
            )
        always, _ = BusinessCalendar.objects.get_or_create(name=f"{tag} 24×7", defaults={"always_open": True})
        standard, _ = SlaDefinition.objects.get_or_create(
            name=f"{tag} standard",
            defaults=dict(
                calendar=hours,
                p1_response_minutes=15, p1_resolution_minutes=240,
                p2_response_minutes=30, p2_resolution_minutes=480,
                p3_response_minutes=240, p3_resolution_minutes=3 * 480,
                p4_response_minutes=480, p4_resolution_minutes=5 * 480,
            ),
        )  # fmt: skip
        critical, _ = SlaDefinition.objects.get_or_create(
            name=f"{tag} critical 24×7",
            defaults=dict(
                calendar=always,
                p1_response_minutes=10, p1_resolution_minutes=120,
                p2_response_minutes=15, p2_resolution_minutes=240,
                p3_response_minutes=60, p3_resolution_minutes=1440,
                p4_response_minutes=240, p4_resolution_minutes=4320,
            ),
        )  # fmt: skip
        self.definitions = [
            (standard, hours.as_calendar(), hours.pk),
            (critical, always.as_calendar(), always.pk),
        ]
        HostGroup.objects.bulk_create(
            [
                HostGroup(name=f"{tag} hostgroup {i:03d}", sla=critical if i % 4 == 0 else standard)
                for i in range(max(1, o["hosts"] // 100))
            ],
            ignore_conflicts=True,
        )
        host_groups = list(
            HostGroup.objects.filter(name__startswith=f"{tag} hostgroup").values_list("pk", flat=True)
        )
        Host.objects.bulk_create(
            [
                Host(hostname=f"{tag}-host-{i:06d}", host_group_id=host_groups[i % len(host_groups)])
                for i in range(o["hosts"])
            ],
            ignore_conflicts=True,
            batch_size=5000,
        )
        self.hosts = list(
            Host.objects.filter(hostname__startswith=f"{tag}-host-").values_list("pk", "host_group_id")
        )
        policy, _ = EscalationPolicy.objects.get_or_create(name=f"{tag} escalation")
        if self.groups and not policy.stages.exists():
            EscalationStage.objects.create(
                policy=policy, order=1, timeout_minutes=30, assignment_group_id=self.groups[0]
            )
            EscalationStage.objects.create(
                policy=policy, order=2, timeout_minutes=60, requires_acknowledgment=True,
                assignment_group_id=self.groups[-1],
            )  # fmt: skip
        self.policy = policy.pk

    # --- incidents -------------------------------------------------------------------------

    def _ids(self, model) -> int:
        return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1

    def _incidents(self, o):
        total, batch = o["incidents"], o["batch"]
        work_cols = [
            "id", "number", "kind", "short_description", "description", "state", "priority", "assignment_group_id",
            "assignee_id", "requester_id", "requested_for_id", "organisation_id", "sla_definition_id", "sla_status",
            "sla_due_at", "opened_at", "updated_at", "closed_at", "version", "search_text",
        ]  # fmt: skip
        incident_cols = [
            "work_ptr_id", "impact", "urgency", "classification", "category", "subcategory", "service",
            "major_incident", "major_incident_review", "major_incident_manager_id", "resolution_code",
            "resolution_notes", "escalation_level", "escalation_policy_id", "escalation_stage",
            "escalation_stage_started_at", "escalation_acknowledged_at", "escalation_next_at", "source",
            "acknowledged_at", "resolved_at", "resolution_message",
        ]  # fmt: skip
        note_cols = ["id", "incident_id", "kind", "author_id", "body", "created_at", "updated_at"]
        time_cols = ["id", "incident_id", "author_id", "minutes", "billable", "date", "note", "created_at"]
        clock_cols = [
            "id", "work_id", "definition_id", "calendar_id", "target", "priority", "target_duration", "state",
            "is_current", "started_at", "running_since", "elapsed", "due_at", "warn_at", "warned_at", "breached_at",
            "stopped_at",
        ]  # fmt: skip
        event_cols = ["clock_id", "kind", "at", "elapsed", "note"]
        writers = {
            "work": Copier(Work, work_cols),
            "incident": Copier(Incident, incident_cols),
            "note": Copier(IncidentNote, note_cols),
            "time": Copier(TimeEntry, time_cols),
            "clock": Copier(SlaClock, clock_cols),
            "event": Copier(SlaClockEvent, event_cols),
        }
        self.next = {
            "work": self._ids(Work),
            "note": self._ids(IncidentNote),
            "time": self._ids(TimeEntry),
            "clock": self._ids(SlaClock),
        }
        self._fast_session()
        dropped = self._drop_indexes(writers) if total >= INDEX_REBUILD_AT else []
        seq, _ = NumberSequence.objects.get_or_create(prefix="INC")
        self.number = seq.last
        self.first_incident = self.next["work"]
        span = timedelta(days=365 * o["years"])
        done = 0
        started = time.monotonic()
        try:
            while done < total:
                size = min(batch, total - done)
                rows = {name: [] for name in writers}
                for _ in range(size):
                    self._one(rows, span, o["open_share"])
                with transaction.atomic():
                    for name, writer in writers.items():
                        writer.write(rows[name])
                done += size
                self._progress(done, total, started)
            NumberSequence.objects.filter(prefix="INC").update(last=self.number)
        finally:
            self.stdout.write("")
            self._create_indexes(dropped)
            self._normal_session()

    def _fast_session(self) -> None:
        """On PostgreSQL: no waiting for the WAL flush at each batch's commit, and — when the
        account may (a superuser) — no per-row foreign-key triggers: the rows are consistent by
        construction, and this is a benchmark generator, not an import path."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '256MB'")
            try:
                with transaction.atomic():
                    cursor.execute("SET session_replication_role = replica")
                self.stdout.write("Foreign-key triggers are off for this session (superuser).")
            except DatabaseError:  # not a superuser: keep the checks
                self.stdout.write("Foreign-key checks stay on (not a superuser): loading is slower.")

    def _normal_session(self) -> None:
        """Back to the server's settings: whatever uses this connection next (another command,
        a test) has its foreign-key checks and durable commits again."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for setting in ("session_replication_role", "synchronous_commit", "maintenance_work_mem"):
                cursor.execute(f"RESET {setting}")

    def _drop_indexes(self, writers) -> list[tuple[str, str]]:
        """Drop the secondary indexes of the tables being loaded (not those behind primary keys
        or unique constraints); they are rebuilt once at the end, which is much faster than
        keeping them up to date row by row."""
        if connection.vendor != "postgresql":
            return []
        tables = [w.table for w in writers.values()]
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT i.indexname, i.indexdef FROM pg_indexes i
                WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
                """,
                [tables],
            )
            dropped = cursor.fetchall()
            for name, _ in dropped:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        self.stdout.write(f"Dropped {len(dropped)} secondary indexes; they are rebuilt at the end.")
        return dropped

    def _create_indexes(self, dropped) -> None:
        if not dropped:
            return
        started = time.monotonic()
        with connection.cursor() as cursor:
            for _, definition in dropped:
                cursor.execute(definition)
        self.stdout.write(f"Rebuilt {len(dropped)} indexes in {time.monotonic() - started:.0f} s.")

    def _progress(self, done: int, total: int, started: float) -> None:
        elapsed = time.monotonic() - started
        rate = done / elapsed if elapsed else 0
        left = (total - done) / rate if rate else 0
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stdout.write(
            f"\r[{bar}] {done:,}/{total:,} incidents, {rate:,.0f}/s, ~{left:,.0f} s left ", ending=""
        )
        self.stdout.flush()

    def _one(self, rows, span: timedelta, open_share: float) -> None:
        rng, now = self.rng, self.now
        pk = self.next["work"]
        self.next["work"] += 1
        self.number += 1
        is_open = rng.random() < open_share
        state = (
            rng.choices(OPEN_STATES, OPEN_WEIGHTS)[0]
            if is_open
            else rng.choices(DONE_STATES, DONE_WEIGHTS)[0]
        )
        if is_open:
            opened = now - timedelta(seconds=rng.randint(60, 14 * 86400))
        elif state == "resolved":
            opened = now - timedelta(seconds=rng.randint(3600, 40 * 3600))
        else:
            opened = now - timedelta(seconds=rng.randint(3 * 86400, int(span.total_seconds())))
        priority = rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
        impact, urgency = LEVEL[priority]
        source = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
        category, subcategory = CATEGORIES[source]
        customer, org = rng.choice(self.customers) if self.customers else (None, None)
        group = rng.choice(self.groups) if self.groups else None
        assigned = state != "new" or rng.random() < 0.3
        assignee = rng.choice(self.members.get(group) or [None]) if assigned and group else None
        words = rng.sample(WORDS, 3)
        short = f"{words[0].capitalize()} {words[1]} {words[2]} ({self.number})"
        definition, calendar, calendar_pk = self.definitions[
            1 if source != "manual" and rng.random() < 0.3 else 0
        ]
        # How long it took (wall clock), from priority: minutes for P1, days for P4.
        scale = {"P1": 4 * 3600, "P2": 12 * 3600, "P3": 3 * 86400, "P4": 6 * 86400}[priority]
        # Nothing happens after now: a minute-old incident is not acknowledged an hour from now.
        acknowledged = min(opened + timedelta(seconds=rng.randint(60, max(120, scale // 8))), now)
        resolved_at = closed_at = None
        if state in ("resolved", "closed"):
            resolved_at = min(
                opened + timedelta(seconds=rng.randint(600, scale * 2)), now - timedelta(minutes=5)
            )
            resolved_at = max(resolved_at, acknowledged)
        if state == "closed":  # closed by the auto-close 48 hours after resolution, so before now
            resolved_at = max(min(resolved_at, now - timedelta(hours=49)), acknowledged)
            closed_at = resolved_at + timedelta(hours=48)
        if state == "cancelled":
            closed_at = opened + timedelta(seconds=rng.randint(600, 86400))
        if state == "new":
            acknowledged = None
        updated = closed_at or resolved_at or acknowledged or opened
        clocks = self._clocks(rows, pk, state, priority, opened, acknowledged, resolved_at, closed_at,
                              definition, calendar, calendar_pk)  # fmt: skip
        statuses = {c["status"] for c in clocks}
        status = next(
            (s for s in ("breached", "at_risk", "in_progress", "paused", "met") if s in statuses), ""
        )
        dues = [c["due"] for c in clocks if c["due"] is not None]
        number, description = f"INC{self.number:07d}", f"Reported by a customer: {' '.join(words)}."
        notes = "Fixed and confirmed with the customer." if resolved_at else ""
        # As Incident.search_document makes it: number, short and long description, notes, service.
        search = f"{number} {short} {description} {notes} ".lower()
        rows["work"].append((
            pk, number, "incident", short, description,
            state, priority, group, assignee, customer, customer, org, definition.pk, status,
            min(dues) if dues else None, opened, updated, closed_at, 1, search,
        ))  # fmt: skip
        breaches = sum(1 for c in clocks if c["status"] == "breached")
        # Escalation as the sweep would have left it: stage 1 for its first 30 minutes, then
        # stage 2 (the last one, waiting for an acknowledgment).
        stage = stage_started = next_at = None
        if is_open:
            fresh = now - opened < timedelta(minutes=30) and state != "on_hold"
            stage = 1 if fresh else 2
            stage_started = opened if fresh else opened + timedelta(minutes=30)
            next_at = opened + timedelta(minutes=30) if fresh else None
        rows["incident"].append((
            pk, impact, urgency, "", category, subcategory, "", False, "", None,
            rng.choice(CODES) if resolved_at else "", notes,
            breaches, self.policy, stage, stage_started, None, next_at,
            source, acknowledged, resolved_at, "",
        ))  # fmt: skip
        for n in range(rng.randint(1, 4)):
            note_pk = self.next["note"]
            self.next["note"] += 1
            at = min(opened + timedelta(minutes=10 * (n + 1)), now)
            kind = "comment" if n % 2 == 0 else "work_note"
            author = customer if kind == "comment" and n == 0 else (assignee or customer)
            rows["note"].append((note_pk, pk, kind, author, f"Update {n + 1} on {short}.", at, at))
        if assignee and rng.random() < 0.4:
            time_pk = self.next["time"]
            self.next["time"] += 1
            rows["time"].append(
                (time_pk, pk, assignee, rng.randint(5, 240), rng.random() < 0.7, opened.date(), "", opened)
            )

    def _clocks(self, rows, work, state, priority, opened, acknowledged, resolved, closed, definition, calendar,
                calendar_pk) -> list[dict]:  # fmt: skip
        made = []
        for target, stop in (("response", acknowledged or resolved), ("resolution", resolved)):
            minutes = definition.target_minutes(priority, target)
            if not minutes:
                continue
            clock_pk = self.next["clock"]
            self.next["clock"] += 1
            goal = timedelta(minutes=minutes)
            due = calendar.due(opened, goal)
            running_since = due_at = warn_at = warned_at = breached_at = stopped_at = None
            events = [(clock_pk, ClockEvent.STARTED, opened, timedelta(0), f"{definition.name}, {priority}")]
            if state == "cancelled":
                clock_state, stopped_at = "cancelled", closed
                elapsed = calendar.elapsed(opened, closed)
                status = ""
                events.append((clock_pk, ClockEvent.CANCELLED, closed, elapsed, ""))
            elif stop is not None:
                clock_state, stopped_at = "stopped", stop
                elapsed = calendar.elapsed(opened, stop)
                if elapsed > goal:
                    breached_at = due
                    events.append((clock_pk, ClockEvent.BREACHED, due, goal, ""))
                status = "breached" if elapsed > goal else "met"
                events.append((clock_pk, ClockEvent.STOPPED, stop, elapsed, status))
            elif state == "on_hold":
                paused = opened + (self.now - opened) / 2
                clock_state, elapsed = "paused", calendar.elapsed(opened, paused)
                status = "breached" if elapsed > goal else "paused"
                if elapsed > goal:
                    breached_at = due
                    events.append((clock_pk, ClockEvent.BREACHED, due, goal, ""))
                events.append((clock_pk, ClockEvent.PAUSED, paused, elapsed, "waiting for the customer"))
            else:
                clock_state, running_since, elapsed = "running", opened, timedelta(0)
                due_at = due
                warn_at = calendar.due(opened, goal * 0.75)
                if due <= self.now:  # the sweep has seen it
                    breached_at = due
                    warned_at = warn_at
                    events.append((clock_pk, ClockEvent.WARNED, warn_at, goal * 0.75, ""))
                    events.append((clock_pk, ClockEvent.BREACHED, due, goal, ""))
                    status = "breached"
                elif warn_at <= self.now:
                    warned_at = warn_at
                    events.append((clock_pk, ClockEvent.WARNED, warn_at, goal * 0.75, ""))
                    status = "at_risk"
                else:
                    status = "in_progress"
            rows["clock"].append((
                clock_pk, work, definition.pk, calendar_pk, target, priority, goal, clock_state, True, opened,
                running_since, elapsed, due_at, warn_at, warned_at, breached_at, stopped_at,
            ))  # fmt: skip
            rows["event"].extend(events)
            made.append(
                {"status": status, "due": due_at if clock_state == "running" and not breached_at else None}
            )
        return made

    # --- problems --------------------------------------------------------------------------

    def _problems(self, o) -> None:
        """About ``--problem-share`` of the incidents get a problem (a third of them known errors),
        each linked to 1–8 incidents of this load (no incident to two problems), which are put on
        one of the problem's hosts; ``incident_count`` and ``affected_host_count`` are counted here
        from the rows written. A generator of its own, so the incidents stay as they were."""
        total = o["incidents"]
        count = round(total * o["problem_share"])
        if not count:
            return
        rng, now = random.Random(o["seed"] + 13), self.now
        work_cols = [
            "id", "number", "kind", "short_description", "description", "state", "priority", "assignment_group_id",
            "assignee_id", "organisation_id", "sla_status", "opened_at", "updated_at", "closed_at", "version",
            "search_text",
        ]  # fmt: skip
        problem_cols = [
            "work_ptr_id", "symptoms", "root_cause", "workaround", "category", "impact", "urgency", "is_known_error",
            "incident_count", "affected_host_count", "rca_summary", "corrective_plan", "review_notes",
            "verification_notes",
        ]  # fmt: skip
        works, problems, links, problem_hosts, problem_groups, incident_hosts = [], [], [], [], [], []
        seq, _ = NumberSequence.objects.get_or_create(prefix="PRB")
        number = seq.last
        sizes = [rng.randint(1, 8) for _ in range(count)]
        pool = rng.sample(range(self.first_incident, self.first_incident + total), min(total, sum(sizes)))
        for size in sizes:
            pk = self.next["work"]
            self.next["work"] += 1
            number += 1
            known = rng.random() < 1 / 3
            state = (
                rng.choice(("change_created", "verified", "closed"))
                if known
                else rng.choices(("new", "investigating", "rca_submitted", "rca_rejected", "cancelled"),
                                 (30, 45, 10, 5, 10))[0]
            )  # fmt: skip
            words = rng.sample(WORDS, 3)
            short = f"Recurring {words[0]} {words[1]} {words[2]}"
            description = f"Several incidents about {words[0]} and {words[1]}."
            symptoms = f"Users see {words[0]} {words[2]} errors; the {words[1]} check fails."
            root_cause = f"A misconfigured {words[1]} on the {words[0]} service." if known else ""
            workaround = f"Restart the {words[0]} agent and clear the {words[2]} cache." if known else ""
            priority = rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
            impact, urgency = LEVEL[priority]
            group = rng.choice(self.groups) if self.groups else None
            assignee = rng.choice(self.members.get(group) or [None]) if group and state != "new" else None
            opened = now - timedelta(seconds=rng.randint(86400, 365 * 86400))
            closed_at = (
                opened + timedelta(days=rng.randint(1, 30)) if state in ("closed", "cancelled") else None
            )
            closed_at = min(closed_at, now) if closed_at else None
            prb = f"PRB{number:07d}"
            search = f"{prb} {short} {description} {symptoms} {root_cause} {workaround}".lower()
            works.append((
                pk, prb, "problem", short, description, state, priority, group, assignee, None, "", opened,
                closed_at or opened, closed_at, 1, search,
            ))  # fmt: skip
            hosts = rng.sample(self.hosts, min(len(self.hosts), rng.randint(1, 2)))
            linked, pool = pool[:size], pool[size:]
            used = set()
            for incident in linked:
                host = rng.choice(hosts)[0]
                used.add(host)
                links.append((incident, pk))
                incident_hosts.append((incident, host))
            problem_hosts.extend((pk, host) for host, _ in hosts)
            if known:
                problem_groups.extend((pk, g) for g in {g for _, g in hosts if g})
            problems.append((
                pk, symptoms, root_cause, workaround, rng.choice(("inquiry", "monitoring")), impact, urgency, known,
                len(linked), len(used), "", [], "", "",
            ))  # fmt: skip
        with transaction.atomic():
            Copier(Work, work_cols).write(works)
            Copier(Problem, problem_cols).write(problems)
            Copier(Incident.related_problems.through, ["incident_id", "problem_id"]).write(links)
            Copier(Incident.hosts.through, ["incident_id", "host_id"]).write(incident_hosts)
            Copier(Problem.hosts.through, ["problem_id", "host_id"]).write(problem_hosts)
            Copier(Problem.host_groups.through, ["problem_id", "hostgroup_id"]).write(problem_groups)
            if connection.vendor == "postgresql":  # the known error database's stored document
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE problems_problem p SET search_vector = {search_vector_sql()} FROM itsm_work w"
                        " WHERE w.id = p.work_ptr_id AND p.search_vector IS NULL"
                    )
            NumberSequence.objects.filter(prefix="PRB").update(last=number)
        self.stdout.write(
            f"{count:,} problems, {sum(p[7] for p in problems):,} known errors, {len(links):,} links."
        )

    # --- knowledge ---------------------------------------------------------------------------

    ARTICLE_STATES = (("published", 85), ("draft", 5), ("in_review", 3), ("retired", 7))

    def _articles(self, o) -> None:
        """Knowledge articles (see the module docstring), written in batches of ``--batch``. A
        generator of its own, so what came before stays as it was."""
        total = o["articles"] if o["articles"] is not None else round(o["incidents"] * 0.05)
        if not total:
            return
        rng, now, writer = random.Random(o["seed"] + 29), self.now, ArticleWriter(random.Random(o["seed"] + 31))
        editors = self.agents[: max(1, len(self.agents) // 10)]
        managers = self.agents[: max(1, len(self.agents) // 50)]
        UserRole.objects.bulk_create(
            [UserRole(user_id=pk, role=Role.KNOWLEDGE_EDITOR) for pk in editors]
            + [UserRole(user_id=pk, role=Role.KNOWLEDGE_MANAGER) for pk in managers],
            ignore_conflicts=True,
        )
        article_cols = [
            "id", "number", "title", "summary", "body", "body_html", "category", "keywords", "audience", "state",
            "author_id", "owner_id", "created_at", "updated_at", "submitted_at", "published_at", "published_by_id",
            "retired_at", "published_version", "review_notes", "version", "helpful_count", "not_helpful_count",
            "source_incident_id",
        ]  # fmt: skip
        version_cols = ["id", "article_id", "number", "title", "summary", "body", "category", "keywords", "audience",
                        "published_at", "published_by_id"]  # fmt: skip
        vote_cols = ["id", "article_id", "user_id", "helpful", "comment", "created_at", "updated_at"]
        link_cols = ["article_id", "incident_id"]
        incidents = (self.first_incident, self.first_incident + o["incidents"] - 1) if o["incidents"] else None
        customers = [pk for pk, _ in self.customers]
        next_article, next_version, next_vote = self._ids(Article), self._ids(ArticleVersion), self._ids(ArticleFeedback)
        seq, _ = NumberSequence.objects.get_or_create(prefix="KB")
        number = seq.last
        states, weights = zip(*self.ARTICLE_STATES, strict=True)
        made = published = votes_made = 0
        while made < total:
            size = min(o["batch"], total - made)
            articles, versions, votes, links = [], [], [], []
            for _ in range(size):
                text = writer.article()
                pk, number = next_article, number + 1
                next_article += 1
                state = rng.choices(states, weights)[0]
                author, reviewer = rng.choice(editors), rng.choice(managers)
                created = now - timedelta(seconds=rng.randint(3600, 3 * 365 * 86400))
                submitted = created + timedelta(hours=rng.randint(1, 72)) if state != "draft" else None
                live = state in ("published", "retired")
                count = rng.choices((1, 2, 3), (70, 22, 8))[0] if live else 0
                published_at = min(now, submitted + timedelta(hours=rng.randint(1, 96))) if live else None
                updated = published_at or submitted or created
                retired_at = min(now, published_at + timedelta(days=rng.randint(30, 400))) if state == "retired" else None
                helpful = not_helpful = 0
                if state == "published" and customers and rng.random() < 0.25:
                    for user in rng.sample(customers, min(len(customers), rng.randint(1, 6))):
                        yes = rng.random() < 0.75
                        helpful, not_helpful = helpful + yes, not_helpful + (not yes)
                        at = min(now, published_at + timedelta(days=rng.randint(0, 60)))
                        comment = "" if rng.random() < 0.7 else rng.choice(
                            ["Worked for me, thanks.", "Step 3 did not apply to my laptop.", "Clear and quick.",
                             "The screenshot is out of date."]
                        )  # fmt: skip
                        votes.append((next_vote, pk, user, yes, comment, at, at))
                        next_vote += 1
                source = rng.randint(*incidents) if incidents and rng.random() < 0.03 else None
                audience = "agents" if rng.random() < 0.2 else "everyone"
                articles.append((
                    pk, f"KB{number:07d}", text.title, text.summary, text.body, text.body_html, text.category,
                    text.keywords, audience, state, author, author, created, updated, submitted, published_at,
                    reviewer if live else None, retired_at, count, "", self._article_version(state, count),
                    helpful, not_helpful, source,
                ))  # fmt: skip
                for n in range(1, count + 1):
                    # Earlier versions: the same article before its last edit (a block fewer).
                    body = text.body if n == count else text.body.rsplit("\n\n", count - n)[0]
                    versions.append((
                        next_version, pk, n, text.title, text.summary, body, text.category, text.keywords, audience,
                        published_at - timedelta(days=30 * (count - n)), reviewer,
                    ))  # fmt: skip
                    next_version += 1
                if incidents and state == "published" and rng.random() < 0.1:
                    chosen = {rng.randint(*incidents) for _ in range(rng.randint(1, 3))}
                    links.extend((pk, incident) for incident in chosen)
                if source is not None:
                    links.append((pk, source))
                published += state == "published"
            with transaction.atomic():
                Copier(Article, article_cols).write(articles)
                Copier(ArticleVersion, version_cols).write(versions)
                Copier(ArticleFeedback, vote_cols).write(votes)
                Copier(Article.incidents.through, link_cols).write(sorted(set(links)))
                NumberSequence.objects.filter(prefix="KB").update(last=number)
            made += size
            votes_made += len(votes)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # The stored search documents, set-based; then the table rewritten without the rows
                # the update left behind (search ranks over the table's narrow rows: it stays small).
                cursor.execute(
                    f"UPDATE knowledge_article a SET search_vector = {article_vector_sql('a')},"
                    f" search_head = {article_vector_sql('a', head=True)} WHERE a.search_vector IS NULL"
                )
                if not connection.in_atomic_block:
                    cursor.execute("VACUUM FULL knowledge_article")
        self.stdout.write(f"{total:,} articles ({published:,} published), {votes_made:,} votes.")

    @staticmethod
    def _article_version(state: str, publications: int) -> int:
        """An article's ``version`` after its history: created 1, submitted 2, then one per
        publication, one more for retiring."""
        return {"draft": 1, "in_review": 2, "published": 2 + publications, "retired": 3 + publications}[state]
    # --- the host-group dependency graph ----------------------------------------------------

    def _dependencies(self, o) -> None:
        """``--dependency-groups`` more host groups (a tenth critical, a fifth high), five hosts
        each, and ``--dependency-edges`` random dependencies among them and the groups above —
        cycles included, as real graphs have them — for the change impact analysis."""
        count, wanted = o["dependency_groups"], o["dependency_edges"]
        if not count:
            return
        rng, tag = random.Random(o["seed"] + 37), f"bulk{o['seed']}"
        tiers = [ServiceTier.CRITICAL] * 10 + [ServiceTier.HIGH] * 20 + [ServiceTier.MEDIUM] * 50 + [ServiceTier.LOW] * 20
        HostGroup.objects.bulk_create(
            [HostGroup(name=f"{tag} service {i:05d}", service_tier=rng.choice(tiers)) for i in range(count)],
            ignore_conflicts=True,
            batch_size=5000,
        )
        made = list(HostGroup.objects.filter(name__startswith=f"{tag} service ").values_list("pk", flat=True))
        Host.objects.bulk_create(
            [Host(hostname=f"{tag}-svc-{i:06d}", host_group_id=made[i // 5]) for i in range(len(made) * 5)],
            ignore_conflicts=True,
            batch_size=5000,
        )
        groups = made + list({g for _, g in self.hosts if g})
        self.dependency_groups = groups
        edges: set[tuple[int, int]] = set()
        tries = 0
        while len(edges) < wanted and tries < wanted * 5 and len(groups) > 1:
            tries += 1
            dependent, depends_on = rng.sample(groups, 2)
            edges.add((dependent, depends_on))
        HostGroupDependency.objects.bulk_create(
            [HostGroupDependency(dependent_id=a, depends_on_id=b) for a, b in sorted(edges)],
            ignore_conflicts=True,
            batch_size=5000,
        )
        self.stdout.write(f"{len(made):,} service host groups, {len(edges):,} dependencies.")

    # --- changes -----------------------------------------------------------------------------

    def _changes(self, o) -> None:
        """About ``--change-share`` of the incidents' number of changes, over the same years: most
        closed, the recent ones planned, submitted, approved, in progress or in review; each on
        one to three hosts and sometimes a host group, scored as ``changes.risk`` scores (the
        repeat bonus from the changes made before it), a tenth emergencies from an incident of
        this load, some standard changes under a template. Plus a weekly maintenance window per
        eight weeks and a two-week freeze each December over the span."""
        total = o["incidents"]
        count = round(total * o["change_share"])
        if not count:
            return
        rng, now = random.Random(o["seed"] + 41), self.now
        tag = f"bulk{o['seed']}"
        span = timedelta(days=365 * o["years"])
        template, _ = GovernanceTemplate.objects.get_or_create(
            name=f"{tag} routine patching",
            defaults={"min_notice_hours": 24, "required_gates": ["Peer review", "Test evidence"],
                      "optional_gates": ["Security sign-off"], "auto_approve_max_risk": 9},
        )  # fmt: skip
        freezes = []
        for year in range((now - span).year, now.year + 1):
            start = datetime(year, 12, 18, tzinfo=UTC)
            freezes.append(ChangeFreeze(name=f"{tag} year-end freeze {year}", reason="Year-end trading.",
                                        start=start, end=start + timedelta(days=14)))  # fmt: skip
        ChangeFreeze.objects.bulk_create(freezes)
        windows, moment = [], (now - span).replace(hour=22, minute=0, second=0)
        while moment < now + timedelta(days=120):
            windows.append(MaintenanceWindow(name=f"{tag} Sunday night maintenance", start=moment,
                                             end=moment + timedelta(hours=6)))  # fmt: skip
            moment += timedelta(days=7 * 8)
        MaintenanceWindow.objects.bulk_create(windows)
        # The CAB: one agent in fifty is an IT service manager (holds changes.approve).
        UserRole.objects.bulk_create(
            [UserRole(user_id=pk, role=Role.ITSM_MANAGER) for pk in self.agents[-max(1, len(self.agents) // 50):]],
            ignore_conflicts=True,
        )
        tier_of = dict(HostGroup.objects.values_list("pk", "service_tier"))
        hosts_in = dict(
            Host.objects.filter(host_group__isnull=False)
            .values("host_group").annotate(n=Count("pk")).values_list("host_group", "n")
        )  # fmt: skip
        work_cols = [
            "id", "number", "kind", "short_description", "description", "state", "priority", "assignment_group_id",
            "assignee_id", "requester_id", "organisation_id", "sla_status", "opened_at", "updated_at", "closed_at",
            "version", "search_text",
        ]  # fmt: skip
        change_cols = [
            "work_ptr_id", "change_type", "planned_start", "planned_end", "actual_start", "actual_end",
            "implementation_plan", "backout_plan", "test_plan", "justification", "source_type", "incident_id",
            "governance_template_id", "gate_status", "notice_override_reason", "cab_decision", "cab_notes",
            "decided_by_id", "decided_at", "routing_reason", "linked_ticket_resolved_on_rejection", "risk_score",
            "risk_level", "risk_factors", "impact_summary", "pir_required", "pir_due_at", "pir_outcome",
            "pir_lessons", "pir_follow_ups", "pir_recorded_at",
        ]  # fmt: skip
        seq, _ = NumberSequence.objects.get_or_create(prefix="CHG")
        number = seq.last
        openings = sorted(now - timedelta(seconds=rng.randint(0, int(span.total_seconds()))) for _ in range(count))
        closed_kinds: set[tuple[str, str]] = set()
        works, changes, change_hosts, change_groups = [], [], [], []
        open_states = ("draft", "submitted", "approved", "in_progress", "review")
        for opened in openings:
            pk = self.next["work"]
            self.next["work"] += 1
            number += 1
            recent = now - opened < timedelta(days=45)
            state = (rng.choices(open_states + ("closed", "cancelled", "rejected"), (15, 12, 20, 8, 5, 30, 5, 5))[0]
                     if recent else rng.choices(("closed", "cancelled", "rejected"), (90, 7, 3))[0])  # fmt: skip
            ctype = rng.choices(("standard", "normal", "emergency"), (35, 55, 10))[0]
            source = "incident" if ctype == "emergency" else rng.choices(("manual", "problem"), (85, 15))[0]
            incident = rng.randrange(self.first_incident, self.first_incident + total) if source == "incident" else None
            if source == "problem":
                source = "manual"  # a problem's changes are seeded with the problems; keep these plain
            words = rng.sample(WORDS, 3)
            short = f"{rng.choice(('Upgrade', 'Patch', 'Replace', 'Reconfigure', 'Migrate'))} {words[0]} {words[1]}"
            description = f"Planned work on the {words[0]} {words[1]} to fix {words[2]} issues."
            planned_start = (opened + timedelta(hours=rng.randint(50, 24 * 20))).replace(minute=0, second=0)
            if any(f.start <= planned_start < f.end for f in freezes) and ctype != "emergency":
                planned_start += timedelta(days=15)
            planned_end = planned_start + timedelta(hours=rng.randint(1, 8))
            group = rng.choice(self.groups) if self.groups else None
            assignee = rng.choice(self.members.get(group) or [None]) if group else None
            requester = rng.choice(self.agents) if self.agents else None
            hosts = rng.sample(self.hosts, min(len(self.hosts), rng.randint(1, 3)))
            named_group = rng.choice(self.dependency_groups) if getattr(self, "dependency_groups", None) and rng.random() < 0.2 else None
            host_count = len({h for h, _ in hosts}) + (hosts_in.get(named_group, 0) if named_group else 0)
            touched = {g for _, g in hosts if g} | ({named_group} if named_group else set())
            tier, bonus = risk.tier_bonus(tier_of.get(g) for g in touched)
            hours = 1 if risk.in_business_hours(planned_start) else 0
            impact = risk.clamp(risk.host_points(host_count) + bonus + hours, 1, 5)
            repeat = (source, ctype) in closed_kinds
            likelihood = risk.clamp(risk.TYPE_POINTS[ctype] - (1 if repeat else 0), 1, 5)
            score = impact * likelihood
            factors = [
                {"factor": "affected_hosts", "value": host_count, "contribution": risk.host_points(host_count)},
                {"factor": "service_tier", "value": tier, "contribution": bonus},
                {"factor": "business_hours", "value": bool(hours), "contribution": hours},
                {"factor": "impact", "value": risk.host_points(host_count) + bonus + hours, "contribution": impact},
                {"factor": "change_type", "value": ctype, "contribution": risk.TYPE_POINTS[ctype]},
                {"factor": "repeat", "value": repeat, "contribution": -1 if repeat else 0},
                {"factor": "likelihood", "value": risk.TYPE_POINTS[ctype] - (1 if repeat else 0), "contribution": likelihood},
            ]
            decided = state not in ("draft", "submitted", "cancelled") or (state == "cancelled" and rng.random() < 0.5)
            decision = "rejected" if state == "rejected" else ("approved" if decided else "")
            started = planned_start if state in ("in_progress", "review", "closed") else None
            ended = planned_end if state in ("review", "closed") else None
            closed_at = None
            if state == "closed":
                closed_at = min(now, (ended or planned_end) + timedelta(hours=rng.randint(1, 72)))
                closed_kinds.add((source, ctype))
            elif state in ("cancelled", "rejected"):
                closed_at = min(now, opened + timedelta(days=rng.randint(1, 10)))
            pir = ctype == "emergency"
            pir_due = (ended + timedelta(hours=72)) if pir and ended else None
            pir_recorded = closed_at if pir and state == "closed" else None
            chg = f"CHG{number:07d}"
            updated = max(filter(None, (opened, closed_at, started if started and started < now else None)))
            works.append((
                pk, chg, "change", short, description, state, "P3" if ctype != "emergency" else "P1", group,
                assignee, requester, None, "", opened, updated, closed_at, 1,
                f"{chg} {short} {description} ".lower() + f"to fix {words[2]} issues.",
            ))  # fmt: skip
            changes.append((
                pk, ctype, planned_start, planned_end, started, ended,
                f"1. Drain the {words[0]} pool.\n2. Apply the change.\n3. Return it to service.",
                f"Restore the {words[1]} from the snapshot taken before.", "Run the smoke tests.",
                f"Fixes recurring {words[2]} issues.", source, incident,
                template.pk if ctype == "standard" else None, {}, "", decision,
                "Risk too high for this quarter." if decision == "rejected" else "",
                rng.choice(self.agents) if decision and self.agents else None,
                opened + timedelta(hours=2) if decision else None, "", False, score, risk.level_of(score), factors,
                {}, pir, pir_due, "successful" if pir_recorded else "", "Went to plan." if pir_recorded else "", "",
                pir_recorded,
            ))  # fmt: skip
            change_hosts.extend((pk, h) for h in {h for h, _ in hosts})
            if named_group:
                change_groups.append((pk, named_group))
        # The search document as ``Work.search_document`` writes it: the SEARCHED fields in order.
        searched = Change.SEARCHED
        for i, (work, change) in enumerate(zip(works, changes, strict=True)):
            values = {"number": work[1], "short_description": work[3], "description": work[4], "justification": change[9]}
            works[i] = (*work[:-1], " ".join(str(values.get(name) or "") for name in searched).lower())
        with transaction.atomic():
            for start in range(0, len(works), o["batch"]):
                Copier(Work, work_cols).write(works[start : start + o["batch"]])
                Copier(Change, change_cols).write(changes[start : start + o["batch"]])
            Copier(Change.hosts.through, ["change_id", "host_id"]).write(change_hosts)
            Copier(Change.host_groups.through, ["change_id", "hostgroup_id"]).write(change_groups)
            NumberSequence.objects.filter(prefix="CHG").update(last=number)
        self.stdout.write(
            f"{count:,} changes, {len(windows):,} maintenance windows, {len(freezes):,} freezes."
        )

    # --- the service catalog and its requests ---------------------------------------------------

    def _catalog(self, o, rng) -> list[dict]:
        """Eight categories, ``--catalog-items`` items (the first with a 30-field form, the others
        3 to 30): a third with one or two approval levels (two IT service managers, or two
        customers who approve for their colleagues), most with one to three fulfilment tasks."""
        tag = f"bulk{o['seed']}"
        categories = [
            CatalogCategory.objects.get_or_create(
                name=f"{name} ({tag})", defaults={"position": i, "description": f"{name} requests."}
            )[0]
            for i, name in enumerate(CATALOG_CATEGORIES)
        ]
        managers = self.agents[-max(1, len(self.agents) // 50):]
        self.request_approvers = [pk for pk, _ in self.customers[: max(2, len(self.customers) // 100)]]
        items = []
        for i in range(o["catalog_items"]):
            fields = bulk_form(rng, 30 if i == 0 else rng.randint(3, 30))
            item = CatalogItem.objects.create(
                category=categories[i % len(categories)], name=f"{CATALOG_NOUNS[i % len(CATALOG_NOUNS)]} {tag} {i:03d}",
                description="Ask for it here; the service desk does the rest.",
                fulfilment_group_id=rng.choice(self.groups) if self.groups else None,
                priority=rng.choice(("P3", "P4", "P4")), form_fields=fields,
            )  # fmt: skip
            version = FormVersion.objects.create(item=item, digest=FormVersion.digest_of(fields), fields=fields)
            levels = []
            if i % 3 == 1 and self.agents:
                for position in range(1, 1 + rng.randint(1, 2)):
                    mode = rng.choice(("any", "every"))
                    level = ApprovalLevel.objects.create(item=item, position=position, mode=mode)
                    pool = managers if rng.random() < 0.5 or not self.request_approvers else self.request_approvers
                    people = rng.sample(pool, min(len(pool), 2))
                    level.users.set(people)
                    levels.append((mode, people))
            templates = []
            for position in range(1, 1 + rng.choice((0, 1, 1, 2, 3))):
                group = rng.choice(self.groups) if self.groups else None
                text = f"Step {position}: {rng.choice(('order', 'prepare', 'configure', 'deliver', 'check'))}"
                TaskTemplate.objects.create(item=item, position=position, short_description=text,
                                            assignment_group_id=group)  # fmt: skip
                templates.append((text, group or item.fulfilment_group_id))
            items.append({"item": item, "version": version.pk, "fields": fields, "levels": levels,
                          "templates": templates})  # fmt: skip
        return items

    def _requests(self, o) -> None:
        """About ``--request-share`` of the incidents' number of catalog requests over the same
        years, from the customers, each answering its item's form: most completed (a few
        rejected or cancelled); those of the last weeks submitted, waiting for approval (their
        level's approvers pending, with their django-guardian grants), approved or in
        fulfilment (their tasks made, some closed). Decided levels keep their approvers'
        decisions and grants. SLA clocks as an incident's: paused while waiting for approval,
        the response met at approval, the resolution at completion."""
        total = round(o["incidents"] * o["request_share"])
        rng, now = random.Random(o["seed"] + 53), self.now
        items = self._catalog(o, rng)
        if not total or not self.customers:
            return
        span = timedelta(days=365 * o["years"])
        work_cols = [
            "id", "number", "kind", "short_description", "description", "state", "priority", "assignment_group_id",
            "assignee_id", "requester_id", "requested_for_id", "organisation_id", "sla_definition_id", "sla_status",
            "sla_due_at", "opened_at", "updated_at", "closed_at", "version", "search_text",
        ]  # fmt: skip
        writers = {
            "work": Copier(Work, work_cols),
            "request": Copier(Request, ["work_ptr_id", "catalog_item_id", "form_data", "form_version_id",
                                        "approval_level", "classification", "service", "completion_notes"]),
            "task_work": Copier(Work, work_cols),
            "task": Copier(RequestTask, ["work_ptr_id", "request_id"]),
            "approval": Copier(RequestApproval, ["request_id", "level", "approver_id", "decision", "reason",
                                                 "decided_at", "decided_by_id", "created_at"]),
            "grant": Copier(RequestUserObjectPermission, ["permission_id", "user_id", "content_object_id"]),
            "clock": Copier(SlaClock, [
                "id", "work_id", "definition_id", "calendar_id", "target", "priority", "target_duration", "state",
                "is_current", "started_at", "running_since", "elapsed", "due_at", "warn_at", "warned_at",
                "breached_at", "stopped_at",
            ]),
            "event": Copier(SlaClockEvent, ["clock_id", "kind", "at", "elapsed", "note"]),
        }  # fmt: skip
        grant = Permission.objects.get(content_type__app_label="catalog", codename="approve_request").pk
        self.next["clock"] = self._ids(SlaClock)
        self.next["work"] = self._ids(Work)
        numbers = {p: NumberSequence.objects.get_or_create(prefix=p)[0].last for p in ("REQ", "TASK")}
        definition, calendar, calendar_pk = self.definitions[0]
        openings = sorted(now - timedelta(seconds=rng.randint(60, int(span.total_seconds()))) for _ in range(total))
        self._fast_session()
        started, done = time.monotonic(), 0
        try:
            for first in range(0, total, o["batch"]):
                rows = {name: [] for name in writers}
                for opened in openings[first : first + o["batch"]]:
                    self._request(rows, rng, items, opened, numbers, grant, definition, calendar, calendar_pk)
                with transaction.atomic():
                    for name, writer in writers.items():
                        writer.write(rows[name])
                done += len(openings[first : first + o["batch"]])
                self._progress(done, total, started)
            for prefix, last in numbers.items():
                NumberSequence.objects.filter(prefix=prefix).update(last=last)
        finally:
            self.stdout.write("")
            self._normal_session()
        self.stdout.write(f"{len(items):,} catalog items, {total:,} requests.")

    def _request(self, rows, rng, items, opened, numbers, grant, definition, calendar, calendar_pk) -> None:
        now = self.now
        entry = rng.choice(items)
        item, levels, templates = entry["item"], entry["levels"], entry["templates"]
        pk = self.next["work"]
        self.next["work"] += 1
        numbers["REQ"] += 1
        number = f"REQ{numbers['REQ']:07d}"
        recent = now - opened < timedelta(days=21)
        if recent:
            weights = (10, 25 if levels else 0, 15, 25, 20, 3, 2)
            state = rng.choices(REQUEST_OPEN + ("completed", "rejected", "cancelled"), weights)[0]
        else:
            state = rng.choices(("completed", "rejected", "cancelled"), (90, 4 if levels else 0, 6))[0]
        if state == "rejected" and not levels:
            state = "cancelled"
        customer, org = rng.choice(self.customers)
        priority = item.priority
        group = item.fulfilment_group_id
        # When each step happened (never after now).
        approved_at = min(opened + timedelta(hours=rng.randint(1, 48)), now) if levels else opened
        fulfilled_at = min(approved_at + timedelta(hours=rng.randint(1, 24)), now)
        done_at = None
        if state == "completed":
            done_at = min(fulfilled_at + timedelta(hours=rng.randint(2, 120)), now - timedelta(minutes=1))
            done_at = max(done_at, fulfilled_at)
        elif state in ("rejected", "cancelled"):
            done_at = min(opened + timedelta(hours=rng.randint(1, 72)), now)
        in_work = state in ("in_fulfilment", "completed")
        assignee = rng.choice(self.members.get(group) or [None]) if in_work and group else None
        # The clocks, told as an incident's: waiting for approval is on hold; approval answers.
        clock_state = {"pending_approval": "on_hold", "completed": "closed", "rejected": "closed"}.get(state, state)
        answered = None if state in ("submitted", "pending_approval") else (approved_at if levels else fulfilled_at)
        if state == "approved" and not levels:
            answered = None
        clocks = self._clocks(rows, pk, clock_state, priority, opened, answered, done_at if state != "cancelled"
                              else None, done_at, definition, calendar, calendar_pk)  # fmt: skip
        statuses = {c["status"] for c in clocks}
        status = next((s for s in ("breached", "at_risk", "in_progress", "paused", "met") if s in statuses), "")
        dues = [c["due"] for c in clocks if c["due"] is not None]
        short = item.name[:200]
        form_data = bulk_answers(rng, entry["fields"])
        updated = done_at or (fulfilled_at if in_work else opened)
        rows["work"].append((
            pk, number, "request", short, "", state, priority, group, assignee, customer, customer, org,
            definition.pk, status, min(dues) if dues else None, opened, updated, done_at, 1,
            f"{number} {short} ".lower(),
        ))  # fmt: skip
        level_now = None
        if levels and state != "submitted":
            deciding = 1 if state == "pending_approval" else len(levels)
            if state == "rejected":
                deciding = rng.randint(1, len(levels))
            if state == "cancelled":
                deciding = 0
            level_now = deciding if state == "pending_approval" else None
            granted = set()
            for position, (mode, people) in enumerate(levels[:deciding], start=1):
                last = position == deciding
                for n, person in enumerate(people):
                    if state == "pending_approval" and last:
                        decision, at, by = "pending", None, None
                    elif state == "rejected" and last:
                        decision, at, by = ("rejected" if n == 0 else "skipped"), approved_at, people[0]
                    elif mode == "any" and n > 0:
                        decision, at, by = "skipped", approved_at, people[0]
                    else:
                        decision, at, by = "approved", approved_at, person
                    reason = "Not within this quarter's budget." if decision == "rejected" else ""
                    rows["approval"].append((pk, position, person, decision, reason, at, by, opened))
                    if person not in granted:  # one grant, whatever the number of levels
                        granted.add(person)
                        rows["grant"].append((grant, person, pk))
        rows["request"].append((pk, item.pk, form_data, entry["version"], level_now, "", "",
                                "Delivered and confirmed." if state == "completed" else ""))  # fmt: skip
        if in_work and templates and (state == "in_fulfilment" or now - opened < timedelta(days=45)):
            for text, task_group in templates:
                task = self.next["work"]
                self.next["work"] += 1
                numbers["TASK"] += 1
                task_number = f"TASK{numbers['TASK']:07d}"
                task_state = "closed" if state == "completed" or rng.random() < 0.4 else rng.choice(("open", "in_progress"))
                closed = (done_at or now) if task_state == "closed" else None
                rows["task_work"].append((
                    task, task_number, "request_task", text, "", task_state, priority, task_group, None, customer,
                    None, org, None, "", None, fulfilled_at, closed or fulfilled_at, closed, 1,
                    f"{task_number} {text} ".lower(),
                ))  # fmt: skip
                rows["task"].append((task, pk))

    def _finish(self) -> None:
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in (Work, IncidentNote, TimeEntry, SlaClock, SlaClockEvent, Article, ArticleVersion,
                          ArticleFeedback, RequestApproval, RequestUserObjectPermission):  # fmt: skip
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}"
                )
            analysed = (
                Work, Incident, IncidentNote, TimeEntry, SlaClock, SlaClockEvent, Problem,
                Incident.related_problems.through, Incident.hosts.through, Problem.hosts.through,
                Problem.host_groups.through, Article, ArticleVersion, ArticleFeedback, Article.incidents.through,
                Change, Change.hosts.through, Change.host_groups.through,
                Request, RequestTask, RequestApproval, RequestUserObjectPermission, FormVersion,
                HostGroup, Host, HostGroupDependency, MaintenanceWindow, ChangeFreeze,
            )  # fmt: skip
            # VACUUM as well as ANALYZE, as autovacuum keeps a production database: the visibility
            # map then marks the loaded pages all-visible, so index-only scans (the queues' capped
            # counts) read no heap; without it every counted row is a heap visit, ten times slower.
            # VACUUM cannot run in a transaction (the tests load inside one): ANALYZE alone there.
            in_transaction = connection.in_atomic_block or not connection.get_autocommit()
            command = "ANALYZE" if in_transaction else "VACUUM (ANALYZE)"
            for model in analysed:
                cursor.execute(f"{command} {model._meta.db_table}")


def bulk_form(rng: random.Random, size: int) -> list[dict]:
    """A catalog form of ``size`` fields of every type, as ``catalog.formdef`` stores one: every
    fifth field shown only when the first (a checkbox) is ticked."""
    fields = [{"name": "urgent", "label": "Is it urgent?", "type": "checkbox", "required": False,
               "options": [], "default_value": False, "help_text": "", "condition": None}]  # fmt: skip
    for i in range(1, size):
        kind = FIELD_TYPES[i % len(FIELD_TYPES)]
        field = {"name": f"field_{i:02d}", "label": f"{kind.capitalize()} question {i}", "type": kind,
                 "required": kind not in ("checkbox", "hidden") and i % 2 == 0, "options": [],
                 "default_value": "", "help_text": "", "condition": None}  # fmt: skip
        if kind in ("dropdown", "radio"):
            field["options"] = [f"Choice {n}" for n in range(1, rng.randint(3, 6))]
        if kind == "checkbox":
            field["default_value"] = False
        if kind == "hidden":
            field["default_value"] = f"cost-centre-{rng.randint(100, 999)}"
        if i % 5 == 0 and kind not in ("hidden",):
            field["condition"] = {"field": "urgent", "value": "true"}
        fields.append(field)
    return fields


def bulk_answers(rng: random.Random, fields: list[dict]) -> dict:
    """What a customer answered on ``fields`` (as ``formdef.validate_submission`` cleans it)."""
    answers, urgent = {}, rng.random() < 0.3
    for field in fields:
        kind = field["type"]
        if field["condition"] and not urgent:
            continue
        if kind == "checkbox":
            answers[field["name"]] = urgent if field["name"] == "urgent" else rng.random() < 0.5
        elif kind == "hidden":
            answers[field["name"]] = field["default_value"]
        elif kind == "number":
            answers[field["name"]] = rng.randint(1, 20)
        elif kind in ("dropdown", "radio"):
            answers[field["name"]] = rng.choice(field["options"])
        elif kind == "date":
            answers[field["name"]] = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        elif kind == "email":
            answers[field["name"]] = f"someone{rng.randint(1, 999)}@example.com"
        elif field["required"] or rng.random() < 0.6:
            answers[field["name"]] = rng.choice(WORDS).capitalize() + " " + rng.choice(WORDS)
    return answers
