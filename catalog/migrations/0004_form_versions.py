"""Requests point at a stored version of their item's form instead of each carrying a copy."""

import hashlib
import json

import django.db.models.deletion
from django.db import migrations, models


def digest_of(fields) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def snapshots_to_versions(apps, schema_editor):
    Request = apps.get_model("catalog", "Request")
    FormVersion = apps.get_model("catalog", "FormVersion")
    for request in Request.objects.filter(catalog_item__isnull=False).only("pk", "catalog_item", "form_snapshot"):
        fields = request.form_snapshot or []
        version, _ = FormVersion.objects.get_or_create(
            item_id=request.catalog_item_id, digest=digest_of(fields), defaults={"fields": fields}
        )
        Request.objects.filter(pk=request.pk).update(form_version=version)


def versions_to_snapshots(apps, schema_editor):
    Request = apps.get_model("catalog", "Request")
    for request in Request.objects.filter(form_version__isnull=False).select_related("form_version"):
        Request.objects.filter(pk=request.pk).update(form_snapshot=request.form_version.fields)


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0003_request_states"),
    ]

    operations = [
        migrations.CreateModel(
            name="FormVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("digest", models.CharField(max_length=64)),
                ("fields", models.JSONField(default=list)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="form_versions",
                        to="catalog.catalogitem",
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="formversion",
            constraint=models.UniqueConstraint(fields=("item", "digest"), name="form_version_unique"),
        ),
        migrations.AddField(
            model_name="request",
            name="form_version",
            field=models.ForeignKey(
                blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                related_name="requests", to="catalog.formversion",
            ),
        ),
        migrations.RunPython(snapshots_to_versions, versions_to_snapshots),
        migrations.RemoveField(
            model_name="request",
            name="form_snapshot",
        ),
    ]
