"""LinkedIn Organization Social Action Notifications → normalized events (REFERENCE §7).

``{"type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS", "notifications": [...]}``, each with a
``notificationId`` (the dedupe key), an ``action`` and the post it concerns. Comments and
mentions become comment conversations (one per post); likes and shares are only counted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.base import (
    Event,
    MessageDeleted,
    MessageEchoed,
    MessageEdited,
    MessageReceived,
    PayloadError,
    Person,
    PostActivity,
    decode_json,
)

PLATFORM = "linkedin"
# The post counter each action moves (PostActivity.counter, step).
COUNTERS = {
    "LIKE": ("likes", 1),
    "SHARE": ("shares", 1),
    "COMMENT": ("comments", 1),
    "ADMIN_COMMENT": ("comments", 1),
    "COMMENT_DELETE": ("comments", -1),
    "SHARE_MENTION": ("mentions", 1),
}
KNOWN_ACTIONS = {
    "LIKE",
    "COMMENT",
    "SHARE",
    "SHARE_MENTION",
    "ADMIN_COMMENT",
    "COMMENT_EDIT",
    "COMMENT_DELETE",
}


def member(urn: str) -> Person:
    """LinkedIn notifications name people by URN only; the profile API needs partner access."""
    short = urn.rsplit(":", 1)[-1] if urn else ""
    return Person(platform_user_id=urn, name=f"LinkedIn member {short}" if short else "")


def notification_accounts(data: dict[str, Any]) -> list[str]:
    """The organisations a push names, in order: each notification is applied only when the
    secret that verified the push is one of its organisation's."""
    notifications = data.get("notifications")
    if not isinstance(notifications, list):
        return []
    found = [
        str(item["organizationalEntity"])
        for item in notifications
        if isinstance(item, dict) and item.get("organizationalEntity")
    ]
    return list(dict.fromkeys(found))


def parse_webhook(body: bytes) -> list[Event]:
    data = decode_json(body)
    if not isinstance(data, dict) or not isinstance(data.get("notifications"), list):
        raise PayloadError("a LinkedIn push carries a notifications list")
    parsed: list[Event] = []
    for item in data["notifications"]:
        try:
            event = _notification(item)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PayloadError(f"malformed LinkedIn notification: {exc!r}") from exc
        if event is not None:
            parsed.append(event)
    return parsed


def _activity(item: dict[str, Any]) -> dict[str, Any]:
    """The comment or share a notification generated (decorated form)."""
    decorated = item.get("decoratedGeneratedActivity") or {}
    for key in ("comment", "share", "post"):
        if isinstance(decorated.get(key), dict):
            return decorated[key]
    return {}


def _notification(item: dict[str, Any]) -> PostActivity | None:
    action = str(item["action"])
    if action not in KNOWN_ACTIONS:
        return None
    account = str(item["organizationalEntity"])
    when = datetime.fromtimestamp(int(item["lastModifiedAt"]) / 1000, tz=UTC)
    post = str(item.get("sourcePost") or "")
    source = item.get("decoratedSourcePost") or {}
    post_text = str(source.get("text") or "")
    activity = _activity(item)
    activity_urn = str(item.get("generatedActivity") or activity.get("entity") or "")
    author = str(activity.get("owner") or item.get("subscriber") or "")
    text = str(activity.get("text") or "")
    common = {"platform": PLATFORM, "account_external_id": account, "timestamp": when}
    inner: Event | None = None
    if action in ("COMMENT", "SHARE_MENTION"):
        if action == "SHARE_MENTION" and not text:
            text = post_text
            author = str(source.get("owner") or author)
        inner = MessageReceived(
            **common,
            external_id=activity_urn or f"{post}#{item['notificationId']}",
            sender=member(author),
            text=text,
            thread_external_id=post or activity_urn,
            kind="comment",
            metadata={
                "linkedin_action": action,
                "post_urn": post,
                "post_text": post_text,
                "comment_urn": activity_urn,
                # What the comment answers: the post, or a parent comment (nested reply).
                "comment_object": str(activity.get("object") or ""),
            },
        )
    elif action == "ADMIN_COMMENT":
        inner = MessageEchoed(
            **common,
            external_id=activity_urn,
            # The Page's own comment: filed under the post's conversation, if there is one.
            recipient=Person(platform_user_id=""),
            text=text,
            thread_external_id=post,
            kind="comment",
            metadata={"linkedin_action": action, "comment_urn": activity_urn},
            returns_client_ref=False,
        )
    elif action == "COMMENT_EDIT":
        inner = MessageEdited(**common, external_id=activity_urn, text=text)
    elif action == "COMMENT_DELETE":
        inner = MessageDeleted(**common, external_id=activity_urn)
    counter, step = COUNTERS.get(action, ("", 0))
    return PostActivity(
        **common,
        activity_id=str(item["notificationId"]),
        post_external_id=post,
        action=action,
        counter=counter,
        step=step,
        post_text=post_text,
        actor_external_id=author,
        inner=inner,
    )
