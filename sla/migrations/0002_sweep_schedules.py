"""The background sweeps exist after set-up with no manual step: django-q2 schedules for the SLA
sweep and the escalation sweep, every minute (auto-close is made by incidents 0003)."""

from django.db import migrations

SCHEDULES = {
    "sla.sweep": "sla.tasks.sla_sweep",
    "escalation.sweep": "escalation.tasks.escalation_sweep",
}


def forwards(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": 1, "repeats": -1}
        )


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
