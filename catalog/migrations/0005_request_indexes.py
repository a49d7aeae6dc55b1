"""The request table's indexes on its item and form version, built without locking the table
on PostgreSQL (it holds every request: ``itsm.migrations_ops``)."""

from django.db import migrations, models

from itsm.migrations_ops import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0004_form_versions"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="request",
            index=models.Index(fields=["catalog_item"], name="request_catalog_item"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="request",
            index=models.Index(fields=["form_version"], name="request_form_version"),
        ),
    ]
