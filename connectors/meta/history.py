"""An account's recent history through Meta's Conversations API (REFERENCE §1: there is no API
for past webhook payloads; back-fill reads ``GET /{PAGE_ID}/conversations?platform=…``).

A page is one page of conversations, newest-updated first, each with its messages back to the
import's start (the nested first page of messages, then the conversation's own ``messages``
edge). Conversations last updated before the start end the import.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.base import (
    Event,
    HistoryPage,
    IncomingAttachment,
    MessageEchoed,
    MessageReceived,
    Person,
)
from connectors.meta import graph
from connectors.meta.parsing import to_datetime
from inbox.models import PlatformAccount

# Conversations a page asks for: each may cost further calls for its messages.
CONVERSATIONS_PER_PAGE = 10
MESSAGES_PER_CALL = 50
# Messages read per conversation at most (older ones in a very long thread are left out).
MAX_MESSAGES_PER_CONVERSATION = 2000
MESSAGE_FIELDS = "id,created_time,from,to,message,attachments"


def history_page(account: PlatformAccount, cursor: dict[str, Any], since: datetime) -> HistoryPage:
    params: dict[str, Any] = {
        "platform": account.platform,
        "fields": f"id,updated_time,messages.limit({MESSAGES_PER_CALL}){{{MESSAGE_FIELDS}}}",
        "limit": CONVERSATIONS_PER_PAGE,
    }
    if cursor.get("after"):
        params["after"] = cursor["after"]
    data = graph.call(account, "GET", "me/conversations", params=params)
    found: list[Event] = []
    items = 0
    reached: datetime | None = None
    finished = False
    for conversation in _list(data.get("data")):
        updated = to_datetime(conversation.get("updated_time"))
        if updated is not None and updated < since:
            finished = True
            break
        messages = _messages(account, conversation, since)
        items += len(messages)
        for message in messages:
            event = _event(account, message)
            if event is not None:
                found.append(event)
        if updated is not None:
            reached = updated if reached is None else min(reached, updated)
    after = ((data.get("paging") or {}).get("cursors") or {}).get("after")
    has_next = bool((data.get("paging") or {}).get("next"))
    next_cursor = None if finished or not (after and has_next) else {"after": str(after)}
    return HistoryPage(events=found, cursor=next_cursor, items=items, reached=reached)


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _messages(
    account: PlatformAccount, conversation: dict[str, Any], since: datetime
) -> list[dict[str, Any]]:
    """The conversation's messages back to ``since`` (newest first, as Meta lists them)."""
    edge = conversation.get("messages") or {}
    collected: list[dict[str, Any]] = []
    while True:
        batch = _list(edge.get("data"))
        for message in batch:
            at = to_datetime(message.get("created_time"))
            if at is not None and at < since:
                return collected
            collected.append(message)
        after = ((edge.get("paging") or {}).get("cursors") or {}).get("after")
        if (
            not batch
            or not after
            or not (edge.get("paging") or {}).get("next")
            or len(collected) >= MAX_MESSAGES_PER_CONVERSATION
        ):
            return collected
        edge = graph.call(
            account,
            "GET",
            f"{conversation['id']}/messages",
            params={"fields": MESSAGE_FIELDS, "limit": MESSAGES_PER_CALL, "after": after},
        )


def _person(party: Any) -> Person | None:
    if not isinstance(party, dict) or not party.get("id"):
        return None
    return Person(
        platform_user_id=str(party["id"]),
        name=str(party.get("name") or ""),
        username=str(party.get("username") or ""),
    )


def _event(account: PlatformAccount, message: dict[str, Any]) -> Event | None:
    at = to_datetime(message.get("created_time"))
    sender = _person(message.get("from"))
    if at is None or sender is None or not message.get("id"):
        return None
    common = {
        "platform": account.platform,
        "account_external_id": account.external_id,
        "timestamp": at,
        "external_id": str(message["id"]),
        "text": str(message.get("message") or ""),
        "attachments": tuple(_attachments(message.get("attachments"))),
    }
    if sender.platform_user_id == account.external_id:
        recipients = _list((message.get("to") or {}).get("data"))
        recipient = _person(recipients[0]) if recipients else None
        if recipient is None:
            return None
        return MessageEchoed(**common, recipient=recipient, returns_client_ref=False)
    return MessageReceived(**common, sender=sender)


def _attachments(value: Any) -> list[IncomingAttachment]:
    found = []
    for item in _list((value or {}).get("data") if isinstance(value, dict) else None):
        mime = str(item.get("mime_type") or "")
        image = item.get("image_data") or {}
        video = item.get("video_data") or {}
        url = str(image.get("url") or video.get("url") or item.get("file_url") or "")
        kind = mime.split("/", 1)[0] if mime.split("/", 1)[0] in ("image", "video", "audio") else ""
        found.append(
            IncomingAttachment(
                kind=kind or ("image" if image else "video" if video else "file"),
                url=url,
                content_type=mime,
                name=str(item.get("name") or ""),
                size=item.get("size") if isinstance(item.get("size"), int) else None,
            )
        )
    return found
