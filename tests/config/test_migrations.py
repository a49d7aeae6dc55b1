"""Upgrades: every migration can be reversed (or says why not), and a new index on a table
that is large in production is built without locking it (docs/ARCHITECTURE.md, "Migrations").

Read from the migration files (no database work), so it costs little; the two operations of
``itsm.migrations_ops`` are run for real at the end."""

from __future__ import annotations

import inspect
import re

import pytest
from django.apps import apps
from django.db import connection, migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from itsm.migrations_ops import AddIndexConcurrentlyOnPostgres, RemoveIndexConcurrentlyOnPostgres

PROJECT_APPS = {"itsm", "incidents", "problems", "changes", "catalog", "knowledge", "oncall", "sla",
                "escalation", "notifications", "config"}  # fmt: skip

# Migrations that cannot be undone, each on purpose, with the reason. Empty today: a data
# migration whose reverse has nothing to do says so with ``migrations.RunPython.noop``.
IRREVERSIBLE_ON_PURPOSE: dict[tuple[str, str], str] = {}

# Tables with a row per incident, note, alert, clock, journal entry or message: millions in a
# large installation. Add a model here when it grows like them.
LARGE = {
    ("itsm", "work"), ("itsm", "auditentry"),
    ("incidents", "incident"), ("incidents", "incidenttask"), ("incidents", "incidentnote"),
    ("incidents", "alert"), ("incidents", "timeentry"),
    ("sla", "slaclock"), ("sla", "slaclockevent"),
    ("notifications", "notification"),
    ("problems", "problem"), ("changes", "change"),
    ("catalog", "request"), ("catalog", "requesttask"),
}  # fmt: skip

# The last migration of each app written before the rule: those built their indexes with a lock
# and are not changed (an applied migration is never run again). Every later one follows it.
BEFORE_THE_RULE = {
    "itsm": "0008", "incidents": "0009", "sla": "0003", "notifications": "0005", "problems": "0005",
    "changes": "0004", "catalog": "0001", "knowledge": "0001", "escalation": "0001", "oncall": "0001",
}  # fmt: skip

CREATE_INDEX = re.compile(r"create\s+(unique\s+)?index\s+(?!concurrently)", re.IGNORECASE)
CONCURRENT = (AddIndexConcurrentlyOnPostgres, RemoveIndexConcurrentlyOnPostgres)


def project_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app_label, name), migration in sorted(loader.disk_migrations.items()):
        if app_label in PROJECT_APPS:
            yield app_label, name, migration


def irreversible_operations(migration) -> list[str]:
    return [op.describe() for op in migration.operations if not op.reversible]


def large_tables() -> set[str]:
    return {apps.get_model(app_label, model)._meta.db_table for app_label, model in LARGE}


def sql_of(operation) -> str:
    if isinstance(operation, migrations.RunSQL):
        return str(operation.sql)
    if isinstance(operation, migrations.RunPython):
        try:
            return inspect.getsource(operation.code)
        except (OSError, TypeError):
            return ""
    return ""


def locking_index_builds(app_label: str, migration) -> list[str]:
    """What in ``migration`` builds an index on a large table under a write lock."""
    found = []
    tables = large_tables()
    for op in migration.operations:
        model = getattr(op, "model_name", None)
        on_large = model is not None and (app_label, model.lower()) in LARGE
        if isinstance(op, (migrations.AddIndex, migrations.RemoveIndex)) and on_large:
            if not isinstance(op, CONCURRENT):
                found.append(f"{op.describe()}: use {type(op).__name__}ConcurrentlyOnPostgres")
            elif migration.atomic:
                found.append(f"{op.describe()}: the migration needs atomic = False")
        elif isinstance(op, migrations.AddField) and on_large and op.field.db_index:
            found.append(
                f"{op.describe()}: its index is built with a lock; add the field with db_index=False "
                "and the index with AddIndexConcurrentlyOnPostgres"
            )
        else:
            sql = sql_of(op)
            if CREATE_INDEX.search(sql) and any(table in sql for table in tables):
                found.append(f"{op.describe()}: CREATE INDEX on a large table without CONCURRENTLY")
    return found


def after_the_rule(app_label: str, name: str) -> bool:
    return name[:4] > BEFORE_THE_RULE.get(app_label, "0000")


def test_every_migration_is_reversible_or_irreversible_on_purpose():
    problems = {
        f"{app_label}.{name}": ops
        for app_label, name, migration in project_migrations()
        if (ops := irreversible_operations(migration)) and (app_label, name) not in IRREVERSIBLE_ON_PURPOSE
    }
    assert not problems, (
        "Give these operations a reverse (RunPython.noop when there is nothing to undo), or list "
        f"the migration in IRREVERSIBLE_ON_PURPOSE with the reason: {problems}"
    )


def test_migrations_listed_as_irreversible_exist_and_give_a_reason():
    known = {(app_label, name) for app_label, name, _ in project_migrations()}
    for key, reason in IRREVERSIBLE_ON_PURPOSE.items():
        assert key in known
        assert reason.strip()


def test_new_indexes_on_large_tables_are_built_without_locking_them_on_postgres():
    problems = {
        f"{app_label}.{name}": found
        for app_label, name, migration in project_migrations()
        if after_the_rule(app_label, name) and (found := locking_index_builds(app_label, migration))
    }
    assert not problems, problems


def test_the_index_rule_finds_the_locking_builds_made_before_it():
    """The rule bites: without the cut-off it names the older migrations that built indexes on
    large tables with a lock."""
    locking = {
        f"{app_label}.{name}"
        for app_label, name, migration in project_migrations()
        if locking_index_builds(app_label, migration)
    }
    assert {"itsm.0008_kind_opened_index", "incidents.0009_incident_search_text"} <= locking


def test_every_large_table_is_a_model_and_every_app_has_a_cut_off():
    assert large_tables()
    assert set(BEFORE_THE_RULE) <= PROJECT_APPS


def test_a_concurrent_index_in_an_atomic_migration_is_refused():
    class Migration(migrations.Migration):
        operations = [
            AddIndexConcurrentlyOnPostgres("work", models.Index(fields=["state"], name="work_state_x"))
        ]

    assert locking_index_builds("itsm", Migration("0099_x", "itsm")) == [
        "Create index work_state_x on work (concurrently on PostgreSQL): the migration needs atomic = False"
    ]


# --- The operations themselves ----------------------------------------------------------------


def index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


@pytest.mark.django_db(transaction=True)  # CREATE INDEX CONCURRENTLY may not run in a transaction
def test_the_concurrent_index_operations_add_and_drop_an_index_on_either_database():
    index = models.Index(fields=["kind", "state"], name="work_kind_state_probe")
    add = AddIndexConcurrentlyOnPostgres("work", index)
    before = ProjectState.from_apps(apps)
    after = before.clone()
    add.state_forwards("itsm", after)
    with connection.schema_editor(atomic=False) as editor:
        add.database_forwards("itsm", editor, before, after)
    assert "work_kind_state_probe" in index_names("itsm_work")

    remove = RemoveIndexConcurrentlyOnPostgres("work", "work_kind_state_probe")
    removed = after.clone()
    remove.state_forwards("itsm", removed)
    with connection.schema_editor(atomic=False) as editor:
        remove.database_forwards("itsm", editor, after, removed)
    assert "work_kind_state_probe" not in index_names("itsm_work")
    assert add.reversible and remove.reversible
