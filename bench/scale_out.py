#!/usr/bin/env python
"""Scale-out, shown: several gunicorn web processes and several django-q2 clusters against one
PostgreSQL database with Redis as the broker, under a bounded mixed load, then checked.

    .venv/bin/python bench/scale_out.py                        # 2 web processes, 2 clusters
    .venv/bin/python bench/scale_out.py --web 1 --clusters 1   # the one-process comparison
    .venv/bin/python bench/scale_out.py --mode storm --duration 20   # alerts/s through /api/v1/events/
    .venv/bin/python bench/scale_out.py --mode storm --batch 100     # the same, 100 alerts a POST

What it does:

1. Makes a fresh PostgreSQL database (``--db``, dropped first; a copy of a migrated template
   kept for the same migration files, ``--no-template`` to migrate from empty) and seeds a small
   base: organisations, customers and agents with DRF tokens, a monitoring account, an
   assignment group, host groups and hosts, a 24×7 SLA with one- and two-minute targets, a
   three-stage escalation policy of one minute a stage, and a backlog of open incidents whose
   SLA warnings, breaches and escalation stages fall due while the load runs.
2. Empties its Redis database (``--redis-db``) and starts ``--web`` gunicorn masters (one port
   each, ``--workers`` workers each) and ``--clusters`` ``manage.py qcluster`` processes with
   ``Q_BROKER`` on it, DEBUG off, e-mail written one file a message (``bench/scale_mailbox.py``).
3. Drives the load for ``--duration`` seconds from ``--threads`` client threads, round-robin
   over the web ports: in ``mixed`` mode incident creates (customers), comments, resolves, list
   and detail reads (agents) and alert storms through ``/api/v1/events/`` (with resent events);
   in ``storm`` mode alerts only. Meanwhile the migrations' django-q2 schedules run the SLA and
   escalation sweeps, and the run queues two more of each every few seconds, so the clusters
   run sweeps side by side.
4. Waits for the queue to drain, stops the processes and checks: no 5xx and no failed
   background task; every incident and comment the API answered for exists exactly once (and
   none it refused exists); every resolve holds; no SLA clock warned or breached twice, no
   escalation stage entered twice, each incident's escalation level equal to its breaches; no
   e-mail sent twice; alert de-duplication and storm grouping exact.
5. Prints requests per second and p95 per endpoint and the sweeps' figures (``--json`` writes
   them to a file). Exits 1 when any check fails.

Needs PostgreSQL (``--pg``, default ``postgres://postgres@127.0.0.1:5432``) and Redis
(``--redis``, default ``redis://127.0.0.1:6379``) on this machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "scale-monitor"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=["mixed", "storm"], default="mixed")
    p.add_argument("--web", type=int, default=2, help="gunicorn masters, one port each (default 2)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers per master (default 2)")
    p.add_argument("--clusters", type=int, default=2, help="qcluster processes (default 2)")
    p.add_argument("--q-workers", type=int, default=2, help="workers per qcluster (default 2)")
    p.add_argument("--threads", type=int, default=16, help="client threads (default 16)")
    p.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    p.add_argument("--warmup", type=float, default=0, help="seconds of the same load first, not measured")
    p.add_argument("--backlog", type=int, default=150, help="open incidents seeded for the sweeps")
    p.add_argument("--rules", type=int, default=0, help="alert rules (default: 12 mixed, 60 storm)")
    p.add_argument("--hosts", type=int, default=0, help="hosts per storm rule (default: 8 mixed, 25 storm)")
    p.add_argument("--batch", type=int, default=1, help="alerts per POST /api/v1/events/ (more than 1: a list)")
    p.add_argument(
        "--conn-max-age", type=int, default=60,
        help="the web processes' CONN_MAX_AGE (default 60; longer than the run: PostgreSQL's CPU is all counted)",
    )  # fmt: skip
    p.add_argument("--port", type=int, default=8610, help="first web port (default 8610)")
    p.add_argument("--pg", default=os.environ.get("SCALE_PG", "postgres://postgres@127.0.0.1:5432"))
    p.add_argument("--db", default="itsm_scale", help="database to (re)create (default itsm_scale)")
    p.add_argument("--redis", default=os.environ.get("SCALE_REDIS", "redis://127.0.0.1:6379"))
    p.add_argument("--redis-db", type=int, default=7, help="Redis database number, emptied first")
    p.add_argument("--poke", type=float, default=3.0, help="seconds between extra sweep pairs (0: none)")
    p.add_argument(
        "--no-template", dest="template", action="store_false",
        help="migrate the database from empty instead of copying a migrated template",
    )  # fmt: skip
    p.add_argument("--keep", action="store_true", help="keep the database and the run directory (logs, mails)")
    p.add_argument("--json", help="write the figures and checks to this file")
    args = p.parse_args(argv)
    args.rules = args.rules or (60 if args.mode == "storm" else 12)
    args.hosts = args.hosts or (25 if args.mode == "storm" else 8)
    return args


# --- Environment, database, seed -----------------------------------------------------------------


def environment(args, run_dir: Path) -> dict:
    pg = urlsplit(args.pg)
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SITE_URL": f"http://127.0.0.1:{args.port}",
        "DATABASE_URL": f"{pg.scheme}://{pg.netloc}/{args.db}",
        "CONN_MAX_AGE": str(args.conn_max_age),
        "Q_BROKER": f"{args.redis.rstrip('/')}/{args.redis_db}",
        "Q_WORKERS": str(args.q_workers),
        "Q_SAVE_LIMIT": "0",  # keep every task's result: the sweeps' figures come from them
        "EMAIL_BACKEND": "bench.scale_mailbox.EmailBackend",
        "SCALE_MAIL_DIR": str(run_dir / "mail"),
        "LOG_LEVEL": "WARNING",
    }


def _admin(args):
    import psycopg

    pg = urlsplit(args.pg)
    return psycopg.connect(
        host=pg.hostname, port=pg.port or 5432, user=pg.username, password=pg.password or None,
        dbname="postgres", autocommit=True, connect_timeout=5,
    )  # fmt: skip


def migrations_key() -> str:
    """A hash of every migration file: a template database made from the same files is reused."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def recreate_database(args, env: dict) -> None:
    """The run's database, migrated: a copy of a migrated template (made on first use and kept
    for runs on the same migrations), or, with ``--no-template``, migrated from empty."""
    with _admin(args) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        if not args.template:
            conn.execute(f'CREATE DATABASE "{args.db}"')
            _migrate(env, args.db)
            return
        template = f"{args.db}_template_{migrations_key()}"[:63]
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone():
            for (old,) in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{args.db}_template_%"]
            ).fetchall():
                conn.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{template}"')
            try:
                _migrate(env, template)
            except BaseException:
                conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
                raise
        conn.execute(f'CREATE DATABASE "{args.db}" TEMPLATE "{template}"')


def _migrate(env: dict, db: str) -> None:
    url = urlsplit(env["DATABASE_URL"])
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, check=True, env={**os.environ, "DATABASE_URL": f"{url.scheme}://{url.netloc}/{db}"},
    )  # fmt: skip


def drop_database(args) -> None:
    with _admin(args) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')


def seed(args) -> dict:
    """The base the load and the sweeps work on; answers the tokens and the backlog."""
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from escalation.models import EscalationPolicy, EscalationStage
    from incidents import services as incident_services
    from incidents.models import Incident
    from itsm import access
    from itsm.models import (
        AssignmentGroup,
        GroupMembership,
        Host,
        HostGroup,
        Organisation,
        SlaDefinition,
        User,
    )
    from itsm.roles import Persona, Role
    from sla.models import BusinessCalendar, SlaClock

    always = BusinessCalendar.objects.create(name="Always (scale)", always_open=True)
    targets = {}
    for n in ("p1", "p2", "p3", "p4"):
        targets[f"{n}_response_minutes"] = 1
        targets[f"{n}_resolution_minutes"] = 2
    sla = SlaDefinition.objects.create(name="Scale 24×7", calendar=always, is_default=True, **targets)
    orgs = [Organisation.objects.create(name=f"Org {i}", default_sla=sla) for i in range(3)]

    def user(name, persona, org=None):
        # Tokens only: no password (hashing one costs a quarter of a second of CPU).
        u = User.objects.create_user(username=name, email=f"{name}@example.com", organisation=org)
        access.persona_grant(user=u, persona=persona)
        return u

    customers = [user(f"customer{i}", Persona.EVERYONE, orgs[i % 3]) for i in range(9)]
    agents = [user(f"agent{i}", Persona.L2_AGENT) for i in range(6)]
    lead = user("lead", Persona.TEAM_LEADER)
    desk = AssignmentGroup.objects.create(name="Desk", email="desk@example.com")
    for a in agents:
        GroupMembership.objects.create(group=desk, user=a, role=GroupMembership.Role.MEMBER)
    GroupMembership.objects.create(group=desk, user=lead, role=GroupMembership.Role.LEAD)
    policy = EscalationPolicy.objects.create(name="Scale escalation", is_default=True)
    EscalationStage.objects.create(policy=policy, order=1, timeout_minutes=1, assignment_group=desk)
    EscalationStage.objects.create(policy=policy, order=2, timeout_minutes=1).users.add(lead)
    EscalationStage.objects.create(policy=policy, order=3, timeout_minutes=1).users.add(lead, agents[0])

    monitoring = User.objects.create_user(username="monitoring", email="monitoring@example.com")
    access.roles_grant(user=monitoring, roles=[Role.ITSM_AGENT])
    groups = [
        HostGroup.objects.create(name=f"Servers {i}", service_tier="high", sla=sla, organisation=orgs[i % 3])
        for i in range(3)
    ]
    Host.objects.bulk_create(
        Host(hostname=f"host-{r:03d}-{h:03d}", host_group=groups[(r + h) % 3], organisation=orgs[(r + h) % 3])
        for r in range(args.rules)
        for h in range(args.hosts)
    )

    # The backlog: open incidents whose warnings, breaches and stage timeouts fall due during
    # the load (spread over its first 80 %), so the sweeps always have work.
    now = timezone.now()
    backlog = []
    for i in range(args.backlog):
        backlog.append(
            incident_services.incident_create(
                actor=customers[i % len(customers)],
                data={"short_description": f"Backlog {i}", "description": "Seeded for the sweeps."},
            ).pk
        )
    start = now + timedelta(seconds=20)  # about when the load starts
    rng = random.Random(7)
    for pk in backlog:
        at = start + timedelta(seconds=rng.uniform(0, 0.8 * args.duration))
        for clock in SlaClock.objects.filter(work_id=pk, state="running", due_at__isnull=False):
            SlaClock.objects.filter(pk=clock.pk).update(
                warn_at=at - timedelta(seconds=5), due_at=at + timedelta(seconds=5)
            )
        Incident.objects.filter(pk=pk).update(escalation_next_at=at)

    token = lambda u: Token.objects.create(user=u).key  # noqa: E731
    return {
        "customers": [token(u) for u in customers],
        "agents": [token(u) for u in agents],
        "monitoring": token(monitoring),
        "backlog": backlog,
    }


# --- Processes -----------------------------------------------------------------------------------


class Processes:
    def __init__(self, env: dict, run_dir: Path):
        self.env = {**os.environ, **env}
        self.run_dir = run_dir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], extra: dict | None = None):
        log = open(self.run_dir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            command, cwd=ROOT, env={**self.env, **(extra or {})}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.procs.append((name, proc))

    def check_alive(self):
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({proc.returncode}); see {self.run_dir / name}.log")

    def stop(self):
        for _name, proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5  # the queue is drained: nothing is left to finish
        for _name, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _proc_stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # the fields after the command name


def cpu_seconds(procs: Processes, db: str) -> dict:
    """CPU time so far of the run's own processes (Linux ``/proc``): the web processes, the
    clusters, the PostgreSQL backends serving the run's database, and this client. On a machine
    shared with other work the wall-clock figures say little; CPU time per request does."""
    from django.db import connection

    tick = os.sysconf("SC_CLK_TCK")
    groups = {name: proc.pid for name, proc in procs.procs}
    used = {"web": 0.0, "clusters": 0.0, "postgres": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _proc_stat(int(entry.name))
        if fields is None:
            continue
        pgrp = int(fields[2])
        for name, pid in groups.items():
            if pgrp == pid:
                used["web" if name.startswith("web") else "clusters"] += (int(fields[11]) + int(fields[12])) / tick
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [db])
        for (pid,) in cursor.fetchall():
            fields = _proc_stat(pid)
            if fields is not None:
                used["postgres"] += (int(fields[11]) + int(fields[12])) / tick
                used[f"pg:{pid}"] = (int(fields[11]) + int(fields[12])) / tick
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used["client"] = usage.ru_utime + usage.ru_stime
    return used


def wait_ready(ports, token, procs: Processes, timeout=60):
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            procs.check_alive()
            try:
                status, _ = request(port, "GET", "/api/v1/incidents/?page_size=1", token)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the web process on port {port} did not answer in {timeout} s")
            time.sleep(0.3)


def request(port: int, method: str, path: str, token: str, body=None, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw[:500].decode(errors="replace")
        return response.status, payload
    finally:
        conn.close()


# --- Load ----------------------------------------------------------------------------------------


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.errors: list[str] = []

    def add(self, endpoint: str, seconds: float, status: int, detail=None):
        with self.lock:
            self.times[endpoint].append(seconds)
            self.statuses[endpoint][status] += 1
            if status >= 500 or status == 0 or (status >= 400 and len(self.errors) < 50):
                self.errors.append(f"{endpoint} {status}: {str(detail)[:300]}")


class Storm:
    """Alerts of ``rules`` rules. Even rules are storms (each fires on ``hosts`` hosts); odd
    rules fire on one host only, again and again (fingerprint repeats). One post in ten resends
    an event already answered, byte for byte (a duplicate)."""

    def __init__(self, rules: int, hosts: int, seed: int = 11):
        self.rules, self.hosts = rules, hosts
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.answered: list[dict] = []  # payloads answered 201/200
        self.sent: list[tuple[dict, int, dict | None]] = []  # (payload, status, body)

    def next(self) -> tuple[dict, bool]:
        with self.lock:
            if self.answered and self.rng.random() < 0.1:
                return self.rng.choice(self.answered), True
            r = self.rng.randrange(self.rules)
            h = self.rng.randrange(self.hosts) if r % 2 == 0 else 0
            severity = self.rng.choice(["critical", "major", "minor", "warning"])
        host = f"host-{r:03d}-{h:03d}"
        return {
            "source": SOURCE, "rule": f"rule-{r:03d}", "host": host, "severity": severity,
            "message": f"rule-{r:03d} fired on {host}", "fingerprint": f"rule-{r:03d}:{host}",
            "event_id": uuid.uuid4().hex,
        }, False  # fmt: skip

    def record(self, payload, status, body, resend):
        with self.lock:
            self.sent.append((payload, status, body if isinstance(body, dict) else None, resend))
            if status in (200, 201) and not resend:
                self.answered.append(payload)


def run_load(args, ports, tokens, storm: Storm, recorder: Recorder, duration: float):
    created: dict[str, dict] = {}  # tag -> {"id", "number"} (answered 201)
    refused_creates: list[str] = []
    comments: dict[str, int] = {}  # tag -> incident id (answered 201)
    refused_comments: list[str] = []
    resolved: list[int] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + duration
    counter = iter(range(10**9))
    weights = (
        {"event": 1} if args.mode == "storm"
        else {"create": 14, "comment": 18, "resolve": 7, "list": 20, "detail": 20, "event": 21}
    )  # fmt: skip
    names, cumulative = list(weights), []
    total = 0
    for name in names:
        total += weights[name]
        cumulative.append(total)

    def worker(n: int):
        rng = random.Random(n)
        mine: list[int] = []  # this thread's open incidents: comments and resolves are its own
        seen: list[int] = []
        customer = tokens["customers"][n % len(tokens["customers"])]
        agent = tokens["agents"][n % len(tokens["agents"])]
        while time.monotonic() < stop_at:
            port = ports[next(counter) % len(ports)]
            draw = rng.uniform(0, total)
            op = names[next(i for i, c in enumerate(cumulative) if draw <= c)]
            if op in ("comment", "resolve") and not mine:
                op = "create"
            if op == "detail" and not seen:
                op = "list"
            t0 = time.perf_counter()
            try:
                if op == "create":
                    tag = uuid.uuid4().hex
                    body = {"short_description": f"Scale {tag}", "description": "Made by the scale-out run."}
                    status, answer = request(port, "POST", "/api/v1/incidents/", customer, body)
                    if status == 201:
                        with lock:
                            created[tag] = {"id": answer["id"], "number": answer["number"]}
                        mine.append(answer["id"])
                        seen.append(answer["id"])
                    else:
                        refused_creates.append(tag)
                elif op == "comment":
                    tag = uuid.uuid4().hex
                    pk = rng.choice(mine)
                    body = {"kind": "comment", "body": f"Comment {tag}"}
                    status, answer = request(port, "POST", f"/api/v1/incidents/{pk}/notes/", agent, body)
                    with lock:
                        if status == 201:
                            comments[tag] = pk
                        else:
                            refused_comments.append(tag)
                elif op == "resolve":
                    pk = mine.pop(rng.randrange(len(mine)))
                    body = {"resolution_code": "resolved", "resolution_notes": "Fixed in the scale-out run."}
                    status, answer = request(port, "POST", f"/api/v1/incidents/{pk}/resolve/", agent, body)
                    if status == 200:
                        with lock:
                            resolved.append(pk)
                elif op == "list":
                    status, answer = request(port, "GET", "/api/v1/incidents/?page_size=25", agent)
                    if status == 200 and len(seen) < 200:
                        seen.extend(row["id"] for row in answer["results"][:3])
                elif op == "detail":
                    status, answer = request(port, "GET", f"/api/v1/incidents/{rng.choice(seen)}/", agent)
                elif args.batch > 1:  # a list of alerts: one result each, in order
                    sent = [storm.next() for _ in range(args.batch)]
                    body = [payload for payload, _ in sent]
                    status, answer = request(port, "POST", "/api/v1/events/", tokens["monitoring"], body)
                    items = answer if status in (200, 201) and isinstance(answer, list) else [None] * len(sent)
                    for (payload, resend), item in zip(sent, items, strict=True):
                        storm.record(payload, status, item, resend)
                else:
                    payload, resend = storm.next()
                    status, answer = request(port, "POST", "/api/v1/events/", tokens["monitoring"], payload)
                    storm.record(payload, status, answer, resend)
            except OSError as exc:
                status, answer = 0, repr(exc)
            recorder.add(op, time.perf_counter() - t0, status, answer if status >= 400 or status == 0 else None)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(args.threads)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "recorder": recorder,
        "elapsed": elapsed,
        "created": created,
        "refused_creates": refused_creates,
        "comments": comments,
        "refused_comments": refused_comments,
        "resolved": resolved,
    }


def poke_sweeps(stop: threading.Event, every: float, queued: list):
    """Two more of each sweep every ``every`` seconds, on top of the schedules."""
    from django_q.tasks import async_task

    while not stop.wait(every):
        for _ in range(2):
            queued.append(async_task("sla.tasks.sla_sweep", task_name="scale.sla_sweep"))
            queued.append(async_task("escalation.tasks.escalation_sweep", task_name="scale.escalation_sweep"))


def drain(procs: Processes, timeout=120):
    """Queue a last pair of sweeps and wait until they ran and the queue stays empty."""
    from django_q.brokers import get_broker
    from django_q.models import Task
    from django_q.tasks import async_task

    broker = get_broker()
    last = [
        async_task("sla.tasks.sla_sweep", task_name="scale.sla_sweep"),
        async_task("escalation.tasks.escalation_sweep", task_name="scale.escalation_sweep"),
    ]
    deadline = time.monotonic() + timeout
    stable_since, seen = None, -1
    while time.monotonic() < deadline:
        procs.check_alive()
        done = Task.objects.filter(id__in=last).count() == len(last)
        count = Task.objects.count()
        if done and broker.queue_size() == 0:
            if count == seen:
                if stable_since and time.monotonic() - stable_since > 3:
                    return
            else:
                stable_since, seen = time.monotonic(), count
        time.sleep(0.5)
    raise RuntimeError("the background queue did not drain in time")


# --- Checks ----------------------------------------------------------------------------------------


def checks(args, load, storm: Storm, recorder: Recorder, run_dir: Path) -> tuple[list[str], dict]:
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count
    from django_q.models import Task

    from incidents.models import Alert, Incident, IncidentNote
    from itsm.models import AuditEntry
    from sla.models import ClockEvent, SlaClockEvent

    failed: list[str] = []
    figures: dict = {}

    def check(ok: bool, text: str):
        print(("ok    " if ok else "FAIL  ") + text)
        if not ok:
            failed.append(text)

    fives = {ep: sum(n for s, n in c.items() if s >= 500 or s == 0) for ep, c in recorder.statuses.items()}
    check(sum(fives.values()) == 0, f"no 5xx or dropped connection ({fives})")
    fours = {ep: {s: n for s, n in c.items() if 400 <= s < 500} for ep, c in recorder.statuses.items()}
    fours = {ep: c for ep, c in fours.items() if c}
    check(not fours, f"no refused request (4xx: {fours or 'none'})")
    failed_tasks = list(Task.objects.filter(success=False).values_list("func", "result")[:5])
    check(not failed_tasks, f"no failed background task ({Task.objects.filter(success=False).count()})")

    # Incidents and comments: each answered write once, no refused one.
    created = load["created"]
    if created:
        tags = Counter()
        for desc in Incident.objects.filter(short_description__startswith="Scale ").values_list(
            "short_description", flat=True
        ):
            tags[desc.removeprefix("Scale ")] += 1
        ids = dict(Incident.objects.filter(short_description__startswith="Scale ").values_list("number", "pk"))
        doubled = [t for t, n in tags.items() if n > 1]
        lost = [t for t in created if tags[t] != 1 or ids.get(created[t]["number"]) != created[t]["id"]]
        extra = [t for t in load["refused_creates"] if tags[t]]
        check(
            not doubled and not lost and not extra and len(tags) == len(created),
            f"every created incident exists exactly once ({len(created)} answered, {len(tags)} in the "
            f"database, {len(lost)} lost, {len(doubled)} doubled, {len(extra)} refused yet written)",
        )
    if load["comments"] or load["refused_comments"]:
        bodies = Counter(
            b.removeprefix("Comment ")
            for b in IncidentNote.objects.filter(body__startswith="Comment ").values_list("body", flat=True)
        )
        where = dict(
            (b.removeprefix("Comment "), i)
            for b, i in IncidentNote.objects.filter(body__startswith="Comment ").values_list("body", "incident_id")
        )
        lost = [t for t, pk in load["comments"].items() if bodies[t] != 1 or where.get(t) != pk]
        doubled = [t for t, n in bodies.items() if n > 1]
        extra = [t for t in load["refused_comments"] if bodies[t]]
        check(
            not lost and not doubled and not extra and len(bodies) == len(load["comments"]),
            f"every comment exists exactly once ({len(load['comments'])} answered, {len(bodies)} in the "
            f"database, {len(lost)} lost, {len(doubled)} doubled, {len(extra)} refused yet written)",
        )
    if load["resolved"]:
        states = Counter(Incident.objects.filter(pk__in=load["resolved"]).values_list("state", flat=True))
        check(
            states.get("resolved", 0) == len(load["resolved"]),
            f"every resolve holds ({len(load['resolved'])} answered, states {dict(states)})",
        )

    # Sweeps: nothing processed twice.
    events = (
        SlaClockEvent.objects.filter(kind__in=[ClockEvent.WARNED, ClockEvent.BREACHED])
        .values("clock_id", "kind")
        .annotate(n=Count("id"))
    )
    twice = [e for e in events if e["n"] > 1]
    warned = sum(1 for e in events if e["kind"] == ClockEvent.WARNED)
    breached = sum(1 for e in events if e["kind"] == ClockEvent.BREACHED)
    check(not twice, f"no SLA clock warned or breached twice ({warned} warned, {breached} breached, {len(twice)} twice)")
    incident_type = ContentType.objects.get_for_model(Incident)
    stages = (
        AuditEntry.objects.filter(content_type=incident_type, field="escalation_stage")
        .values("object_id", "old_value", "new_value")
        .annotate(n=Count("id"))
    )
    twice = [s for s in stages if s["n"] > 1]
    moves = sum(1 for s in stages if s["old_value"] not in ("", "None", "—"))
    check(not twice, f"no escalation stage entered twice ({len(stages)} stage entries, {moves} moves, {len(twice)} twice)")
    breaches = Counter(
        SlaClockEvent.objects.filter(kind=ClockEvent.BREACHED).values_list("clock__work_id", flat=True)
    )
    levels = dict(Incident.objects.values_list("pk", "escalation_level"))
    wrong = [pk for pk, level in levels.items() if level != breaches.get(pk, 0)]
    check(not wrong, f"each incident's escalation level equals its SLA breaches ({len(wrong)} differ)")

    # E-mail: none twice.
    mails = Counter()
    for path in (run_dir / "mail").glob("*.eml"):
        msg = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        mails[(msg["To"], msg["Subject"], msg.get_content())] += 1
    doubled = {k[:2]: n for k, n in mails.items() if n > 1}
    check(not doubled, f"no e-mail sent twice ({sum(mails.values())} sent, {len(doubled)} twice: {list(doubled)[:3]})")

    # Alerts: de-duplication and storm grouping exact.
    if storm.sent:
        alert_checks(storm, check, Alert, Incident)

    runs = defaultdict(list)
    for func, started, stopped, result in Task.objects.filter(
        func__in=["sla.tasks.sla_sweep", "escalation.tasks.escalation_sweep"]
    ).values_list("func", "started", "stopped", "result"):
        runs[func].append(((stopped - started).total_seconds(), result or {}))
    sla_runs, esc_runs = runs["sla.tasks.sla_sweep"], runs["escalation.tasks.escalation_sweep"]
    figures["sweeps"] = {
        "sla_runs": len(sla_runs),
        "sla_warned": sum(r.get("warned", 0) if isinstance(r.get("warned", 0), int) else len(r["warned"]) for _, r in sla_runs),
        "sla_breached": sum(r.get("breached", 0) if isinstance(r.get("breached", 0), int) else len(r["breached"]) for _, r in sla_runs),
        "sla_median_ms": round(1000 * statistics.median([d for d, _ in sla_runs]), 1) if sla_runs else None,
        "sla_max_ms": round(1000 * max(d for d, _ in sla_runs), 1) if sla_runs else None,
        "escalation_runs": len(esc_runs),
        "escalation_advanced": sum(r.get("advanced", 0) for _, r in esc_runs),
        "escalation_median_ms": round(1000 * statistics.median([d for d, _ in esc_runs]), 1) if esc_runs else None,
        "escalation_max_ms": round(1000 * max(d for d, _ in esc_runs), 1) if esc_runs else None,
        "clocks_warned": warned,
        "clocks_breached": breached,
        "stage_moves": moves,
        "emails": sum(mails.values()),
        "tasks": Task.objects.count(),
    }
    return failed, figures


def alert_checks(storm: Storm, check, Alert, Incident) -> None:
    ok = check

    firsts = [(p, s, b) for p, s, b, resend in storm.sent if not resend and s in (200, 201) and b]
    resends = [(p, s, b) for p, s, b, resend in storm.sent if resend and s in (200, 201) and b]
    original = {p["event_id"]: b for p, s, b in firsts}
    rows = Counter(Alert.objects.filter(source=SOURCE).values_list("event_id", flat=True))
    wrong = [e for e in original if rows[e] != 1]
    ok(
        not wrong and sum(rows.values()) == len(original) and not any(b["duplicate"] for _, _, b in firsts),
        f"each alert stored once ({len(original)} new alerts answered, {sum(rows.values())} stored, {len(wrong)} not once)",
    )
    bad = [p for p, _, b in resends if not b["duplicate"] or b["alert"] != original[p["event_id"]]["alert"]]
    ok(not bad, f"each resent event answered duplicate with the first answer's alert ({len(resends)} resent, {len(bad)} wrong)")

    by_rule: dict[str, set] = defaultdict(set)
    hosts_sent: dict[str, set] = defaultdict(set)
    for p, _, _ in firsts:
        hosts_sent[p["rule"]].add(p["host"])
    for rule, incident_id in Alert.objects.filter(source=SOURCE).values_list("rule", "incident_id"):
        by_rule[rule].add(incident_id)
    storms = {r for r, hosts in hosts_sent.items() if len(hosts) >= 3}
    singles = {r for r, hosts in hosts_sent.items() if len(hosts) == 1}
    bad_storms = []
    for rule in storms:
        incidents = by_rule[rule]
        if len(incidents) != 1:
            bad_storms.append((rule, len(incidents)))
            continue
        incident = Incident.objects.get(pk=next(iter(incidents)))
        hostnames = set(incident.hosts.values_list("hostname", flat=True))
        if incident.source != "storm" or hostnames != hosts_sent[rule]:
            bad_storms.append((rule, incident.source, len(hostnames), len(hosts_sent[rule])))
    storm_incidents = Incident.objects.filter(source="storm").count()
    ok(
        not bad_storms and storm_incidents == len(storms),
        f"each storm rule is one storm incident listing every host ({len(storms)} rules, "
        f"{storm_incidents} storm incidents, wrong: {bad_storms[:3]})",
    )
    bad_singles = [r for r in singles if len(by_rule[r]) != 1]
    outcomes = Counter(b["outcome"] for _, _, b in firsts)
    ok(
        not bad_singles,
        f"each repeated fingerprint is one incident with every repeat attached ({len(singles)} "
        f"fingerprints, {len(bad_singles)} wrong; outcomes {dict(outcomes)})",
    )


# --- Report ----------------------------------------------------------------------------------------


def p95(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def report(args, load, recorder: Recorder, figures: dict) -> dict:
    elapsed = load["elapsed"]
    rows = {}
    print(f"\n{args.mode} load, {args.web} web process(es) × {args.workers} worker(s), {args.clusters} "
          f"cluster(s) × {args.q_workers} worker(s), {args.threads} client threads, {elapsed:.1f} s; "
          f"{os.cpu_count()} CPUs, load average {load['loadavg'][0]} before, {load['loadavg'][1]} after")  # fmt: skip
    print("| Endpoint | requests | req/s | median ms | p95 ms |")
    print("|---|---:|---:|---:|---:|")
    every = []
    for endpoint in sorted(recorder.times):
        times = recorder.times[endpoint]
        every.extend(times)
        rows[endpoint] = {
            "requests": len(times),
            "rps": round(len(times) / elapsed, 1),
            "median_ms": round(1000 * statistics.median(times), 1),
            "p95_ms": round(1000 * p95(times), 1),
        }
        r = rows[endpoint]
        print(f"| {endpoint} | {r['requests']} | {r['rps']} | {r['median_ms']} | {r['p95_ms']} |")
    if every:
        rows["all"] = {
            "requests": len(every),
            "rps": round(len(every) / elapsed, 1),
            "median_ms": round(1000 * statistics.median(every), 1),
            "p95_ms": round(1000 * p95(every), 1),
        }
        r = rows["all"]
        print(f"| all | {r['requests']} | {r['rps']} | {r['median_ms']} | {r['p95_ms']} |")
    cpu = load["cpu"]
    total = sum(cpu.values())
    if every and total:
        per_request = 1000 * total / len(every)
        figures["cpu"] = {
            **cpu,
            "ms_per_request": round(per_request, 1),
            "requests_per_second_on_idle_cpus": round(os.cpu_count() * 1000 / per_request, 1),
        }
        print(
            f"CPU seconds during the load: {cpu} = {per_request:.1f} ms a request; the "
            f"{os.cpu_count()} CPUs of this machine, idle, would serve about "
            f"{figures['cpu']['requests_per_second_on_idle_cpus']:.0f} requests/s at that cost"
        )
    print("sweeps:", json.dumps(figures.get("sweeps", {})))
    return rows


_T0 = time.monotonic()


def phase(what: str) -> None:
    print(f"[{time.monotonic() - _T0:6.1f} s] {what}", flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    run_dir = Path(tempfile.mkdtemp(prefix="scale_out_"))
    (run_dir / "mail").mkdir()
    env = environment(args, run_dir)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    recreate_database(args, env)
    phase("database made and migrated")
    import django

    django.setup()
    import redis

    redis.Redis.from_url(env["Q_BROKER"]).flushdb()
    tokens = seed(args)
    phase(f"seeded {args.db}; run dir {run_dir}")

    procs = Processes(env, run_dir)
    ports = [args.port + i for i in range(args.web)]
    failed: list[str] = []
    try:
        for i, port in enumerate(ports):
            procs.start(
                f"web{i}",
                [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(args.workers), "--timeout", "60", "--graceful-timeout", "5"],
            )  # fmt: skip
        for i in range(args.clusters):
            procs.start(f"qcluster{i}", [sys.executable, "manage.py", "qcluster"])
        wait_ready(ports, tokens["agents"][0], procs)
        phase("processes ready")
        storm = Storm(args.rules, args.hosts)
        recorder = Recorder()
        stop, queued = threading.Event(), []
        poker = None
        if args.poke > 0:
            poker = threading.Thread(target=poke_sweeps, args=(stop, args.poke, queued), daemon=True)
            poker.start()
        warm = None
        if args.warmup > 0:  # the same load, not measured: the storms are formed by the end of it
            warm = run_load(args, ports, tokens, storm, Recorder(), args.warmup)
            phase("warm-up done")
        sent_before = len(storm.sent)
        load_before, cpu_before = os.getloadavg()[0], cpu_seconds(procs, args.db)
        load = run_load(args, ports, tokens, storm, recorder, args.duration)
        if warm is not None:
            load["created"].update(warm["created"])
            load["comments"].update(warm["comments"])
            for key in ("refused_creates", "refused_comments", "resolved"):
                load[key].extend(warm[key])
            for endpoint, statuses in warm["recorder"].statuses.items():
                recorder.statuses[f"{endpoint} (warm-up)"] = statuses
        cpu_after = cpu_seconds(procs, args.db)
        load["storm_from"] = sent_before
        load["loadavg"] = (round(load_before, 1), round(os.getloadavg()[0], 1))
        load["cpu"] = {k: round(cpu_after[k] - cpu_before[k], 1) for k in cpu_before if ":" not in k}
        # A backend that ended during the load took its CPU time with it (not counted); one that
        # started during it counts from zero: per backend, not the difference of two sums.
        backends = [k for k in cpu_after if k.startswith("pg:")]
        load["cpu"]["postgres"] = round(sum(cpu_after[k] - cpu_before.get(k, 0.0) for k in backends), 1)
        stop.set()
        if poker:
            poker.join()
        phase("load done")
        procs.check_alive()
        drain(procs)
        phase("queue drained")
    finally:
        procs.stop()
        phase("processes stopped")
    failed, figures = checks(args, load, storm, recorder, run_dir)
    rows = report(args, load, recorder, figures)
    if args.mode == "storm" or storm.sent:
        accepted = sum(1 for _p, s, _b, _r in storm.sent[load["storm_from"] :] if s in (200, 201))
        rate = accepted / load["elapsed"]
        figures["alerts_per_second"] = round(rate, 1)
        print(f"alerts: {accepted} answered in {load['elapsed']:.1f} s = {rate:.0f}/s")
        if accepted:  # CPU per alert: the figure to judge on a machine shared with other work
            cpu = load["cpu"]
            web_ms, all_ms = 1000 * cpu["web"] / accepted, 1000 * sum(cpu.values()) / accepted
            figures["alerts"] = {
                "batch": args.batch,
                "answered": accepted,
                "per_second": round(rate, 1),
                "web_cpu_ms_per_alert": round(web_ms, 2),
                "all_cpu_ms_per_alert": round(all_ms, 2),
                "per_second_on_idle_cpus_web": round(os.cpu_count() * 1000 / web_ms) if web_ms else None,
                "per_second_on_idle_cpus_all": round(os.cpu_count() * 1000 / all_ms) if all_ms else None,
            }
            print(
                f"alerts: CPU per alert {web_ms:.2f} ms in the web processes, {all_ms:.2f} ms in all the run's "
                f"processes; {os.cpu_count()} idle CPUs would take about "
                f"{figures['alerts']['per_second_on_idle_cpus_web']}/s at the web processes' cost, "
                f"{figures['alerts']['per_second_on_idle_cpus_all']}/s at all of it"
            )
    for line in recorder.errors[:10]:
        print("  error:", line)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"args": vars(args), "loadavg": load["loadavg"], "endpoints": rows, **figures, "failed": failed},
                indent=2,
            )
        )
    print("FAILED: " + "; ".join(failed) if failed else "all checks passed")
    if not args.keep and not failed:
        import shutil

        from django.db import connections

        connections.close_all()
        drop_database(args)
        shutil.rmtree(run_dir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
