"""PostgreSQL also refuses TRUNCATE of the audit journal (a statement trigger: TRUNCATE fires
no row trigger, so the UPDATE/DELETE trigger of 0002 does not see it). SQLite has no TRUNCATE.

The test run switches this trigger off in its own database (``conftest.py``), since Django's
flush between transactional tests empties every table with TRUNCATE.
"""

from django.db import migrations

POSTGRES_UP = [
    """CREATE TRIGGER itsm_auditentry_no_truncate BEFORE TRUNCATE ON itsm_auditentry
       FOR EACH STATEMENT EXECUTE FUNCTION itsm_auditentry_append_only()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS itsm_auditentry_no_truncate ON itsm_auditentry",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("itsm", "0006_work_search_text")]

    operations = [migrations.RunPython(_run(POSTGRES_UP), _run(POSTGRES_DOWN))]
