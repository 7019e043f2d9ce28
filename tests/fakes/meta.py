"""The Graph API as the fake platform server speaks it (REFERENCE §4): Send API, sender
actions, comment replies, profiles and the identity endpoints. Tests script errors with
``server.script("POST", r"/meta/.*/messages$", Reply(400, error_body(...)))``."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

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


def install(server: FakePlatformServer) -> None:
    server.route("GET", r"^/meta/cdn/", _cdn)
    server.route("POST", PREFIX + r"/[^/]+/messages$", _send)
    server.route("POST", PREFIX + r"/[^/]+/(replies|comments)$", _comment_reply)
    server.route("GET", PREFIX + r"/me$", _me)
    server.route("GET", PREFIX + r"/(?P<node>[0-9A-Za-z_-]+)$", _node)
