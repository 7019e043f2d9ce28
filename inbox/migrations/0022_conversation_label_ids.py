"""The inbox list's label filter reads a conversation's labels from its own row (PostgreSQL).

``inbox_conversation.label_ids`` (bigint[], GIN-indexed) holds the ids of the conversation's
labels, sorted. It is not a field of the model: triggers on the link table
(``inbox_conversation_labels``) keep it, so every writer of label links keeps it right —
``inbox.services.set_labels``, the Django admin, a ``labels.add()``, a label deleted with its
links (a cascade), a bulk SQL insert — and no ``Conversation.save()`` of a stale instance can
write an old value over it. The migration fills it from the links that exist.

Why: filtering the list by a label made PostgreSQL walk the list's activity index and probe
the link table for each row (2 733 probes for 50 rows of a label on 1.5 % of conversations);
with the labels on the row the walk reads them where it already is, and a rare label can
start from the GIN index instead. ``inbox.selectors.filtered_conversations`` reads it.
SQLite (the embedded default) has no such column and keeps the join.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE inbox_conversation ADD COLUMN label_ids bigint[] NOT NULL DEFAULT '{}';

UPDATE inbox_conversation AS c SET label_ids = links.ids
FROM (
    SELECT conversation_id, array_agg(label_id ORDER BY label_id) AS ids
    FROM inbox_conversation_labels GROUP BY conversation_id
) AS links
WHERE links.conversation_id = c.id;

CREATE INDEX conv_label_ids ON inbox_conversation USING gin (label_ids);

CREATE FUNCTION inbox_conversation_label_ids_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The conversations whose links this statement changed get their labels read again.
    UPDATE inbox_conversation AS c SET label_ids = ARRAY(
        SELECT l.label_id FROM inbox_conversation_labels AS l
        WHERE l.conversation_id = c.id ORDER BY l.label_id
    )
    WHERE c.id IN (
        SELECT conversation_id FROM changed_links
    );
    RETURN NULL;
END;
$$;

CREATE TRIGGER conv_label_ids_insert AFTER INSERT ON inbox_conversation_labels
REFERENCING NEW TABLE AS changed_links
FOR EACH STATEMENT EXECUTE FUNCTION inbox_conversation_label_ids_sync();

CREATE TRIGGER conv_label_ids_delete AFTER DELETE ON inbox_conversation_labels
REFERENCING OLD TABLE AS changed_links
FOR EACH STATEMENT EXECUTE FUNCTION inbox_conversation_label_ids_sync();

CREATE FUNCTION inbox_conversation_label_ids_sync_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE inbox_conversation AS c SET label_ids = ARRAY(
        SELECT l.label_id FROM inbox_conversation_labels AS l
        WHERE l.conversation_id = c.id ORDER BY l.label_id
    )
    WHERE c.id IN (
        SELECT conversation_id FROM old_links UNION SELECT conversation_id FROM new_links
    );
    RETURN NULL;
END;
$$;

CREATE TRIGGER conv_label_ids_update AFTER UPDATE ON inbox_conversation_labels
REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links
FOR EACH STATEMENT EXECUTE FUNCTION inbox_conversation_label_ids_sync_update();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS conv_label_ids_insert ON inbox_conversation_labels;
DROP TRIGGER IF EXISTS conv_label_ids_delete ON inbox_conversation_labels;
DROP TRIGGER IF EXISTS conv_label_ids_update ON inbox_conversation_labels;
DROP FUNCTION IF EXISTS inbox_conversation_label_ids_sync();
DROP FUNCTION IF EXISTS inbox_conversation_label_ids_sync_update();
DROP INDEX IF EXISTS conv_label_ids;
ALTER TABLE inbox_conversation DROP COLUMN IF EXISTS label_ids;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0021_user_language"),
    ]

    operations = [migrations.RunPython(forward, backward)]
