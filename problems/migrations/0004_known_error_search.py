"""Full-text search over the known error database, on PostgreSQL only (SQLite searches with a
plain ``LIKE`` fallback, see ``problems.selectors``): a GIN index on the weighted English
``tsvector`` of a known error's symptoms, root cause (weight B) and workaround (C), and one on
the English ``tsvector`` of problems' titles (``itsm_work.short_description``, weight A), which
lives in the parent table. The expressions are the ones ``problems.selectors`` queries with, to
the character: an index on an expression only serves a query that repeats it."""

from django.db import migrations

BODY = (
    "(setweight(to_tsvector('english'::regconfig, symptoms), 'B')"
    " || setweight(to_tsvector('english'::regconfig, root_cause), 'B')"
    " || setweight(to_tsvector('english'::regconfig, workaround), 'C'))"
)
TITLE = "(to_tsvector('english'::regconfig, short_description))"


def index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS problem_kedb_fts ON problems_problem USING gin ({BODY})"
            " WHERE is_known_error"
        )
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS work_problem_title_fts ON itsm_work USING gin ({TITLE})"
            " WHERE kind = 'problem'"
        )


def unindex(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS problem_kedb_fts")
        cursor.execute("DROP INDEX IF EXISTS work_problem_title_fts")


class Migration(migrations.Migration):
    dependencies = [("problems", "0003_problemnote")]

    operations = [migrations.RunPython(index, unindex, elidable=False)]
