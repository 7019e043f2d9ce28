"""Erasure: the person's data and media are gone, the reports count the same, an audit entry
says who erased whom (by id), and exports and transcripts mark edits and unsent messages."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from chatbot.engine import set_consent
from contacts import export, services
from contacts.models import ConsentChange, ContactClue, ContactNote
from inbox.models import Attachment, ContactIdentity, Message, Note, WebhookEvent
from inbox.settings_area.models import AuditLog
from reports.metrics import refresh
from reports.models import ConversationMetric, ReplyMetric, VolumeHour
from tests.contacts.helpers import writes
from tests.helpers import committed

pytestmark = pytest.mark.django_db


def report_counts() -> dict:
    return {
        "openings": ConversationMetric.objects.count(),
        "in": sum(ConversationMetric.objects.values_list("messages_in", flat=True)),
        "out": sum(ConversationMetric.objects.values_list("messages_out", flat=True)),
        "replies": ReplyMetric.objects.count(),
        "volume": sorted(VolumeHour.objects.values_list("messages_in", "messages_out")),
    }


def test_erasure_deletes_personal_data_and_media_and_keeps_report_counts(
    account, agent, admin_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    first = writes(
        account, "sb-maya", "I'm maya@example.com, +33 6 12 34 56 78", name="Maya", username="mt"
    )
    conversation = first.conversation
    attachment = Attachment.objects.create(message=first, kind="image", name="passport.jpg")
    attachment.file.save("passport.jpg", ContentFile(b"\xff\xd8 a face"))
    path = attachment.file.path
    with committed():
        reply = Message.objects.create(
            conversation=conversation,
            account=account,
            direction="outbound",
            sender_kind="agent",
            author=agent,
            status="sent",
            text="Hi Maya, looking",
            external_id="out-1",
        )
    refresh(conversation.pk)
    Note.objects.create(conversation=conversation, author=agent, text="Maya lives in Lyon")
    contact = conversation.contact
    services.add_note(contact=contact, author=agent, text="Called her back")
    with committed():
        set_consent(contact=contact, conversation=conversation, state="opted_in", source="START")
    WebhookEvent.objects.create(
        source="sandbox", account=account, body=b'{"sender": {"id": "sb-maya"}}'
    )
    kept = WebhookEvent.objects.create(source="sandbox", account=account, body=b'{"x": 1}')
    assert ContactClue.objects.exists() and ConsentChange.objects.exists()
    before = report_counts()
    assert before["replies"] == 1

    with committed():
        counts = services.erase(contact=contact, actor=admin_user)

    contact.refresh_from_db()
    assert contact.name == "" and contact.attributes == {} and contact.erased_at
    assert contact.marketing_consent == "unknown"
    identity = ContactIdentity.objects.get(contact=contact)
    assert identity.platform_user_id.startswith("erased-") and identity.username == ""
    assert set(Message.objects.values_list("text", flat=True)) == {""}
    assert not Attachment.objects.exists()
    assert not Note.objects.exists() and not ContactNote.objects.exists()
    assert not ContactClue.objects.exists() and not ConsentChange.objects.exists()
    assert list(WebhookEvent.objects.all()) == [kept]
    conversation.refresh_from_db()
    assert conversation.last_message_preview == ""
    # The message rows stay (emptied): the reports count exactly what they counted.
    assert Message.objects.filter(pk__in=[first.pk, reply.pk]).count() == 2
    refresh(conversation.pk)
    assert report_counts() == before
    entry = AuditLog.objects.get(action="contact.erased")
    assert entry.actor == admin_user and entry.target_id == str(contact.pk)
    assert "Maya" not in entry.target_repr
    assert counts["attachments"] == 1 and counts["webhook_bodies"] == 1
    assert not os.path.exists(path)


def test_transcript_marks_edits_and_unsent_messages_and_notes_are_optional(account, agent):
    message = writes(account, "sb-1", "first words", name="Sam")
    conversation = message.conversation
    gone = writes(account, "sb-1", "oops wrong chat", name="Sam")
    Message.objects.filter(pk=message.pk).update(
        text="better words",
        edited_at=timezone.now(),
        metadata={"edits": [{"text": "first words", "replaced_at": "2026-12-06T10:00:00Z"}]},
    )
    Message.objects.filter(pk=gone.pk).update(is_deleted=True)
    Note.objects.create(conversation=conversation, author=agent, text="VIP")

    plain = export.transcript(conversation)
    with_notes = export.transcript(conversation, notes=True)

    edited, unsent = plain["items"]
    assert edited["text"] == "better words" and edited["edited"]
    assert edited["earlier_versions"] == ["first words"]
    assert unsent["unsent"] and unsent["text"] == ""
    assert [i["type"] for i in with_notes["items"]].count("note") == 1
    assert "VIP" not in str(plain)


def test_transcript_pages_follow_access(client, account, other_account, agent):
    mine = writes(account, "sb-1", "edited later", name="Sam").conversation
    theirs = writes(other_account, "ot-1", "secret", name="Olga").conversation
    Message.objects.filter(conversation=mine).update(edited_at=timezone.now())
    client.force_login(agent)

    html = client.get(f"/conversations/{mine.pk}/transcript.html")
    as_json = client.get(f"/conversations/{mine.pk}/transcript.json?notes=1")

    assert html.status_code == 200 and b"edited" in html.content
    assert as_json.json()["notes_included"] is True
    assert client.get(f"/conversations/{theirs.pk}/transcript.html").status_code == 404
    assert client.get(f"/conversations/{mine.pk}/transcript.exe").status_code == 404


def test_data_access_export_zip_includes_media(client, account, agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    message = writes(account, "sb-1", "photo", name="Sam")
    attachment = Attachment.objects.create(message=message, kind="image", name="cat.png")
    attachment.file.save("cat.png", ContentFile(b"PNG cat"))
    client.force_login(agent)

    response = client.get(f"/contacts/{message.conversation.contact_id}/export.zip")

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert f"contact-{message.conversation.contact_id}.json" in names
    media = [n for n in names if n.startswith("media/")]
    assert len(media) == 1 and archive.read(media[0]) == b"PNG cat"
