"""Migration operations for tables that grow large in production.

``CREATE INDEX`` locks a table against writes while it builds: on a million incidents that is
minutes without new incidents, notes or alerts. PostgreSQL can build an index without the lock
(``CONCURRENTLY``, outside a transaction); SQLite cannot and needs no such care. A migration
that adds an index to a large table uses these operations and sets ``atomic = False``;
``tests/config/test_migrations.py`` keeps it so (docs/ARCHITECTURE.md, "Migrations").
"""

from __future__ import annotations

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations.operations import AddIndex, RemoveIndex


def _postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """``AddIndex`` built ``CONCURRENTLY`` on PostgreSQL, plainly elsewhere. Reversible: going
    back drops the index the same way."""

    def describe(self):
        return f"Create index {self.index.name} on {self.model_name} (concurrently on PostgreSQL)"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrentlyOnPostgres(RemoveIndexConcurrently):
    """``RemoveIndex`` dropped ``CONCURRENTLY`` on PostgreSQL, plainly elsewhere."""

    def describe(self):
        return f"Remove index {self.name} from {self.model_name} (concurrently on PostgreSQL)"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
