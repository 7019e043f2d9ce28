"""AuditLog, OAuthState and WebhookHandshake move here from ``inbox`` with their tables.

State only: the tables (``inbox_*``, made by inbox's migrations up to 0016) are neither created
nor touched, so an existing database keeps every row. ``inbox/migrations/0017_move_models_to_apps``
then removes the models from inbox's state and repoints their content types to this app.
"""

import django.db.models.deletion
import django.utils.timezone
import inbox.crypto
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
                    name='OAuthState',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('state', models.CharField(max_length=64, unique=True)),
                        ('provider', models.CharField(max_length=16)),
                        ('secrets', inbox.crypto.EncryptedJSONField(blank=True, default=dict)),
                        ('choices', models.JSONField(blank=True, default=list)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('expires_at', models.DateTimeField()),
                        ('used_at', models.DateTimeField(blank=True, null=True)),
                        ('completed_at', models.DateTimeField(blank=True, null=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'inbox_oauthstate',
                    },
                ),
                migrations.CreateModel(
                    name='AuditLog',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('action', models.CharField(max_length=64)),
                        ('target_type', models.CharField(max_length=32)),
                        ('target_id', models.CharField(blank=True, max_length=64)),
                        ('target_repr', models.CharField(blank=True, max_length=200)),
                        ('changes', models.JSONField(blank=True, default=dict)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'inbox_auditlog',
                        'indexes': [models.Index(fields=['-created_at', '-id'], name='audit_created'), models.Index(fields=['target_type', 'target_id'], name='audit_target')],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookHandshake',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('platform', models.CharField(max_length=16)),
                        ('first_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('last_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('count', models.PositiveIntegerField(default=0)),
                        ('account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.platformaccount')),
                    ],
                    options={
                        'db_table': 'inbox_webhookhandshake',
                        'constraints': [models.UniqueConstraint(fields=('platform', 'account'), name='handshake_platform_account_uniq'), models.UniqueConstraint(condition=models.Q(('account__isnull', True)), fields=('platform',), name='handshake_platform_app_uniq')],
                    },
                ),
            ],
        ),
    ]
