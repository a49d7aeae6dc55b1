"""The database itself refuses changes to the audit journal.

PostgreSQL refuses UPDATE and DELETE of any row (TRUNCATE, a table owner's maintenance
operation, is left to the database administrator). SQLite refuses UPDATE; deleting is refused by
the model and every door, as SQLite offers no way to tell the test runner's flush from a user.
"""

from django.db import migrations

SQLITE_UP = [
    """CREATE TRIGGER itsm_auditentry_no_update BEFORE UPDATE ON itsm_auditentry
       BEGIN SELECT RAISE(ABORT, 'The audit journal is append-only.'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS itsm_auditentry_no_update",
]
POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION itsm_auditentry_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'The audit journal is append-only.'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER itsm_auditentry_append_only BEFORE UPDATE OR DELETE ON itsm_auditentry
       FOR EACH ROW EXECUTE FUNCTION itsm_auditentry_append_only()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS itsm_auditentry_append_only ON itsm_auditentry",
    "DROP FUNCTION IF EXISTS itsm_auditentry_append_only()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("itsm", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
