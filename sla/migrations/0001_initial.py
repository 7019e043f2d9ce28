"""BusinessHours, Holiday, SlaPolicy and SlaRecord move here from ``inbox`` with their tables.

State only: the tables (``inbox_*``, made by inbox's migrations up to 0016) are neither created
nor touched, so an existing database keeps every row. ``inbox/migrations/0017_move_models_to_apps``
then removes the models from inbox's state and repoints their content types to this app.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('inbox', '0016_listener_receipts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='BusinessHours',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True)),
                        ('time_zone', models.CharField(default='UTC', max_length=64)),
                        ('weekly', models.JSONField(blank=True, default=dict)),
                        ('is_default', models.BooleanField(default=False)),
                        ('accounts', models.ManyToManyField(blank=True, related_name='business_hours', to='inbox.platformaccount')),
                        ('teams', models.ManyToManyField(blank=True, related_name='business_hours', to='inbox.team')),
                    ],
                    options={
                        'verbose_name_plural': 'business hours',
                        'db_table': 'inbox_businesshours',
                    },
                ),
                migrations.CreateModel(
                    name='SlaPolicy',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('is_active', models.BooleanField(default=True)),
                        ('order', models.PositiveIntegerField(default=100)),
                        ('priorities', models.JSONField(blank=True, default=list)),
                        ('first_response_seconds', models.PositiveIntegerField(blank=True, null=True)),
                        ('next_response_seconds', models.PositiveIntegerField(blank=True, null=True)),
                        ('resolution_seconds', models.PositiveIntegerField(blank=True, null=True)),
                        ('business_hours_only', models.BooleanField(default=False)),
                        ('warning_percent', models.PositiveSmallIntegerField(default=80)),
                        ('escalate_to_priority', models.IntegerField(blank=True, choices=[(0, 'Low'), (1, 'Normal'), (2, 'High'), (3, 'Urgent')], null=True)),
                        ('notify_managers', models.BooleanField(default=False)),
                        ('accounts', models.ManyToManyField(blank=True, related_name='+', to='inbox.platformaccount')),
                        ('business_hours', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sla.businesshours')),
                        ('labels', models.ManyToManyField(blank=True, related_name='+', to='inbox.label')),
                        ('reassign_to', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'SLA policy',
                        'verbose_name_plural': 'SLA policies',
                        'db_table': 'inbox_slapolicy',
                        'ordering': ['order', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Holiday',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('date', models.DateField()),
                        ('name', models.CharField(blank=True, max_length=100)),
                        ('hours', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='holidays', to='sla.businesshours')),
                    ],
                    options={
                        'db_table': 'inbox_holiday',
                        'constraints': [models.UniqueConstraint(fields=('hours', 'date'), name='holiday_hours_date_uniq')],
                    },
                ),
                migrations.CreateModel(
                    name='SlaRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('target', models.CharField(max_length=16)),
                        ('level', models.CharField(choices=[('warning', 'Warning'), ('breached', 'Breached')], max_length=8)),
                        ('started_at', models.DateTimeField()),
                        ('due_at', models.DateTimeField()),
                        ('recorded_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.platformaccount')),
                        ('conversation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sla_records', to='inbox.conversation')),
                        ('event', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='inbox.conversationevent')),
                        ('policy', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sla.slapolicy')),
                    ],
                    options={
                        'db_table': 'inbox_slarecord',
                        'indexes': [models.Index(fields=['account', 'level', 'due_at'], name='sla_record_account_due')],
                        'constraints': [models.UniqueConstraint(fields=('conversation', 'target', 'level', 'started_at'), name='sla_record_once_per_run')],
                    },
                ),
            ],
        ),
    ]
