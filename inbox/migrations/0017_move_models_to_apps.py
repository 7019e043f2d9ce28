"""The SLA, report and settings-area models leave ``inbox`` for their own apps, in state only.

``sla``, ``reports`` and ``settings_area`` 0001 declared the same models over the same tables
(``db_table``); here inbox forgets them and ``Conversation.sla_policy`` points at
``sla.SlaPolicy``. No table, column, constraint or row changes, so an existing database upgrades
in place (tests/test_upgrade_in_place.py). Their content types follow them (the permissions and
the admin history that point at those rows keep working).
"""

import django.db.models.deletion
from django.db import migrations, models

# model name (lower case) -> the app that owns it now
MOVED = {
    "businesshours": "sla",
    "holiday": "sla",
    "slapolicy": "sla",
    "slarecord": "sla",
    "conversationmetric": "reports",
    "replymetric": "reports",
    "volumehour": "reports",
    "reportday": "reports",
    "reportagentday": "reports",
    "rollupstate": "reports",
    "auditlog": "settings_area",
    "oauthstate": "settings_area",
    "webhookhandshake": "settings_area",
}


def _relabel(apps, *, forward: bool) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, app in MOVED.items():
        old, new = ("inbox", app) if forward else (app, "inbox")
        moving = content_type.objects.filter(app_label=old, model=model).first()
        if moving is None:
            continue  # a fresh database: post_migrate creates the content types later
        # A row under the new label (left by an earlier migrate) holds nothing yet: the rows that
        # permissions and admin history point at are the old ones, so the old row wins.
        content_type.objects.filter(app_label=new, model=model).delete()
        moving.app_label = new
        moving.save(update_fields=["app_label"])


def forwards(apps, schema_editor):
    _relabel(apps, forward=True)


def backwards(apps, schema_editor):
    _relabel(apps, forward=False)


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('inbox', '0016_listener_receipts'),
        ('sla', '0001_initial'),
        ('reports', '0001_initial'),
        ('settings_area', '0001_initial'),
        ('chatbot', '0002_business_hours_in_sla'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='conversation',
                    name='sla_policy',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sla.slapolicy'),
                ),
                # Models that point at others go first.
                migrations.DeleteModel(name='SlaRecord'),
                migrations.DeleteModel(name='SlaPolicy'),
                migrations.DeleteModel(name='Holiday'),
                migrations.DeleteModel(name='BusinessHours'),
                migrations.DeleteModel(name='ReplyMetric'),
                migrations.DeleteModel(name='VolumeHour'),
                migrations.DeleteModel(name='ConversationMetric'),
                migrations.DeleteModel(name='ReportDay'),
                migrations.DeleteModel(name='ReportAgentDay'),
                migrations.DeleteModel(name='RollupState'),
                migrations.DeleteModel(name='AuditLog'),
                migrations.DeleteModel(name='OAuthState'),
                migrations.DeleteModel(name='WebhookHandshake'),
            ],
            database_operations=[
                migrations.RunPython(forwards, backwards),
            ],
        ),
    ]
