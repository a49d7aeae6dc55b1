"""Backups (README "Backups"): a ``pg_dump -Fc`` of the database restores with ``pg_restore``
into an empty database with every record, journal entry and SLA clock intact, and the
journal's append-only triggers with them. PostgreSQL only: it runs the machine's pg_dump and
pg_restore against the test database."""

from __future__ import annotations

import os
import shutil
import subprocess

import psycopg
import pytest
from django.db import connection

from incidents import services, workflows
from itsm.models import SlaDefinition
from tests.incidents.factories import make_incident

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="pg_dump and pg_restore back up PostgreSQL (run with DATABASE_URL=postgres://…)",
    ),
    pytest.mark.django_db(transaction=True),
]

# Every table's rows in one checksum: count and md5 of the rows as text, in a fixed order.
TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
SEQUENCES = "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
TRIGGERS = (
    "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE NOT t.tgisinternal ORDER BY 1, 2"
)


def _connect(dbname: str):
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or None, port=s["PORT"] or None, user=s["USER"] or None,
        password=s["PASSWORD"] or None, dbname=dbname, autocommit=True,
    )  # fmt: skip


def _fingerprint(dbname: str) -> dict:
    """Per table (count, md5 of its ordered rows); the sequences' positions; the triggers."""
    with _connect(dbname) as conn:
        tables = [row[0] for row in conn.execute(TABLES)]
        found = {}
        for table in tables:
            found[table] = conn.execute(
                f'SELECT count(*), md5(coalesce(string_agg(t::text, \'|\' ORDER BY t::text), \'\')) FROM "{table}" t'
            ).fetchone()
        return {
            "tables": found,
            "sequences": conn.execute(SEQUENCES).fetchall(),
            "triggers": conn.execute(TRIGGERS).fetchall(),
        }


def _pg_env() -> dict:
    s = connection.settings_dict
    env = dict(os.environ)
    for key, name in [("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")]:
        if s[key]:
            env[name] = str(s[key])
    return env


@pytest.fixture
def restore_target():
    name = f"{connection.settings_dict['NAME']}_restore"[:63]
    with _connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with _connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_dump_restores_into_an_empty_database_with_every_record_journal_entry_and_clock(
    tmp_path, restore_target, customer, agent
):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.fail("pg_dump and pg_restore must be installed to test backups (apt-get install postgresql-client)")
    SlaDefinition.objects.create(
        name="Standard", is_default=True, p3_response_minutes=60, p3_resolution_minutes=480,
        p4_response_minutes=120, p4_resolution_minutes=960,
    )  # fmt: skip
    incidents = [make_incident(requester=customer, short_description=f"Backed up {n}") for n in range(3)]
    services.note_add(incident=incidents[0], actor=agent, kind="comment", body="We are on it.")
    services.note_add(incident=incidents[0], actor=agent, kind="work_note", body="Swapped the fuser.")
    workflows.incident_resolve(
        incident=incidents[1], actor=agent, resolution_code="resolved", resolution_notes="Fixed."
    )
    source = connection.settings_dict["NAME"]
    before = _fingerprint(source)
    for table in ("itsm_work", "incidents_incidentnote", "itsm_auditentry", "sla_slaclock", "sla_slaclockevent"):
        assert before["tables"][table][0] > 0, f"{table} has rows to back up"

    dump = tmp_path / "itsm.dump"
    env = _pg_env()
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), source], env=env, check=True, timeout=60)
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "-d", restore_target, str(dump)],
        env=env, check=True, timeout=60,
    )  # fmt: skip

    after = _fingerprint(restore_target)
    differ = {t: (before["tables"][t], after["tables"].get(t)) for t in before["tables"] if before["tables"][t] != after["tables"].get(t)}
    assert not differ, f"tables differ after restore: {differ}"
    assert set(after["tables"]) == set(before["tables"])
    assert after["sequences"] == before["sequences"], "new rows after a restore would reuse ids"
    assert after["triggers"] == before["triggers"]

    # The restored journal is still append-only.
    with _connect(restore_target) as conn, pytest.raises(psycopg.Error):
        conn.execute("UPDATE itsm_auditentry SET note = 'rewritten'")
