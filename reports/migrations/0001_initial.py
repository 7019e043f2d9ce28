"""ConversationMetric, ReplyMetric, VolumeHour, ReportDay, ReportAgentDay and RollupState move
here from ``inbox`` with their tables.

State only: the tables (``inbox_*``, made by inbox's migrations up to 0016) are neither created
nor touched, so an existing database keeps every row. ``inbox/migrations/0017_move_models_to_apps``
then removes the models from inbox's state and repoints their content types to this app.
"""

import django.contrib.postgres.fields
import django.db.models.deletion
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
                    name='RollupState',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('time_zone', models.CharField(max_length=64)),
                        ('through_day', models.DateField(blank=True, null=True)),
                        ('changes_seen_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'inbox_rollupstate',
                    },
                ),
                migrations.CreateModel(
                    name='ConversationMetric',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sequence', models.PositiveIntegerField()),
                        ('platform', models.CharField(choices=[('sandbox', 'Sandbox'), ('messenger', 'Messenger'), ('instagram', 'Instagram'), ('x', 'X'), ('linkedin', 'LinkedIn')], max_length=16)),
                        ('opened_at', models.DateTimeField()),
                        ('first_response_at', models.DateTimeField(blank=True, null=True)),
                        ('first_response_seconds', models.FloatField(blank=True, null=True)),
                        ('first_response_business_seconds', models.FloatField(blank=True, null=True)),
                        ('bot_first_response_at', models.DateTimeField(blank=True, null=True)),
                        ('bot_first_response_seconds', models.FloatField(blank=True, null=True)),
                        ('bot_first_response_business_seconds', models.FloatField(blank=True, null=True)),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('resolution_seconds', models.FloatField(blank=True, null=True)),
                        ('resolution_business_seconds', models.FloatField(blank=True, null=True)),
                        ('messages_in', models.PositiveIntegerField(default=0)),
                        ('messages_out', models.PositiveIntegerField(default=0)),
                        ('bot_deflected', models.BooleanField(default=False)),
                        ('sla_met', models.BooleanField(blank=True, null=True)),
                        ('sla_first_response_met', models.BooleanField(blank=True, null=True)),
                        ('sla_next_response_met', models.BooleanField(blank=True, null=True)),
                        ('sla_resolution_met', models.BooleanField(blank=True, null=True)),
                        ('sla_breaches', models.PositiveSmallIntegerField(default=0)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.platformaccount')),
                        ('agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('conversation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.conversation')),
                        ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='inbox.team')),
                    ],
                    options={
                        'db_table': 'inbox_conversationmetric',
                    },
                ),
                migrations.CreateModel(
                    name='ReplyMetric',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('platform', models.CharField(choices=[('sandbox', 'Sandbox'), ('messenger', 'Messenger'), ('instagram', 'Instagram'), ('x', 'X'), ('linkedin', 'LinkedIn')], max_length=16)),
                        ('sender_kind', models.CharField(choices=[('contact', 'Contact'), ('agent', 'Agent'), ('bot', 'Bot'), ('system', 'System')], max_length=8)),
                        ('waited_from', models.DateTimeField()),
                        ('replied_at', models.DateTimeField()),
                        ('seconds', models.FloatField()),
                        ('business_seconds', models.FloatField(blank=True, null=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.platformaccount')),
                        ('agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('conversation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.conversation')),
                        ('message', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.message')),
                        ('opening', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reports.conversationmetric')),
                        ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='inbox.team')),
                    ],
                    options={
                        'db_table': 'inbox_replymetric',
                    },
                ),
                migrations.CreateModel(
                    name='ReportAgentDay',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField()),
                        ('grain', models.CharField(choices=[('day', 'Day'), ('week', 'Week (from its Monday)'), ('month', 'Month')], default='day', max_length=5)),
                        ('platform', models.CharField(choices=[('sandbox', 'Sandbox'), ('messenger', 'Messenger'), ('instagram', 'Instagram'), ('x', 'X'), ('linkedin', 'LinkedIn')], max_length=16)),
                        ('opened', models.PositiveIntegerField(default=0)),
                        ('answered', models.PositiveIntegerField(default=0)),
                        ('bot_answered', models.PositiveIntegerField(default=0)),
                        ('sla_breaches', models.PositiveIntegerField(default=0)),
                        ('sla_met_count', models.PositiveIntegerField(default=0)),
                        ('sla_known_count', models.PositiveIntegerField(default=0)),
                        ('sla_first_response_met_count', models.PositiveIntegerField(default=0)),
                        ('sla_first_response_known_count', models.PositiveIntegerField(default=0)),
                        ('sla_next_response_met_count', models.PositiveIntegerField(default=0)),
                        ('sla_next_response_known_count', models.PositiveIntegerField(default=0)),
                        ('sla_resolution_met_count', models.PositiveIntegerField(default=0)),
                        ('sla_resolution_known_count', models.PositiveIntegerField(default=0)),
                        ('resolved', models.PositiveIntegerField(default=0)),
                        ('bot_deflected', models.PositiveIntegerField(default=0)),
                        ('replies', models.PositiveIntegerField(default=0)),
                        ('messages_in', models.PositiveIntegerField(default=0)),
                        ('messages_out', models.PositiveIntegerField(default=0)),
                        ('hourly_in', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, size=24)),
                        ('hourly_out', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, size=24)),
                        ('first_response_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='first response: buckets', size=None)),
                        ('first_response_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='first response: counts', size=None)),
                        ('first_response_business_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='first response, business hours: buckets', size=None)),
                        ('first_response_business_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='first response, business hours: counts', size=None)),
                        ('bot_first_response_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='bot first response: buckets', size=None)),
                        ('bot_first_response_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='bot first response: counts', size=None)),
                        ('resolution_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='resolution: buckets', size=None)),
                        ('resolution_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='resolution: counts', size=None)),
                        ('resolution_business_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='resolution, business hours: buckets', size=None)),
                        ('resolution_business_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='resolution, business hours: counts', size=None)),
                        ('reply_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='human reply time: buckets', size=None)),
                        ('reply_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='human reply time: counts', size=None)),
                        ('reply_business_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='human reply time, business hours: buckets', size=None)),
                        ('reply_business_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='human reply time, business hours: counts', size=None)),
                        ('account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.platformaccount')),
                        ('agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='inbox.team')),
                    ],
                    options={
                        'db_table': 'inbox_reportagentday',
                    },
                ),
                migrations.CreateModel(
                    name='ReportDay',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField()),
                        ('grain', models.CharField(choices=[('day', 'Day'), ('week', 'Week (from its Monday)'), ('month', 'Month')], default='day', max_length=5)),
                        ('platform', models.CharField(choices=[('sandbox', 'Sandbox'), ('messenger', 'Messenger'), ('instagram', 'Instagram'), ('x', 'X'), ('linkedin', 'LinkedIn')], max_length=16)),
                        ('opened', models.PositiveIntegerField(default=0)),
                        ('answered', models.PositiveIntegerField(default=0)),
                        ('bot_answered', models.PositiveIntegerField(default=0)),
                        ('sla_breaches', models.PositiveIntegerField(default=0)),
                        ('sla_met_count', models.PositiveIntegerField(default=0)),
                        ('sla_known_count', models.PositiveIntegerField(default=0)),
                        ('sla_first_response_met_count', models.PositiveIntegerField(default=0)),
                        ('sla_first_response_known_count', models.PositiveIntegerField(default=0)),
                        ('sla_next_response_met_count', models.PositiveIntegerField(default=0)),
                        ('sla_next_response_known_count', models.PositiveIntegerField(default=0)),
                        ('sla_resolution_met_count', models.PositiveIntegerField(default=0)),
                        ('sla_resolution_known_count', models.PositiveIntegerField(default=0)),
                        ('resolved', models.PositiveIntegerField(default=0)),
                        ('bot_deflected', models.PositiveIntegerField(default=0)),
                        ('replies', models.PositiveIntegerField(default=0)),
                        ('messages_in', models.PositiveIntegerField(default=0)),
                        ('messages_out', models.PositiveIntegerField(default=0)),
                        ('hourly_in', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, size=24)),
                        ('hourly_out', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, size=24)),
                        ('first_response_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='first response: buckets', size=None)),
                        ('first_response_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='first response: counts', size=None)),
                        ('first_response_business_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='first response, business hours: buckets', size=None)),
                        ('first_response_business_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='first response, business hours: counts', size=None)),
                        ('bot_first_response_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='bot first response: buckets', size=None)),
                        ('bot_first_response_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='bot first response: counts', size=None)),
                        ('resolution_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='resolution: buckets', size=None)),
                        ('resolution_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='resolution: counts', size=None)),
                        ('resolution_business_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='resolution, business hours: buckets', size=None)),
                        ('resolution_business_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='resolution, business hours: counts', size=None)),
                        ('reply_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='human reply time: buckets', size=None)),
                        ('reply_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='human reply time: counts', size=None)),
                        ('reply_business_seconds_buckets', django.contrib.postgres.fields.ArrayField(base_field=models.SmallIntegerField(), default=list, help_text='human reply time, business hours: buckets', size=None)),
                        ('reply_business_seconds_counts', django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(), default=list, help_text='human reply time, business hours: counts', size=None)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.platformaccount')),
                        ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='inbox.team')),
                    ],
                    options={
                        'db_table': 'inbox_reportday',
                    },
                ),
                migrations.CreateModel(
                    name='VolumeHour',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('hour', models.DateTimeField()),
                        ('platform', models.CharField(choices=[('sandbox', 'Sandbox'), ('messenger', 'Messenger'), ('instagram', 'Instagram'), ('x', 'X'), ('linkedin', 'LinkedIn')], max_length=16)),
                        ('messages_in', models.PositiveIntegerField(default=0)),
                        ('messages_out', models.PositiveIntegerField(default=0)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.platformaccount')),
                        ('agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('conversation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.conversation')),
                        ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='inbox.team')),
                    ],
                    options={
                        'db_table': 'inbox_volumehour',
                    },
                ),
                migrations.AddIndex(
                    model_name='conversationmetric',
                    index=models.Index(fields=['opened_at'], name='convmetric_opened'),
                ),
                migrations.AddIndex(
                    model_name='conversationmetric',
                    index=models.Index(condition=models.Q(('resolved_at__isnull', False)), fields=['resolved_at'], name='convmetric_resolved'),
                ),
                migrations.AddIndex(
                    model_name='conversationmetric',
                    index=models.Index(fields=['updated_at'], name='convmetric_updated'),
                ),
                migrations.AddConstraint(
                    model_name='conversationmetric',
                    constraint=models.UniqueConstraint(fields=('conversation', 'sequence'), name='convmetric_conversation_seq_uniq'),
                ),
                migrations.AddIndex(
                    model_name='replymetric',
                    index=models.Index(fields=['replied_at', 'sender_kind', 'platform', 'account', 'team', 'agent', 'seconds', 'business_seconds'], name='replymetric_replied_cover'),
                ),
                migrations.AddIndex(
                    model_name='replymetric',
                    index=models.Index(fields=['opening'], name='replymetric_opening'),
                ),
                migrations.AddIndex(
                    model_name='reportagentday',
                    index=models.Index(fields=['day'], name='reportagentday_day'),
                ),
                migrations.AddIndex(
                    model_name='reportagentday',
                    index=models.Index(fields=['agent', 'day'], name='reportagentday_agent_day'),
                ),
                migrations.AddIndex(
                    model_name='reportday',
                    index=models.Index(fields=['day'], name='reportday_day'),
                ),
                migrations.AddIndex(
                    model_name='volumehour',
                    index=models.Index(fields=['hour', 'platform', 'account', 'team', 'agent', 'messages_in', 'messages_out'], name='volumehour_hour_cover'),
                ),
                migrations.AddConstraint(
                    model_name='volumehour',
                    constraint=models.UniqueConstraint(fields=('conversation', 'hour'), name='volumehour_conv_uniq'),
                ),
            ],
        ),
    ]
