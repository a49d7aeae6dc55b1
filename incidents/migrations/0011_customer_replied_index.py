from django.db import migrations, models

from itsm.migrations_ops import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    # Built CONCURRENTLY on PostgreSQL: the incidents table is large (docs/ARCHITECTURE.md).
    atomic = False

    dependencies = [
        ("incidents", "0010_customer_follow_up"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            "incident",
            models.Index(
                condition=models.Q(customer_replied_at__isnull=False),
                fields=["customer_replied_at"],
                name="incident_customer_replied",
            ),
        ),
    ]
