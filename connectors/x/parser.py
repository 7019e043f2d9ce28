"""X wire formats → normalized events.

Three shapes arrive: Account Activity API webhooks (``for_user_id`` + ``direct_message_events``,
flat v1-style ``users``; ``tweet_create_events`` for mentions), the X Activity API envelope
(``data.event_type`` ``dm.received`` / ``dm.sent`` / ``dm.read`` / ``dm.indicate_typing``, users
keyed by id and wrapped in ``data``; ``post.mention.create`` with a v2 post), and polled
``GET /2/dm_events`` pages (v2 objects, ``includes``). REFERENCE §6.2–§6.4.

A public post that mentions the account (or answers one of its posts) becomes a comment
(``MessageReceived(kind="comment")``) in a thread keyed ``post:<id>`` (``POST_THREAD``): post ids
and group DM ids are both numbers, so the prefix keeps the two kinds of thread apart.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from connectors.base import (
    AccountRevoked,
    Event,
    IncomingAttachment,
    MessageEchoed,
    MessageReceived,
    MessagesRead,
    ParticipantsChanged,
    PayloadError,
    Person,
    Typing,
    decode_json,
)

log = logging.getLogger(__name__)

PLATFORM = "x"
TCO = re.compile(r"https?://t\.co/[A-Za-z0-9]+")
# Comment threads (public posts) are keyed "post:<root post id>".
POST_THREAD = "post:"
# XAA event types of public posts that Parley answers.
XAA_MENTIONS = frozenset({"post.mention.create"})
# X snowflake ids carry their creation time (ms since this epoch) in the bits above 22.
SNOWFLAKE_EPOCH_MS = 1288834974657


# --- Small readers ----------------------------------------------------------------------------


def from_ms(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def from_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def snowflake_time(event_id: str) -> datetime | None:
    if not str(event_id).isdigit():
        return None
    return from_ms((int(event_id) >> 22) + SNOWFLAKE_EPOCH_MS)


def one_to_one_thread(a: str, b: str) -> str:
    """X's id of a 1:1 conversation: the two user ids, smaller first."""
    low, high = sorted((a, b), key=int)
    return f"{low}-{high}"


def is_group_thread(thread_id: str | None) -> bool:
    return bool(thread_id) and "-" not in thread_id


def person_v1(user_id: str, users: dict[str, Any]) -> Person:
    """A user from an AAA ``users`` map (flat v1) or an XAA one (v2 wrapped in ``data``)."""
    user = users.get(user_id) or {}
    if isinstance(user.get("data"), dict):
        user = user["data"]
    return Person(
        platform_user_id=str(user_id),
        name=str(user.get("name") or ""),
        username=str(user.get("screen_name") or user.get("username") or ""),
        avatar_url=str(user.get("profile_image_url_https") or user.get("profile_image_url") or ""),
    )


def person_v2(user_id: str, users: dict[str, dict[str, Any]]) -> Person:
    user = users.get(user_id) or {}
    return Person(
        platform_user_id=str(user_id),
        name=str(user.get("name") or ""),
        username=str(user.get("username") or ""),
        avatar_url=str(user.get("profile_image_url") or ""),
    )


# --- Text: t.co links -------------------------------------------------------------------------


def url_entities(holder: dict[str, Any]) -> list[dict[str, Any]]:
    """URL entities, flat (``urls`` beside the text, v1 and v2.152) or nested
    (``entities.urls``, v2.167)."""
    entities = holder.get("entities")
    found = []
    if isinstance(entities, dict) and isinstance(entities.get("urls"), list):
        found.extend(entities["urls"])
    if isinstance(holder.get("urls"), list):
        found.extend(holder["urls"])
    return [item for item in found if isinstance(item, dict) and item.get("url")]


def shown_text(
    text: str,
    urls: Iterable[dict[str, Any]],
    *,
    media_link: str | None = None,
    has_media: bool = False,
) -> str:
    """The media DM's trailing t.co link goes (the attachment shows it); other t.co links are
    shown expanded where X told us where they lead."""
    expanded = {item["url"]: item.get("expanded_url") or item["url"] for item in urls}
    stripped = text.rstrip()
    if media_link and stripped.endswith(media_link):
        stripped = stripped[: -len(media_link)].rstrip()
    elif has_media:
        last = list(TCO.finditer(stripped))
        if last and last[-1].end() == len(stripped):
            stripped = stripped[: last[-1].start()].rstrip()
    return TCO.sub(lambda m: expanded.get(m.group(0), m.group(0)), stripped)


# --- Attachments ------------------------------------------------------------------------------


def best_variant(variants: Any) -> str:
    mp4 = [
        v
        for v in variants or []
        if isinstance(v, dict) and v.get("url") and "mp4" in str(v.get("content_type", ""))
    ]
    if not mp4:
        return ""
    return str(max(mp4, key=lambda v: v.get("bitrate") or v.get("bit_rate") or 0)["url"])


def media_attachment(media: dict[str, Any]) -> IncomingAttachment:
    kind = media.get("type")
    if kind in ("video", "animated_gif"):
        url = best_variant((media.get("video_info") or {}).get("variants") or media.get("variants"))
        url = url or str(media.get("preview_image_url") or "")
        return IncomingAttachment(
            kind="video",
            url=url,
            content_type="video/mp4",
            metadata={
                "media_key": media.get("media_key") or media.get("id_str") or "",
                "x_type": kind,
            },
        )
    return IncomingAttachment(
        kind="image",
        url=str(media.get("media_url_https") or media.get("url") or media.get("media_url") or ""),
        metadata={"media_key": media.get("media_key") or media.get("id_str") or "", "x_type": kind},
    )


# --- Webhooks (AAA and XAA) -------------------------------------------------------------------


def webhook_account_ids(data: dict[str, Any]) -> list[str]:
    """Every account a webhook body names (``for_user_id``, ``data.filter.user_id``,
    ``user_event.revoke.source``), the subscribed one first: their secrets are the candidates,
    and each secret speaks only for its own accounts' events."""
    found = [data.get("for_user_id")]
    envelope = data.get("data")
    if isinstance(envelope, dict) and isinstance(envelope.get("filter"), dict):
        found.append(envelope["filter"].get("user_id"))
    user_event = data.get("user_event")
    revoke = user_event.get("revoke") if isinstance(user_event, dict) else None
    if isinstance(revoke, dict) and isinstance(revoke.get("source"), dict):
        found.append(revoke["source"].get("user_id"))
    return list(dict.fromkeys(str(user) for user in found if user))


def parse_webhook(body: bytes) -> list[Event]:
    data = decode_json(body)
    if not isinstance(data, dict):
        raise PayloadError("an X webhook body is a JSON object")
    try:
        envelope = data.get("data")
        if isinstance(envelope, dict) and "event_type" in envelope:
            return _parse_xaa(envelope)
        if "user_event" in data:
            return _parse_revoke(data["user_event"])
        if "for_user_id" in data:
            return _parse_aaa(data, str(data["for_user_id"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadError(f"malformed X event: {exc!r}") from exc
    # Well-formed but not for Parley (tweets, follows...): acknowledged and ignored.
    return []


def _parse_revoke(user_event: dict[str, Any]) -> list[Event]:
    revoke = user_event.get("revoke")
    if not isinstance(revoke, dict):
        return []
    when = datetime.fromisoformat(revoke["date_time"]) if revoke.get("date_time") else None
    return [
        AccountRevoked(
            platform=PLATFORM,
            account_external_id=str(revoke["source"]["user_id"]),
            timestamp=when or datetime.now(tz=UTC),
            reason="The X user revoked Parley's access to the account (user_event.revoke).",
        )
    ]


def _parse_xaa(envelope: dict[str, Any]) -> list[Event]:
    event_type = envelope["event_type"]
    account_id = str((envelope.get("filter") or {}).get("user_id") or "")
    payload = envelope.get("payload") or {}
    if event_type in XAA_MENTIONS and account_id and isinstance(payload, dict):
        includes = envelope.get("includes") or {}
        users = [u.get("data", u) for u in includes.get("users") or [] if isinstance(u, dict)]
        mention = _post_v2(payload, account_id, {str(u.get("id")): u for u in users})
        return [mention] if mention is not None else []
    if not event_type.startswith("dm.") or not account_id or not isinstance(payload, dict):
        # chat.* (encrypted XChat) and everything else: nothing Parley can read.
        return []
    return _parse_aaa(payload, account_id)


def _parse_aaa(data: dict[str, Any], account_id: str) -> list[Event]:
    users = data.get("users") or {}
    parsed: list[Event] = []
    if str(data.get("user_has_blocked", "")).lower() == "true":
        # The account blocked the author: X still reports the mention; nobody answers it.
        log.info("X mention from a user the account blocked ignored")
    else:
        for tweet in data.get("tweet_create_events") or []:
            mention = _post_v1(tweet, account_id) if isinstance(tweet, dict) else None
            if mention is not None:
                parsed.append(mention)
    for item in data.get("direct_message_events") or []:
        if item.get("type", "message_create") != "message_create" or "message_create" not in item:
            continue
        parsed.append(_message_create(item, account_id, users))
    for item in data.get("direct_message_indicate_typing_events") or []:
        sender = str(item["sender_id"])
        if sender == account_id:
            continue
        parsed.append(
            Typing(
                platform=PLATFORM,
                account_external_id=account_id,
                timestamp=from_ms(item["created_timestamp"]),
                by=person_v1(sender, users),
                thread_external_id=one_to_one_thread(sender, account_id),
            )
        )
    for item in data.get("direct_message_mark_read_events") or []:
        sender = str(item["sender_id"])
        if sender == account_id:
            # The account read a DM on another device: nothing to show customers' side.
            continue
        last = str(item.get("last_read_event_id") or "")
        parsed.append(
            MessagesRead(
                platform=PLATFORM,
                account_external_id=account_id,
                timestamp=from_ms(item["created_timestamp"]),
                counterpart_id=sender,
                watermark=snowflake_time(last),
                up_to_external_id=last,
            )
        )
    return parsed


def _message_create(item: dict[str, Any], account_id: str, users: dict[str, Any]) -> Event:
    create = item["message_create"]
    sender = str(create["sender_id"])
    recipient = str(create["target"]["recipient_id"])
    data = create.get("message_data") or {}
    media = (data.get("attachment") or {}).get("media")
    attachments = (media_attachment(media),) if isinstance(media, dict) else ()
    text = shown_text(
        str(data.get("text") or ""),
        url_entities(data),
        media_link=media.get("url") if isinstance(media, dict) else None,
        has_media=bool(attachments),
    )
    metadata: dict[str, Any] = {}
    if data.get("quick_reply_response"):
        metadata["quick_reply"] = data["quick_reply_response"].get("metadata", "")
    if item.get("initiated_via"):
        metadata["initiated_via"] = item["initiated_via"]
    common = {
        "platform": PLATFORM,
        "account_external_id": account_id,
        "timestamp": from_ms(item["created_timestamp"]),
        "external_id": str(item["id"]),
        "text": text,
        "attachments": attachments,
        "thread_external_id": one_to_one_thread(sender, recipient),
        "metadata": metadata,
    }
    if sender == account_id:
        # X hands back no client reference: see MessageEchoed.returns_client_ref.
        return MessageEchoed(
            **common, recipient=person_v1(recipient, users), returns_client_ref=False
        )
    return MessageReceived(**common, sender=person_v1(sender, users))


# --- Polling (GET /2/dm_events) ---------------------------------------------------------------


def parse_dm_events(page: dict[str, Any], account_id: str) -> list[Event]:
    """One page of v2 DM events (newest first) → events. Unknown event types are skipped."""
    includes = page.get("includes") or {}
    users = {str(u["id"]): u for u in includes.get("users") or [] if isinstance(u, dict)}
    media = {str(m["media_key"]): m for m in includes.get("media") or [] if isinstance(m, dict)}
    posts = {str(t["id"]): t for t in includes.get("tweets") or includes.get("posts") or []}
    parsed: list[Event] = []
    for item in page.get("data") or []:
        try:
            event = _dm_event(item, account_id, users, media, posts)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("X dm_event %s skipped: %r", item.get("id"), exc)
            continue
        if event is not None:
            parsed.append(event)
    return parsed


def event_time(item: dict[str, Any]) -> datetime | None:
    """When a v2 DM event happened: its ``created_at``, else the time in its snowflake id."""
    try:
        return from_iso(item.get("created_at")) or snowflake_time(str(item.get("id") or ""))
    except ValueError:
        return None


def _dm_event(
    item: dict[str, Any],
    account_id: str,
    users: dict[str, Any],
    media: dict[str, Any],
    posts: dict[str, Any],
) -> Event | None:
    kind = item.get("event_type")
    thread = str(item.get("dm_conversation_id") or "")
    when = event_time(item)
    sender = str(item.get("sender_id") or "")
    if kind in ("ParticipantsJoin", "ParticipantsLeave"):
        if not thread:
            return None
        return ParticipantsChanged(
            platform=PLATFORM,
            account_external_id=account_id,
            timestamp=when,
            external_id=str(item["id"]),
            thread_external_id=thread,
            joined=kind == "ParticipantsJoin",
            participants=tuple(person_v2(str(p), users) for p in item.get("participant_ids") or []),
            by=person_v2(sender, users) if sender else None,
            metadata={"x_event": kind},
        )
    if kind != "MessageCreate" or not sender:
        return None
    keys = (item.get("attachments") or {}).get("media_keys") or []
    attachments = tuple(media_attachment(media[k]) for k in keys[:1] if k in media)
    referenced = item.get("referenced_tweets") or item.get("referenced_posts") or []
    references = []
    for ref in referenced:
        post = posts.get(str(ref.get("id"))) or {}
        references.append(
            {
                "id": str(ref.get("id")),
                "text": post.get("text", ""),
                "url": f"https://x.com/i/status/{ref.get('id')}",
            }
        )
    urls = url_entities(item)
    text = str(item.get("text") or "")
    if references and not urls:
        # Without entities the trailing t.co of a shared post still points at that post.
        trailing = list(TCO.finditer(text.rstrip()))
        if trailing and trailing[-1].end() == len(text.rstrip()):
            urls = [{"url": trailing[-1].group(0), "expanded_url": references[-1]["url"]}]
    metadata: dict[str, Any] = {}
    if references:
        metadata["referenced_posts"] = references
    if not thread:
        thread = one_to_one_thread(sender, account_id) if sender != account_id else ""
    group = is_group_thread(thread)
    common = {
        "platform": PLATFORM,
        "account_external_id": account_id,
        "timestamp": when,
        "external_id": str(item["id"]),
        "text": shown_text(text, urls, has_media=bool(keys)),
        "attachments": attachments,
        "thread_external_id": thread or None,
        "kind": "group" if group else "dm",
        "metadata": metadata,
    }
    if sender == account_id:
        other = ""
        if thread and not group:
            other = next((p for p in thread.split("-") if p != account_id), "")
        # A group DM names no single recipient: the domain files it under the group's thread.
        return MessageEchoed(
            **common,
            recipient=person_v2(other, users) if other else Person(platform_user_id=""),
            returns_client_ref=False,
        )
    return MessageReceived(**common, sender=person_v2(sender, users))


# --- Public posts: mentions and replies to the account (comments) ------------------------------


def post_thread(post_id: str) -> str:
    return f"{POST_THREAD}{post_id}"


def post_id_of_thread(thread_id: str | None) -> str:
    """The root post's id of a comment thread ("" when it is not one)."""
    if thread_id and thread_id.startswith(POST_THREAD):
        return thread_id[len(POST_THREAD) :]
    return ""


def _post_v1(tweet: dict[str, Any], account_id: str) -> MessageReceived | None:
    """An AAA ``tweet_create_events`` item (a v1.1 Tweet object): a mention of the account, or
    a reply to one of its posts. The account's own posts (Parley's public replies among them)
    and retweets are not customers speaking."""
    user = tweet.get("user") or {}
    author = str(user.get("id_str") or user.get("id") or "")
    post_id = str(tweet.get("id_str") or tweet.get("id") or "")
    if not author or not post_id or author == account_id or "retweeted_status" in tweet:
        return None
    entities = tweet.get("entities") or {}
    mentioned = {
        str(m.get("id_str") or m.get("id"))
        for m in entities.get("user_mentions") or []
        if isinstance(m, dict)
    }
    replied_to_user = str(tweet.get("in_reply_to_user_id_str") or "")
    if account_id not in mentioned and replied_to_user != account_id:
        return None
    extended = tweet.get("extended_tweet") if tweet.get("truncated") else None
    holder = extended if isinstance(extended, dict) else tweet
    text = str(holder.get("full_text") or holder.get("text") or "")
    urls = (
        url_entities(holder.get("entities") or {})
        if holder is not tweet
        else url_entities(entities)
    )
    replied_to = str(tweet.get("in_reply_to_status_id_str") or "")
    when = from_ms(tweet["timestamp_ms"]) if tweet.get("timestamp_ms") else snowflake_time(post_id)
    person = Person(
        platform_user_id=author,
        name=str(user.get("name") or ""),
        username=str(user.get("screen_name") or ""),
        avatar_url=str(user.get("profile_image_url_https") or ""),
    )
    # A reply to the account's own post continues that post's thread; anything else starts one.
    root = replied_to if replied_to and replied_to_user == account_id else post_id
    return _mention(account_id, post_id, root, replied_to, person, shown_text(text, urls), when)


def _post_v2(
    post: dict[str, Any], account_id: str, users: dict[str, dict[str, Any]]
) -> MessageReceived | None:
    """An XAA ``post.mention.create`` payload (a v2 Post): threads by its ``conversation_id``."""
    author = str(post.get("author_id") or "")
    post_id = str(post.get("id") or "")
    if not author or not post_id or author == account_id:
        return None
    replied_to = ""
    for ref in post.get("referenced_tweets") or post.get("referenced_posts") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            replied_to = str(ref.get("id") or "")
    root = str(post.get("conversation_id") or post_id)
    when = from_iso(post.get("created_at")) or snowflake_time(post_id)
    text = shown_text(str(post.get("text") or ""), url_entities(post))
    return _mention(account_id, post_id, root, replied_to, person_v2(author, users), text, when)


def _mention(
    account_id: str,
    post_id: str,
    root: str,
    replied_to: str,
    person: Person,
    text: str,
    when: datetime | None,
) -> MessageReceived:
    handle = person.username or "i"
    return MessageReceived(
        platform=PLATFORM,
        account_external_id=account_id,
        timestamp=when or datetime.now(tz=UTC),
        external_id=post_id,
        sender=person,
        text=text,
        reply_to_external_id=replied_to or None,
        thread_external_id=post_thread(root),
        kind="comment",
        metadata={
            "post": {
                "id": post_id,
                "url": f"https://x.com/{handle}/status/{post_id}",
                "in_reply_to": replied_to or None,
            }
        },
    )
