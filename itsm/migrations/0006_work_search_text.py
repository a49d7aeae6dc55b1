"""``Work.search_text``: the searched text fields, lower-cased in one column. Filled here for
work other than incidents; ``incidents.0009`` fills incidents (whose own fields join it) and
builds the trigram index once the column is full."""

from django.db import migrations, models

FIELDS = ("number", "short_description", "description")
CHUNK = 2_000


def fill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE itsm_work SET search_text = LOWER(number || ' ' || short_description || ' ' || description)"
                " WHERE kind <> 'incident'"
            )
        return
    # Elsewhere in Python: SQLite's LOWER() folds only ASCII, and searches lower-case in Python.
    Work = apps.get_model("itsm", "Work")
    rows = Work.objects.exclude(kind="incident").order_by("pk").values_list("pk", *FIELDS)
    last = 0
    while batch := list(rows.filter(pk__gt=last)[:CHUNK]):
        for pk, *values in batch:
            Work.objects.filter(pk=pk).update(search_text=" ".join(str(v or "") for v in values).lower())
        last = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("itsm", "0005_sort_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="work",
            name="search_text",
            field=models.TextField(blank=True, default="", db_default="", editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
