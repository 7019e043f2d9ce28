"""The Graph API as the fake platform server speaks it (REFERENCE §4): Send API, sender
actions, comment replies, profiles and the identity endpoints. Tests script errors with
``server.script("POST", r"/meta/.*/messages$", Reply(400, error_body(...)))``."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.server import FakePlatformServer, Recorded, Reply

PREFIX = r"^/meta/v[0-9.]+"
PAGE_ID = "106917238123456"
PAGE_NAME = "Acme Mugs"
IG_ID = "17841401234567890"
IG_USERNAME = "examplemugs"
FIXTURES = Path(__file__).resolve().parent.parent / "connectors" / "meta" / "fixtures"

_ids = itertools.count(1)


def error_fixture(name: str) -> dict:
    """A Graph error body from the test fixtures (e.g. ``meta_error_invalid_token.json``)."""
    return json.loads((FIXTURES / name).read_bytes())


def error_body(code: int, subcode: int | None = None, message: str = "error") -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Fake"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def _send(request: Recorded, match) -> Reply:
    body = request.json() or {}
    recipient = body.get("recipient") or {}
    if not request.query.get("access_token", [""])[0]:
        return Reply(400, error_body(190, 467, "Invalid OAuth access token."))
    if "sender_action" in body:
        return Reply(200, {"recipient_id": recipient.get("id", "")})
    # A private reply is addressed by comment: Meta answers with the commenter's scoped id.
    recipient_id = recipient.get("id") or f"scoped-{recipient.get('comment_id', '')}"
    return Reply(200, {"recipient_id": recipient_id, "message_id": f"m_fake_{next(_ids)}"})


def _comment_reply(request: Recorded, match) -> Reply:
    return Reply(200, {"id": f"1799{next(_ids):011d}"})


def _me(request: Recorded, match) -> Reply:
    return Reply(200, {"id": PAGE_ID, "name": PAGE_NAME})


def _node(request: Recorded, match) -> Reply:
    node = match.group("node")
    fields = request.query.get("fields", [""])[0]
    if node == IG_ID:
        return Reply(200, {"id": IG_ID, "username": IG_USERNAME, "name": "Example Mugs"})
    if "username" in fields:
        return Reply(
            200,
            {
                "name": "Mug Collector",
                "username": "mug_collector_88",
                "profile_pic": "https://cdn.example/ig.jpg",
            },
        )
    return Reply(
        200,
        {
            "first_name": "Maya",
            "last_name": "Thompson",
            "profile_pic": "https://cdn.example/maya.jpg",
            "id": node,
        },
    )


# A tiny valid PNG: what Meta's CDN answers for an image attachment.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000005000100e2260d5a0000000049454e44ae426082"
)


def _cdn(request: Recorded, match) -> Reply:
    return Reply(200, raw=PNG, content_type="image/png")


@dataclass
class MetaHistory:
    """The Page's past conversations as the Conversations API lists them: newest-updated
    first, each with its messages newest first, paged by opaque ``after`` cursors. ``delay``
    slows every answer (a Graph API that pages slowly)."""

    conversations: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    messages_per_call: int = 3
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.conversations = []
            self.page_size = 2
            self.messages_per_call = 3
            self.delay = 0.0

    def add(self, conversation_id: str, messages: list[dict[str, Any]]) -> None:
        """A conversation with these messages (any order); listed by its newest message."""
        ordered = sorted(messages, key=lambda m: m["created_time"], reverse=True)
        with self.lock:
            self.conversations.append(
                {
                    "id": conversation_id,
                    "updated_time": ordered[0]["created_time"],
                    "messages": ordered,
                }
            )
            self.conversations.sort(key=lambda c: c["updated_time"], reverse=True)


HISTORY = MetaHistory()


def _edge(items: list[dict[str, Any]], start: int, size: int, base: str) -> dict[str, Any]:
    page = items[start : start + size]
    body: dict[str, Any] = {"data": page}
    if start + size < len(items):
        after = f"c{start + size}"
        body["paging"] = {
            "cursors": {"before": f"c{start}", "after": after},
            "next": f"{base}?after={after}",
        }
    return body


def _after(request: Recorded) -> int:
    value = (request.query.get("after") or ["c0"])[0]
    return int(value[1:]) if value[1:].isdigit() else 0


def _conversations(request: Recorded, match) -> Reply:
    if not request.query.get("access_token", [""])[0]:
        return Reply(400, error_body(190, 467, "Invalid OAuth access token."))
    time.sleep(HISTORY.delay)
    with HISTORY.lock:
        listed = [
            {
                "id": c["id"],
                "updated_time": c["updated_time"],
                "messages": _edge(
                    c["messages"], 0, HISTORY.messages_per_call, f"/{c['id']}/messages"
                ),
            }
            for c in HISTORY.conversations
        ]
        size = HISTORY.page_size
    return Reply(200, _edge(listed, _after(request), size, "/me/conversations"))


def _conversation_messages(request: Recorded, match) -> Reply:
    time.sleep(HISTORY.delay)
    with HISTORY.lock:
        found = next((c for c in HISTORY.conversations if c["id"] == match.group("thread")), None)
        size = HISTORY.messages_per_call
    if found is None:
        return Reply(404, error_body(100, 33, "Unsupported get request."))
    return Reply(200, _edge(found["messages"], _after(request), size, f"/{found['id']}/messages"))


def install(server: FakePlatformServer) -> None:
    HISTORY.reset()
    server.route("GET", PREFIX + r"/me/conversations$", _conversations)
    server.route("GET", PREFIX + r"/(?P<thread>t_[0-9A-Za-z_-]+)/messages$", _conversation_messages)
    server.route("GET", r"^/meta/cdn/", _cdn)
    server.route("POST", PREFIX + r"/[^/]+/messages$", _send)
    server.route("POST", PREFIX + r"/[^/]+/(replies|comments)$", _comment_reply)
    server.route("GET", PREFIX + r"/me$", _me)
    server.route("GET", PREFIX + r"/(?P<node>[0-9A-Za-z_-]+)$", _node)
