# Written by hand (the working tree holds other engineers' unmigrated models): only the
# per-target SLA outcome of ConversationMetric.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0005_sla_business_hours"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversationmetric",
            name="sla_first_response_met",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="conversationmetric",
            name="sla_next_response_met",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="conversationmetric",
            name="sla_resolution_met",
            field=models.BooleanField(blank=True, null=True),
        ),
    ]
