"""Requests take the catalog workflow's states: new → submitted, closed → completed."""

from django.db import migrations

FORWARD = {"new": "submitted", "closed": "completed"}
BACKWARD = {"submitted": "new", "completed": "closed"}


def _move(apps, mapping):
    Work = apps.get_model("itsm", "Work")
    for old, new in mapping.items():
        Work.objects.filter(kind="request", state=old).update(state=new)


def forward(apps, schema_editor):
    _move(apps, FORWARD)


def backward(apps, schema_editor):
    _move(apps, BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_catalog_items_and_request_workflow"), ("itsm", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
