"""The known error database's stored document: ``problems_problem.search_vector``, the weighted
English ``tsvector`` of the title (``itsm_work.short_description``, A), symptoms and root cause
(B) and workaround (C), kept by ``Problem.save``. On PostgreSQL it is filled here for the
problems there are and served by a GIN index over known errors; it takes the place of the two
expression indexes of ``0004_known_error_search``, which made every search rebuild each
candidate's document (twice: for the count and for the page). SQLite keeps the column empty."""

import django.contrib.postgres.search
from django.db import migrations

# Problem.WEIGHTED, as SQL: the same document ``Problem.search_vector_expression`` computes.
DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(w.short_description, '')), 'A')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(p.symptoms, '')), 'B')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(p.root_cause, '')), 'B')"
    " || setweight(to_tsvector('english'::regconfig, COALESCE(p.workaround, '')), 'C')"
)
OLD_BODY = (
    "(setweight(to_tsvector('english'::regconfig, symptoms), 'B')"
    " || setweight(to_tsvector('english'::regconfig, root_cause), 'B')"
    " || setweight(to_tsvector('english'::regconfig, workaround), 'C'))"
)
OLD_TITLE = "(to_tsvector('english'::regconfig, short_description))"


def fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE problems_problem p SET search_vector = {DOCUMENT}"
            " FROM itsm_work w WHERE w.id = p.work_ptr_id"
        )
        cursor.execute("DROP INDEX IF EXISTS problem_kedb_fts")
        cursor.execute("DROP INDEX IF EXISTS work_problem_title_fts")
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS problem_kedb_vector ON problems_problem USING gin (search_vector)"
            " WHERE is_known_error"
        )
        cursor.execute("ANALYZE problems_problem")


def unfill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS problem_kedb_vector")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS problem_kedb_fts ON problems_problem USING gin ({OLD_BODY})"
            " WHERE is_known_error"
        )
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS work_problem_title_fts ON itsm_work USING gin ({OLD_TITLE})"
            " WHERE kind = 'problem'"
        )


class Migration(migrations.Migration):
    dependencies = [("problems", "0004_known_error_search")]

    operations = [
        migrations.AddField(
            model_name="problem",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill, unfill, elidable=False),
    ]
