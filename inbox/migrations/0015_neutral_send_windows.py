"""Outbound messages still to be sent carried Meta's wire terms (``messaging_type`` and ``tag``)
in their metadata; the reply policy now records a neutral window the connector maps itself."""

from django.db import migrations

# The wire values the policy used to store → the neutral window (connectors.base.SendWindow).
WINDOWS = {
    ("RESPONSE", ""): "within_window",
    ("MESSAGE_TAG", "HUMAN_AGENT"): "extended_agent_window",
}
# Sent, delivered and read messages are never sent again: only these need the new key.
UNSENT = ("queued", "sending", "failed")


def to_neutral_windows(apps, schema_editor):
    Message = apps.get_model("inbox", "Message")
    waiting = Message.objects.filter(
        direction="outbound", status__in=UNSENT, metadata__has_key="messaging_type"
    )
    for message in waiting.only("pk", "metadata").iterator(chunk_size=500):
        metadata = dict(message.metadata)
        wire = (metadata.pop("messaging_type", "") or "", metadata.pop("tag", "") or "")
        metadata["window"] = WINDOWS.get(wire, "")
        Message.objects.filter(pk=message.pk).update(metadata=metadata)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0014_user_open_next_after_resolve"),
    ]

    operations = [
        migrations.RunPython(to_neutral_windows, migrations.RunPython.noop, elidable=True),
    ]
