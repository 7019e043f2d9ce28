"""Meta's webhook envelope → normalized events (REFERENCE §1.4–§3).

Every entry and every element of ``messaging``, ``standby`` and ``changes`` is read, and the
flat ``field``/``value`` entry (Instagram Login, App Dashboard test events) too. The account of
each event is its ``entry.id``. Well-formed events Parley does not use (handovers, opt-ins,
policy notices, mentions that carry only ids) are logged and acknowledged; a malformed event
makes the whole body a PayloadError, so it stays archived with the reason and can be replayed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from connectors.base import (
    ContactSeen,
    Event,
    IncomingAttachment,
    MessageDeleted,
    MessageEchoed,
    MessageEdited,
    MessageReceived,
    MessagesDelivered,
    MessagesRead,
    PayloadError,
    Person,
    ReactionChanged,
    WindowOpened,
    decode_json,
)

log = logging.getLogger(__name__)

OBJECT_PLATFORMS = {"page": "messenger", "instagram": "instagram"}
# Fields whose change value is a messaging event (the App Dashboard's test-event format).
MESSAGING_FIELDS = {
    "messages",
    "message_echoes",
    "message_deliveries",
    "message_reads",
    "messaging_seen",
    "message_reactions",
    "message_edits",
    "messaging_postbacks",
    "messaging_referral",
    "messaging_referrals",
    "standby",
}
COMMENT_FIELDS = {"comments", "live_comments"}
# Attachment types → Attachment.Kind. Anything else is kept as a link.
MEDIA_KINDS = {"image": "image", "audio": "audio", "video": "video", "file": "file"}
SHARE_TYPES = {"share", "post", "ig_post", "reel", "ig_reel", "template"}


def decode(body: bytes) -> dict[str, Any]:
    data = decode_json(body)
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        raise PayloadError("not a Meta webhook: no entry list")
    return data


def platform_of(data: dict[str, Any]) -> str | None:
    """``messenger`` for ``object: page``, ``instagram`` for ``object: instagram``."""
    return OBJECT_PLATFORMS.get(str(data.get("object") or ""))


def entry_ids(data: dict[str, Any]) -> list[str]:
    return [
        str(entry["id"])
        for entry in data.get("entry") or []
        if isinstance(entry, dict) and entry.get("id") is not None
    ]


def to_datetime(value: Any) -> datetime | None:
    """Epoch milliseconds (messaging) or seconds (changes), told apart by magnitude."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if number > 1e11:
        number /= 1000
    return datetime.fromtimestamp(number, tz=UTC)


def parse(body: bytes) -> list[Event]:
    data = decode(body)
    platform = platform_of(data)
    if platform is None:
        log.info("Meta webhook for object %r ignored", data.get("object"))
        return []
    parsed: list[Event] = []
    problems: list[str] = []
    for entry in data["entry"]:
        if not isinstance(entry, dict) or entry.get("id") is None:
            problems.append("entry without id")
            continue
        reader = _EntryReader(platform, str(entry["id"]), to_datetime(entry.get("time")))
        items: list[tuple[str, Any]] = []
        for key in ("messaging", "standby"):
            items += [(key, item) for item in entry.get(key) or []]
        items += [("changes", item) for item in entry.get("changes") or []]
        if "field" in entry and "value" in entry:
            items.append(("changes", {"field": entry["field"], "value": entry["value"]}))
        for channel, item in items:
            try:
                if channel == "changes":
                    parsed += reader.change(item)
                else:
                    parsed += reader.messaging(item, standby=channel == "standby")
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                problems.append(f"entry {entry['id']} {channel}: {type(exc).__name__} {exc}")
    if problems:
        raise PayloadError("; ".join(problems))
    return parsed


class _EntryReader:
    def __init__(self, platform: str, account_id: str, entry_time: datetime | None):
        self.platform = platform
        self.account_id = account_id
        self.entry_time = entry_time

    def _common(self, timestamp: Any) -> dict[str, Any]:
        when = to_datetime(timestamp) or self.entry_time or datetime.now(tz=UTC)
        return {
            "platform": self.platform,
            "account_external_id": self.account_id,
            "timestamp": when,
        }

    # --- messaging[] / standby[] ---------------------------------------------------------------

    def messaging(self, item: dict[str, Any], *, standby: bool = False) -> list[Event]:
        if item.get("field") == "group_feed" or item.get("item") == "comment":
            return self._feed_comment(item, item.get("created_time"))
        sender = _user_id(item.get("sender"))
        recipient = _user_id(item.get("recipient"))
        common = self._common(item.get("timestamp"))
        extra = {"standby": True} if standby else {}
        if "message" in item:
            message = item["message"]
            if message.get("is_echo"):
                return [self._echo(message, recipient, common, extra)]
            if message.get("is_deleted"):
                return [MessageDeleted(**common, external_id=str(message["mid"]))]
            return self._message(message, sender, common, extra)
        if "message_edit" in item:
            edit = item["message_edit"]
            return [MessageEdited(**common, external_id=str(edit["mid"]), text=str(edit["text"]))]
        if "postback" in item:
            return self._postback(item["postback"], sender, common, extra)
        if "reaction" in item:
            return self._reaction(item["reaction"], sender, common)
        if "read" in item:
            read = item["read"]
            return [
                MessagesRead(
                    **common,
                    counterpart_id=sender,
                    external_ids=tuple(str(m) for m in [read.get("mid")] if m),
                    watermark=to_datetime(read.get("watermark")),
                )
            ]
        if "delivery" in item:
            delivery = item["delivery"]
            watermark = to_datetime(delivery.get("watermark"))
            if item.get("timestamp") is None and watermark:
                common["timestamp"] = watermark
            return [
                MessagesDelivered(
                    **common,
                    counterpart_id=sender,
                    external_ids=tuple(str(m) for m in delivery.get("mids") or ()),
                    watermark=watermark,
                )
            ]
        if "referral" in item:
            # An m.me / ig.me link or an ad opened into an existing thread.
            return [
                WindowOpened(
                    **common,
                    by=Person(platform_user_id=sender),
                    reason="referral",
                    metadata={"referral": item["referral"]},
                ),
                ContactSeen(**common, person=Person(platform_user_id=sender)),
            ]
        known = {"optin", "pass_thread_control", "take_thread_control", "request_thread_control"}
        known |= {
            "app_roles",
            "policy_enforcement",
            "response_feedback",
            "send_cart",
            "account_linking",
        }
        keys = sorted(set(item) - {"sender", "recipient", "timestamp"})
        if set(keys) & known:
            log.info("Meta %s event %s acknowledged, not used", self.platform, keys)
        else:
            log.warning("unknown Meta %s messaging event with keys %s ignored", self.platform, keys)
        return []

    def _message(
        self, message: dict[str, Any], sender: str, common: dict[str, Any], extra: dict[str, Any]
    ) -> list[Event]:
        metadata: dict[str, Any] = dict(extra)
        attachments = attachments_of(message.get("attachments") or [])
        reply_to = message.get("reply_to") or {}
        if message.get("quick_reply"):
            metadata["quick_reply"] = message["quick_reply"].get("payload")
        if message.get("referral"):
            metadata["referral"] = message["referral"]
        if message.get("commands"):
            metadata["commands"] = message["commands"]
        if message.get("is_unsupported"):
            metadata["unsupported"] = True
        if reply_to.get("story"):
            story = reply_to["story"]
            metadata["story_reply"] = {"id": str(story.get("id") or ""), "url": story.get("url")}
            attachments.append(
                IncomingAttachment(
                    kind="story",
                    url=str(story.get("url") or ""),
                    store_media=False,
                    metadata={"type": "story_reply", "story_id": str(story.get("id") or "")},
                )
            )
        for item in message.get("attachments") or []:
            if item.get("type") == "appointment_booking":
                metadata["appointment_booking"] = item.get("payload") or {}
        person = Person(platform_user_id=sender)
        return [
            MessageReceived(
                **common,
                external_id=str(message["mid"]),
                sender=person,
                text=str(message.get("text") or ""),
                attachments=tuple(attachments),
                reply_to_external_id=str(reply_to["mid"]) if reply_to.get("mid") else None,
                metadata=metadata,
            ),
            ContactSeen(**common, person=person),
        ]

    def _echo(
        self, message: dict[str, Any], recipient: str, common: dict[str, Any], extra: dict[str, Any]
    ) -> Event:
        metadata = dict(extra)
        if message.get("app_id") is not None:
            metadata["app_id"] = str(message["app_id"])
        # Parley sends its client_ref as `metadata` ("<ref>#<n>" for attachment parts).
        client_ref = str(message.get("metadata") or "").split("#", 1)[0]
        return MessageEchoed(
            **common,
            external_id=str(message["mid"]),
            recipient=Person(platform_user_id=recipient),
            text=str(message.get("text") or ""),
            attachments=tuple(attachments_of(message.get("attachments") or [])),
            client_ref=client_ref or None,
            metadata=metadata,
        )

    def _postback(
        self, postback: dict[str, Any], sender: str, common: dict[str, Any], extra: dict[str, Any]
    ) -> list[Event]:
        # A tapped button is the customer's turn in the thread: shown as its title, payload
        # kept for the chatbot. Before Graph v11 postbacks had no mid: key them by time.
        stamp = int(common["timestamp"].timestamp() * 1000)
        external_id = str(postback.get("mid") or f"postback:{sender}:{stamp}")
        metadata = {
            **extra,
            "postback": {"title": postback.get("title"), "payload": postback.get("payload")},
        }
        if postback.get("referral"):
            metadata["referral"] = postback["referral"]
        person = Person(platform_user_id=sender)
        return [
            MessageReceived(
                **common,
                external_id=external_id,
                sender=person,
                text=str(postback.get("title") or postback.get("payload") or ""),
                metadata=metadata,
            ),
            ContactSeen(**common, person=person),
        ]

    def _reaction(
        self, reaction: dict[str, Any], sender: str, common: dict[str, Any]
    ) -> list[Event]:
        removed = reaction.get("action") == "unreact"
        person = Person(platform_user_id=sender)
        events: list[Event] = [
            ReactionChanged(
                **common,
                message_external_id=str(reaction["mid"]),
                by=person,
                emoji=str(reaction.get("emoji") or reaction.get("reaction") or ""),
                removed=removed,
            )
        ]
        if not removed:
            # Reactions open the 24-hour window (REFERENCE §2.6, §5).
            events.append(WindowOpened(**common, by=person, reason="reaction"))
        return events

    # --- changes[] -----------------------------------------------------------------------------

    def change(self, item: dict[str, Any]) -> list[Event]:
        field_name = str(item.get("field") or "")
        value = item.get("value")
        if not isinstance(value, dict):
            raise ValueError(f"change {field_name!r} without a value object")
        if field_name in MESSAGING_FIELDS and "sender" in value:
            return self.messaging(value, standby=field_name == "standby")
        if field_name in COMMENT_FIELDS:
            return self._instagram_comment(value, field_name)
        if field_name in ("feed", "group_feed"):
            if value.get("item") == "comment":
                return self._feed_comment(value, value.get("created_time"))
            log.info("Page feed change %s/%s not used", value.get("item"), value.get("verb"))
            return []
        if field_name == "mentions":
            # Mentions carry only ids (no author, no text): acknowledged, kept in the archive.
            log.info("Instagram mention %s acknowledged, not used", value)
            return []
        log.info("Meta change field %r acknowledged, not used", field_name)
        return []

    def _instagram_comment(self, value: dict[str, Any], field_name: str) -> list[Event]:
        author = value.get("from") or {}
        author_id = str(author["id"])
        if author_id == self.account_id or author.get("self_ig_scoped_id"):
            # The account's own comment (a reply it posted): Parley's own are already stored.
            return []
        comment_id = str(value["id"])
        media = value.get("media") or {}
        parent = str(value["parent_id"]) if value.get("parent_id") else None
        common = self._common(value.get("timestamp") or value.get("created_time"))
        person = Person(platform_user_id=author_id, username=str(author.get("username") or ""))
        metadata = {
            "comment": {
                "id": comment_id,
                "parent_id": parent,
                "media_id": str(media.get("id") or ""),
                "media_product_type": media.get("media_product_type"),
                "ad_id": media.get("ad_id"),
                "live": field_name == "live_comments",
            }
        }
        return [
            MessageReceived(
                **common,
                external_id=comment_id,
                sender=person,
                text=str(value.get("text") or ""),
                thread_external_id=parent or comment_id,
                kind="comment",
                metadata=metadata,
            ),
            ContactSeen(**common, person=person),
        ]

    def _feed_comment(self, value: dict[str, Any], created_time: Any) -> list[Event]:
        author = value.get("from") or {}
        author_id = str(author.get("id") or "")
        comment_id = str(value["comment_id"])
        common = self._common(created_time)
        verb = value.get("verb", "add")
        if verb in ("remove", "hide"):
            return [MessageDeleted(**common, external_id=comment_id)]
        if verb == "edited":
            return [
                MessageEdited(
                    **common, external_id=comment_id, text=str(value.get("message") or "")
                )
            ]
        if verb != "add" or not author_id or author_id == self.account_id:
            return []
        post_id = str(value.get("post_id") or "")
        parent = str(value.get("parent_id") or "")
        # A top-level comment's parent is the post: then the comment starts its own thread.
        root = parent if parent and parent != post_id else comment_id
        person = Person(platform_user_id=author_id, name=str(author.get("name") or ""))
        return [
            MessageReceived(
                **common,
                external_id=comment_id,
                sender=person,
                text=str(value.get("message") or ""),
                thread_external_id=root,
                kind="comment",
                metadata={
                    "comment": {
                        "id": comment_id,
                        "parent_id": parent or None,
                        "post_id": post_id,
                        "group_id": value.get("group_id"),
                    }
                },
            ),
            ContactSeen(**common, person=person),
        ]


def _user_id(party: Any) -> str:
    if not isinstance(party, dict):
        raise ValueError("sender/recipient missing")
    value = party.get("id") or party.get("user_ref")
    if value is None:
        raise ValueError("sender/recipient without id")
    return str(value)


def attachments_of(items: list[dict[str, Any]]) -> list[IncomingAttachment]:
    """Meta attachments → IncomingAttachment. During the sticker transition one sticker may
    come as both an ``image`` and a ``sticker`` item: it becomes one sticker attachment."""
    result: list[IncomingAttachment] = []
    stickers: dict[str, int] = {}
    for item in items:
        kind_name = str(item.get("type") or "")
        payload = item.get("payload") or {}
        url = str(payload.get("url") or "")
        sticker_id = payload.get("sticker_id")
        if kind_name == "appointment_booking":
            continue
        if kind_name in ("sticker", "like_heart") or (kind_name == "image" and sticker_id):
            key = str(sticker_id or url)
            attachment = IncomingAttachment(
                kind="sticker", url=url, metadata={"sticker_id": str(sticker_id or "")}
            )
            if key in stickers:
                # The same sticker twice: keep the one with the sticker type.
                if kind_name == "sticker":
                    result[stickers[key]] = attachment
                continue
            stickers[key] = len(result)
            result.append(attachment)
        elif kind_name in MEDIA_KINDS:
            result.append(IncomingAttachment(kind=MEDIA_KINDS[kind_name], url=url))
        elif kind_name == "story_mention":
            # Meta forbids storing story-mention media: the CDN URL is kept, nothing fetched.
            result.append(
                IncomingAttachment(
                    kind="story", url=url, store_media=False, metadata={"type": "story_mention"}
                )
            )
        elif kind_name == "ephemeral":
            result.append(
                IncomingAttachment(
                    kind="file",
                    name="Disappearing media",
                    store_media=False,
                    metadata={"type": "ephemeral"},
                )
            )
        elif kind_name in SHARE_TYPES:
            metadata = {"type": kind_name}
            for key in ("title", "reel_video_id", "id"):
                if payload.get(key) is not None:
                    metadata[key] = str(payload[key])
            if kind_name == "template":
                metadata["product"] = payload.get("product") or payload
            result.append(IncomingAttachment(kind="share", url=url, metadata=metadata))
        else:
            # fallback (link shares; payload may be absent) and anything newer.
            result.append(
                IncomingAttachment(
                    kind="link",
                    url=url,
                    name=str(payload.get("title") or ""),
                    store_media=False,
                    metadata={"type": kind_name or "fallback"},
                )
            )
    return result
