"""Full-text index on platform usernames for the dashboard's search (PostgreSQL only): a
substring match over every identity was the slowest part of a search at 100 000 contacts."""

from django.db import migrations

INDEX = (
    "identity_username_fts",
    "inbox_contactidentity",
    "to_tsvector('simple'::regconfig, COALESCE(\"username\", ''))",
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    name, table, expression = INDEX
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression})")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX[0]}")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0009_report_covering_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
