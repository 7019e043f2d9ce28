"""The consent history of changes recorded before the history table existed: one row per
``consent_changed`` event already in the conversations' logs (the chatbot's keywords)."""

from django.db import migrations


def backfill(apps, schema_editor):
    ConversationEvent = apps.get_model("inbox", "ConversationEvent")
    Contact = apps.get_model("inbox", "Contact")
    ConsentChange = apps.get_model("contacts", "ConsentChange")
    known = set(ConsentChange.objects.values_list("event_id", flat=True))
    events = ConversationEvent.objects.filter(kind="consent_changed").order_by("id")
    rows = []
    for event in events.iterator(chunk_size=2000):
        contact_id = (event.data or {}).get("contact")
        if event.pk in known or not isinstance(contact_id, int):
            continue
        if not Contact.objects.filter(pk=contact_id).exists():
            continue
        rows.append(
            ConsentChange(
                contact_id=contact_id,
                state=str(event.data.get("consent", ""))[:16],
                source=str(event.data.get("source", ""))[:200],
                actor_id=event.actor_id,
                conversation_id=event.conversation_id,
                event_id=event.pk,
                created_at=event.created_at,
            )
        )
    ConsentChange.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
