"""The X API v2 as the fake platform server answers it (under ``/x``).

``GET /2/dm_events`` pages a list of DM events newest first with opaque ``pagination_token``s,
answers an empty page without ``data`` (``meta.result_count: 0``) when there is nothing, sends
``x-rate-limit-*`` headers on every lookup and refuses with 429 once the window's requests are
spent — like X. Sends answer 201 with new event ids; ``POST /2/tweets`` (public reply posts)
answers 201 with the post's id; media URLs under ``/x/media/`` need the bearer token.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import FakePlatformServer, Recorded, Reply

ACCOUNT_ID = "1366009876543210496"
ACCOUNT_USERNAME = "examplemugs_help"
# A 1x1 PNG: what a DM photo download returns.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@dataclass
class XState:
    """What the fake X holds: the account's DM events (newest first) and the rate window."""

    events: list[dict[str, Any]] = field(default_factory=list)
    includes: dict[str, Any] = field(default_factory=dict)
    page_size: int = 2
    # Lookup requests left in the current 15-minute window, and when it resets (epoch s).
    remaining: int = 15
    limit: int = 15
    reset_at: int = 0
    # Pages answered empty (no `data`) before the real ones, the way X sometimes does.
    empty_pages_first: int = 0
    next_on_last: bool = False
    ids: itertools.count = field(default_factory=lambda: itertools.count(1879400000000000001))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        self.events.clear()
        self.includes = {}
        self.page_size = 2
        self.remaining = self.limit = 15
        self.reset_at = int(time.time()) + 900
        self.empty_pages_first = 0
        self.next_on_last = False

    def rate_headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(max(self.remaining, 0)),
            "x-rate-limit-reset": str(self.reset_at),
        }


STATE = XState()


def _dm_events(request: Recorded, match) -> Reply:
    with STATE.lock:
        if STATE.remaining <= 0:
            return Reply(
                429,
                {
                    "title": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429,
                    "detail": "Too Many Requests",
                },
                headers=STATE.rate_headers(),
            )
        STATE.remaining -= 1
        headers = STATE.rate_headers()
        token = (request.query.get("pagination_token") or [""])[0]
        if token == "" and STATE.empty_pages_first:
            token = "e0"
        if token.startswith("e"):
            done = int(token[1:])
            if done < STATE.empty_pages_first:
                return Reply(
                    200,
                    {"meta": {"result_count": 0, "next_token": f"e{done + 1}"}},
                    headers=headers,
                )
            token = ""
        start = int(token[1:]) if token[1:].isdigit() else 0
        page = STATE.events[start : start + STATE.page_size]
        if not page:
            return Reply(200, {"meta": {"result_count": 0}}, headers=headers)
        body: dict[str, Any] = {"data": page, "meta": {"result_count": len(page)}}
        if STATE.includes:
            body["includes"] = STATE.includes
        # Like X, the last full page may still carry a next_token that leads to an empty page.
        if start + STATE.page_size <= len(STATE.events) and (
            STATE.next_on_last or start + STATE.page_size < len(STATE.events)
        ):
            body["meta"]["next_token"] = f"p{start + STATE.page_size}"
        return Reply(200, body, headers=headers)


def _send(request: Recorded, match) -> Reply:
    participant = match.groupdict().get("participant")
    conversation = match.groupdict().get("conversation")
    if participant:
        low, high = sorted((ACCOUNT_ID, participant), key=int)
        conversation = f"{low}-{high}"
    elif not conversation:
        conversation = str(next(STATE.ids))[:19]
    return Reply(
        201,
        {"data": {"dm_conversation_id": conversation, "dm_event_id": str(next(STATE.ids))}},
        headers=STATE.rate_headers(),
    )


def _post(request: Recorded, match) -> Reply:
    """``POST /2/tweets``: 201 with the new post's id and text (a reply names
    ``reply.in_reply_to_tweet_id``); over 280 characters, X's 400 problem."""
    body = request.json() or {}
    text = str(body.get("text") or "")
    if not text or len(text) > 280:
        return Reply(
            400,
            {
                "title": "Invalid Request",
                "type": "https://api.x.com/2/problems/invalid-request",
                "detail": "One or more parameters to your request was invalid.",
                "errors": [{"message": "text must be 1 to 280 characters"}],
            },
        )
    post_id = str(next(STATE.ids))
    return Reply(201, {"data": {"id": post_id, "text": text}}, headers=STATE.rate_headers())


# Users ``GET /2/users/by/username/:username`` knows, by lower-cased username.
USERS: dict[str, dict[str, str]] = {}


def _user_by_username(request: Recorded, match) -> Reply:
    user = USERS.get(match.group("username").lower())
    if user is None:
        # X answers an unknown username with 200 and only `errors`.
        return Reply(
            200,
            {
                "errors": [
                    {
                        "value": match.group("username"),
                        "detail": "Could not find user with username: "
                        f"[{match.group('username')}].",
                        "title": "Not Found Error",
                        "resource_type": "user",
                        "parameter": "username",
                        "type": "https://api.x.com/2/problems/resource-not-found",
                    }
                ]
            },
        )
    return Reply(200, {"data": user})


def _me(request: Recorded, match) -> Reply:
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return Reply(
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
        )
    return Reply(
        200,
        {"data": {"id": ACCOUNT_ID, "name": "Example Mugs Support", "username": ACCOUNT_USERNAME}},
    )


def _upload(request: Recorded, match) -> Reply:
    media_id = str(next(STATE.ids))
    return Reply(
        200, {"data": {"id": media_id, "media_key": f"3_{media_id}", "expires_after_secs": 86400}}
    )


def _media(request: Recorded, match) -> Reply:
    if request.headers.get("authorization") != "Bearer x-token":
        return Reply(401, raw=b"", content_type="text/plain")
    return Reply(200, raw=PNG, content_type="image/png")


def install(server: FakePlatformServer) -> None:
    STATE.reset()
    USERS.clear()
    server.route("GET", r"^/x/2/dm_events$", _dm_events)
    server.route("GET", r"^/x/2/users/me$", _me)
    server.route("POST", r"^/x/2/dm_conversations/with/(?P<participant>\d+)/messages$", _send)
    server.route("POST", r"^/x/2/dm_conversations/(?P<conversation>[0-9-]+)/messages$", _send)
    server.route("POST", r"^/x/2/dm_conversations$", _send)
    server.route("POST", r"^/x/2/media/upload$", _upload)
    server.route("POST", r"^/x/2/tweets$", _post)
    server.route("GET", r"^/x/2/users/by/username/(?P<username>\w+)$", _user_by_username)
    server.route("GET", r"^/x/media/", _media)
