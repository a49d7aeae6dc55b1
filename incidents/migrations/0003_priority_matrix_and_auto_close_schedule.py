"""Default priority matrix (see incidents/enrichment.py) and the auto-close schedule."""

from django.db import migrations

DEFAULTS = {
    (1, 1): "P1", (1, 2): "P2", (1, 3): "P3",
    (2, 1): "P2", (2, 2): "P3", (2, 3): "P4",
    (3, 1): "P3", (3, 2): "P4", (3, 3): "P4",
}  # fmt: skip


def forwards(apps, schema_editor):
    PriorityMatrix = apps.get_model("incidents", "PriorityMatrix")
    for (impact, urgency), priority in DEFAULTS.items():
        PriorityMatrix.objects.get_or_create(impact=impact, urgency=urgency, defaults={"priority": priority})
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="incidents.auto_close",
        defaults={"func": "incidents.tasks.auto_close", "schedule_type": "I", "minutes": 15, "repeats": -1},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="incidents.auto_close").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0002_notes_time_csat_priority_matrix"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
