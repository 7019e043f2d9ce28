"""An organisation's recent history on LinkedIn: the comments on its recent posts (the posts API
by author, newest first, then each post's comments through the socialActions API).

The cursor names the post being read (``posts_start`` is its place in the author's list) and
the next page of its comments (``comments_start``). Comments carry the same URNs and metadata
as the Social Action Notifications that bring new ones, so an imported comment and its later
webhook are one message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings

from connectors import http
from connectors.base import Event, HistoryPage, MessageEchoed, MessageReceived, Person
from connectors.linkedin.errors import classify
from connectors.linkedin.parser import PLATFORM, member
from inbox.models import PlatformAccount

COMMENTS_PER_PAGE = 50


def history_page(
    account: PlatformAccount, cursor: dict[str, Any], since: datetime, headers: dict[str, str]
) -> HistoryPage:
    cursor = dict(cursor)
    base = settings.LINKEDIN_API_URL.rstrip("/")
    if not cursor.get("post"):
        start = int(cursor.get("posts_start") or 0)
        posts = _get(
            f"{base}/rest/posts",
            headers,
            {
                "q": "author",
                "author": account.external_id,
                "count": 1,
                "start": start,
                "sortBy": "LAST_MODIFIED",
            },
        )
        elements = [p for p in posts.get("elements") or [] if isinstance(p, dict) and p.get("id")]
        if not elements or _time(elements[0].get("lastModifiedAt")) < since:
            return HistoryPage(events=[], cursor=None, items=0, reached=None)
        post = elements[0]
        cursor.update(
            post=str(post["id"]),
            post_text=str(post.get("commentary") or "")[:500],
            comments_start=0,
            posts_start=start,
        )
    post_urn = str(cursor["post"])
    start = int(cursor.get("comments_start") or 0)
    data = _get(
        f"{base}/rest/socialActions/{quote(post_urn, safe='')}/comments",
        headers,
        {"start": start, "count": COMMENTS_PER_PAGE},
    )
    comments = [c for c in data.get("elements") or [] if isinstance(c, dict)]
    found: list[Event] = []
    reached: datetime | None = None
    for comment in comments:
        at = _time((comment.get("created") or {}).get("time"))
        if at < since:
            continue
        reached = at if reached is None else min(reached, at)
        event = _event(account, comment, post_urn, str(cursor.get("post_text") or ""), at)
        if event is not None:
            found.append(event)
    total = (data.get("paging") or {}).get("total")
    more_comments = bool(comments) and (
        start + len(comments) < int(total)
        if isinstance(total, int)
        else len(comments) >= COMMENTS_PER_PAGE
    )
    if more_comments:
        cursor["comments_start"] = start + len(comments)
    else:
        cursor = {"posts_start": int(cursor.get("posts_start") or 0) + 1}
    return HistoryPage(events=found, cursor=cursor, items=len(comments), reached=reached)


def _get(url: str, headers: dict[str, str], params: dict[str, Any]) -> dict[str, Any]:
    response = http.request("GET", url, classify=classify, headers=headers, params=params)
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _time(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.min.replace(tzinfo=UTC)


def _event(
    account: PlatformAccount, comment: dict[str, Any], post: str, post_text: str, at: datetime
) -> Event | None:
    urn = str(comment.get("$URN") or comment.get("commentUrn") or "")
    actor = str(comment.get("actor") or (comment.get("created") or {}).get("actor") or "")
    if not urn or not actor:
        return None
    text = str((comment.get("message") or {}).get("text") or "")
    common = {
        "platform": PLATFORM,
        "account_external_id": account.external_id,
        "timestamp": at,
        "external_id": urn,
        "text": text,
        "thread_external_id": post,
        "kind": "comment",
    }
    if actor == account.external_id:
        return MessageEchoed(
            **common,
            recipient=Person(platform_user_id=""),
            metadata={"linkedin_action": "ADMIN_COMMENT", "comment_urn": urn},
            returns_client_ref=False,
        )
    return MessageReceived(
        **common,
        sender=member(actor),
        metadata={
            "linkedin_action": "COMMENT",
            "post_urn": post,
            "post_text": post_text,
            "comment_urn": urn,
            "comment_object": str(comment.get("parentComment") or comment.get("object") or post),
        },
    )
