"""Incidents' ``Work.search_text`` (number, descriptions, resolution notes, service), in one
pass; then, on PostgreSQL, the trigram index (``pg_trgm``) that serves ``LIKE '%word%'`` on it,
built once over the full column rather than kept up to date row by row during the fill. A
database account that may not create the extension gets the column without the index (a search
then reads the column, as it read the text fields before)."""

from django.db import DatabaseError, migrations, transaction

CHUNK = 2_000
FIELDS = ("number", "short_description", "description", "resolution_notes", "service")


def fill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE itsm_work w SET search_text = LOWER(
                    w.number || ' ' || w.short_description || ' ' || w.description || ' '
                    || i.resolution_notes || ' ' || i.service
                )
                FROM incidents_incident i WHERE i.work_ptr_id = w.id
                """
            )
        return
    Incident = apps.get_model("incidents", "Incident")
    Work = apps.get_model("itsm", "Work")
    rows = Incident.objects.order_by("pk").values_list("pk", *FIELDS)
    last = 0
    while batch := list(rows.filter(pk__gt=last)[:CHUNK]):
        for pk, *values in batch:
            Work.objects.filter(pk=pk).update(search_text=" ".join(str(v or "") for v in values).lower())
        last = batch[-1][0]


def index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        print(f"\n  No trigram index for search (could not create the pg_trgm extension: {exc}).")
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS work_search_trgm ON itsm_work USING gin (search_text gin_trgm_ops)"
        )


def unindex(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS work_search_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0008_escalation_time_left"),
        ("itsm", "0006_work_search_text"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(index, unindex),
    ]
