from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0009_incident_search_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="customer_replied_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="incident",
            name="resolution_message",
            field=models.TextField(
                blank=True, help_text="What the customer is told about the resolution (optional)."
            ),
        ),
    ]
