"""LinkedIn's REST API as the fake platform server answers it (under ``/linkedin``): the
comments API (refusing requests without ``LinkedIn-Version`` / ``X-Restli-Protocol-Version``,
like LinkedIn) and the organization lookup."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import unquote

from tests.fakes.server import FakePlatformServer, Recorded, Reply

ORGANIZATION_ID = "96072893"
_ids = itertools.count(7412500000000000001)


def _versioned(request: Recorded) -> Reply | None:
    if not request.headers.get("linkedin-version"):
        return Reply(
            426,
            {
                "status": 426,
                "code": "NONEXISTENT_VERSION",
                "message": "Requested version  is not active",
            },
        )
    if request.headers.get("x-restli-protocol-version") != "2.0.0":
        return Reply(400, {"status": 400, "message": "Restli protocol version 2.0.0 required"})
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return Reply(
            401,
            {
                "status": 401,
                "serviceErrorCode": 65600,
                "code": "INVALID_ACCESS_TOKEN",
                "message": "Invalid access token",
            },
        )
    return None


def _comment(request: Recorded, match) -> Reply:
    refused = _versioned(request)
    if refused:
        return refused
    body = request.json()
    comment_id = str(next(_ids))
    urn = f"urn:li:comment:({body['object']},{comment_id})"
    return Reply(
        201,
        {
            "id": comment_id,
            "commentUrn": urn,
            "object": body["object"],
            "actor": body["actor"],
            "message": body["message"],
            "target": unquote(match.group("target")),
        },
        headers={"x-restli-id": urn},
    )


def _organization(request: Recorded, match) -> Reply:
    refused = _versioned(request)
    if refused:
        return refused
    if match.group("id") != ORGANIZATION_ID:
        return Reply(404, {"status": 404, "message": "Organization not found"})
    return Reply(
        200,
        {"id": int(ORGANIZATION_ID), "localizedName": "Example Mugs", "vanityName": "example-mugs"},
    )


# The organisation's posts (newest first) and each post's comments (oldest first), for the
# history import: ``POSTS.append({"id": urn, "lastModifiedAt": ms, "commentary": text})`` and
# ``COMMENTS[urn] = [{"$URN", "actor", "message": {"text"}, "created": {"time"}}, ...]``.
POSTS: list[dict[str, Any]] = []
COMMENTS: dict[str, list[dict[str, Any]]] = {}


def _int(request: Recorded, name: str, default: int) -> int:
    value = (request.query.get(name) or [str(default)])[0]
    return int(value) if value.isdigit() else default


def _posts(request: Recorded, match) -> Reply:
    refused = _versioned(request)
    if refused:
        return refused
    start, count = _int(request, "start", 0), _int(request, "count", 10)
    return Reply(
        200,
        {
            "elements": POSTS[start : start + count],
            "paging": {"start": start, "count": count, "total": len(POSTS)},
        },
    )


def _comments(request: Recorded, match) -> Reply:
    refused = _versioned(request)
    if refused:
        return refused
    found = COMMENTS.get(unquote(match.group("target")), [])
    start, count = _int(request, "start", 0), _int(request, "count", 10)
    return Reply(
        200,
        {
            "elements": found[start : start + count],
            "paging": {"start": start, "count": count, "total": len(found)},
        },
    )


def install(server: FakePlatformServer) -> None:
    POSTS.clear()
    COMMENTS.clear()
    server.route("GET", r"^/linkedin/rest/posts$", _posts)
    server.route("GET", r"^/linkedin/rest/socialActions/(?P<target>[^/]+)/comments$", _comments)
    server.route("POST", r"^/linkedin/rest/socialActions/(?P<target>[^/]+)/comments$", _comment)
    server.route("GET", r"^/linkedin/rest/organizations/(?P<id>\d+)$", _organization)
