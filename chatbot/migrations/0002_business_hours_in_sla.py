"""The bot's business hours point at ``sla.BusinessHours`` (the same table, moved in state only
by ``sla/migrations/0001_initial``): no database change."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chatbot', '0001_initial'),
        ('sla', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='botsettings',
                    name='business_hours',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sla.businesshours'),
                ),
            ],
        ),
    ]
