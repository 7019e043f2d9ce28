"""The agent dashboard: per-agent read state, presence, team auto-assignment, list indexes and
the full-text search indexes (PostgreSQL only; SQLite searches with a plain ``icontains``)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# The expressions must be exactly what inbox.selectors builds (SearchVector(..., config="simple")),
# or PostgreSQL will not use the indexes.
FTS_INDEXES = [
    (
        "msg_text_fts",
        "inbox_message",
        "to_tsvector('simple'::regconfig, COALESCE(\"text\", ''))",
    ),
    (
        "contact_name_fts",
        "inbox_contact",
        "to_tsvector('simple'::regconfig, COALESCE(\"name\", ''))",
    ),
]


def create_fts_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, expression in FTS_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression})"
        )


def drop_fts_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in FTS_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AgentPresence",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("connections", models.PositiveIntegerField(default=0)),
                ("last_seen_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="presence",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="ConversationRead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("last_read_message_id", models.BigIntegerField(default=0)),
                ("read_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "conversation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reads",
                        to="inbox.conversation",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "conversation"), name="conversation_read_user_conv_uniq"
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="team",
            name="auto_assign",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="team",
            name="last_auto_assignee",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="team",
            name="max_open_per_agent",
            field=models.PositiveSmallIntegerField(default=10),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                fields=["status", "-last_activity_at", "-id"], name="conv_status_activity"
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(fields=["-last_activity_at", "-id"], name="conv_activity"),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("waiting_since__isnull", False)),
                fields=["waiting_since", "id"],
                name="conv_waiting",
            ),
        ),
        migrations.RunPython(create_fts_indexes, drop_fts_indexes, elidable=False),
    ]
