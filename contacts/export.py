"""Exports: a conversation's transcript (JSON, and HTML from the same data), and a contact's
data-access export — everything Parley holds about the person, as JSON, or as a zip with
their media. Both read through the viewer's access."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from contacts import selectors
from contacts.models import ContactMerge
from inbox.models import Attachment, Contact, Conversation, Message, User

log = logging.getLogger(__name__)

# A zip is built in memory: past this much media the rest is listed but not included.
MAX_ZIP_MEDIA_BYTES = 200 * 1024 * 1024


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def message_json(message: Message) -> dict[str, Any]:
    """One message of a transcript: an unsent one keeps its place but not its words; an edited
    one says so and keeps what it said before."""
    item: dict[str, Any] = {
        "id": message.pk,
        "type": "message",
        "direction": message.direction,
        "sender": message.sender_kind,
        "author": message.author.display_name if message.author else None,
        "text": message.visible_text,
        "status": message.status,
        "sent_at": _iso(message.sent_at),
        "unsent": message.is_deleted,
        "edited": message.edited_at is not None,
        "attachments": [
            {
                "id": a.pk,
                "kind": a.kind,
                "name": a.name,
                "content_type": a.content_type,
                "file": a.file.name if a.file else None,
            }
            for a in message.attachments.all()
        ],
    }
    if message.edited_at is not None:
        item["edited_at"] = _iso(message.edited_at)
        item["earlier_versions"] = [
            e.get("text", "")
            for e in (message.metadata or {}).get("edits", [])
            if isinstance(e, dict)
        ]
    if message.status == Message.Status.FAILED:
        item["error"] = message.error
    return item


def transcript(conversation: Conversation, *, notes: bool = False) -> dict[str, Any]:
    """A conversation as a document: its messages (and private notes if asked) in order."""
    messages = (
        conversation.messages.select_related("author")
        .prefetch_related("attachments")
        .order_by("sent_at", "id")
    )
    items = [message_json(m) for m in messages]
    if notes:
        items += [
            {
                "id": n.pk,
                "type": "note",
                "author": n.author.display_name if n.author else ("bot" if n.by_bot else None),
                "text": n.text,
                "sent_at": _iso(n.created_at),
            }
            for n in conversation.notes.select_related("author")
        ]
        items.sort(key=lambda i: (i["sent_at"] or "", i["type"] == "note", i["id"]))
    return {
        "conversation": conversation.pk,
        "platform": conversation.account.platform,
        "account": conversation.account.name,
        "contact": {"id": conversation.contact_id, "name": conversation.contact.name},
        "status": conversation.status,
        "created_at": _iso(conversation.created_at),
        "notes_included": notes,
        "items": items,
    }


def data_export(user: User, contact: Contact) -> dict[str, Any]:
    """Everything Parley holds about the person that ``user`` may see (admins: everything)."""
    identities = selectors.identities_of(user, [contact.pk])[contact.pk]
    conversations = list(selectors.timeline(user, contact))
    return {
        "contact": {
            "id": contact.pk,
            "name": contact.name,
            "avatar_url": contact.avatar_url,
            "created_at": _iso(contact.created_at),
            "attributes": contact.attributes,
            "consent": consent_json(contact),
        },
        "identities": [
            {
                "platform": i.account.platform,
                "account": i.account.name,
                "platform_user_id": i.platform_user_id,
                "username": i.username,
                "name": i.name,
                "avatar_url": i.avatar_url,
            }
            for i in identities
        ],
        "consent_history": [
            {
                "state": c.state,
                "source": c.source,
                "by": c.actor.display_name if c.actor else None,
                "at": _iso(c.created_at),
            }
            for c in selectors.consent_history(contact)
        ],
        "notes": [
            {
                "text": n.text,
                "author": n.author.display_name if n.author else None,
                "at": _iso(n.created_at),
            }
            for n in selectors.notes(contact)
        ],
        "merges": [
            {"merged": m.merged_id, "at": _iso(m.created_at), "undone_at": _iso(m.undone_at)}
            for m in ContactMerge.objects.filter(survivor=contact).order_by("id")
        ],
        "conversations": [transcript(c, notes=True) for c in conversations],
    }


def consent_json(contact: Contact) -> dict[str, Any]:
    return {
        "state": contact.marketing_consent,
        "at": _iso(contact.marketing_consent_at),
        "source": contact.marketing_consent_source,
    }


def data_export_zip(user: User, contact: Contact) -> bytes:
    """The export as ``contact-<id>.json`` plus ``media/<attachment id>-<name>`` files."""
    data = data_export(user, contact)
    buffer = io.BytesIO()
    total = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ids = [
            a["id"]
            for c in data["conversations"]
            for item in c["items"]
            for a in item.get("attachments", [])
            if a["file"]
        ]
        for attachment in Attachment.objects.filter(pk__in=ids).exclude(file=""):
            size = attachment.size or 0
            if total + size > MAX_ZIP_MEDIA_BYTES:
                data.setdefault("media_not_included", []).append(attachment.pk)
                continue
            try:
                with attachment.file.open("rb") as media:
                    content = media.read(MAX_ZIP_MEDIA_BYTES - total + 1)
            except OSError:
                log.warning("export of contact %s: media %s missing", contact.pk, attachment.pk)
                data.setdefault("media_missing", []).append(attachment.pk)
                continue
            total += len(content)
            base = attachment.file.name.rsplit("/", 1)[-1]
            archive.writestr(f"media/{attachment.pk}-{base}", content)
        archive.writestr(
            f"contact-{contact.pk}.json",
            json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        )
    return buffer.getvalue()
