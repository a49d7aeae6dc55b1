"""Writing many rows at once: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` elsewhere.

Used where row counts are in the tens of thousands — the bulk data generator, and the sweeps'
in-app notifications (a stage calling on a whole group for 10,000 incidents is ~90,000 rows) —
where ``bulk_create``'s per-row Python (model instances, per-field preparation, one huge
parameter list) costs several times the database's own work. Rows are plain tuples in the
order of ``columns``; nothing is returned, no signals are sent and no defaults are filled in.
"""

from __future__ import annotations

from django.db import connection, models


class Copier:
    """Writes rows into one table (``columns`` are column names)."""

    def __init__(self, model, columns: list[str]):
        self.model, self.columns = model, columns
        self.table = model._meta.db_table
        fields = {f.column: f for f in model._meta.local_concrete_fields}
        self.fields = [fields[c] for c in columns]
        self.json = [isinstance(f, models.JSONField) for f in self.fields]
        self.has_json = any(self.json)

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                from psycopg.types.json import Jsonb

                with cursor.cursor.copy(
                    f"COPY {connection.ops.quote_name(self.table)} ({cols}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        if self.has_json:  # a list or dict is JSON here, not an array or a record
                            row = tuple(Jsonb(v) if j else v for v, j in zip(row, self.json, strict=True))
                        copy.write_row(row)
            else:
                prepared = [
                    tuple(f.get_db_prep_save(v, connection) for f, v in zip(self.fields, row, strict=True))
                    for row in rows
                ]
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f"INSERT INTO {self.table} ({cols}) VALUES ({marks})", prepared)


class Updater:
    """Sets ``columns`` of many rows, each to its own values, by primary key: one parametrised
    ``UPDATE`` run for every row (``executemany``, pipelined by psycopg). ``bulk_update``
    writes one statement of ``CASE WHEN id = … THEN …`` per column instead, which PostgreSQL
    plans and evaluates in time that grows with the square of the batch."""

    def __init__(self, model, columns: list[str]):
        self.model, self.columns = model, columns
        fields = {f.column: f for f in model._meta.concrete_fields}
        self.fields = [fields[c] for c in columns]
        self.pk = model._meta.pk
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
        self.sql = (
            f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(self.pk.column)} = %s"
        )

    def write(self, rows: list[tuple]) -> None:
        """``rows``: (pk, *values in the order of ``columns``)."""
        if not rows:
            return
        prepared = [
            (
                *(f.get_db_prep_save(v, connection) for f, v in zip(self.fields, values, strict=True)),
                self.pk.get_db_prep_save(pk, connection),
            )
            for pk, *values in rows
        ]
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, prepared)
