"""A real webhook receiver on 127.0.0.1 that checks Parley's signature as a subscriber would,
and a subscription to it."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from tests.fakes.server import FakePlatformServer, Recorded, Reply
from tests.helpers import token_client


class Receiver(FakePlatformServer):
    """Answers 200 to a POST whose ``X-Parley-Signature`` matches its secret, 401 otherwise
    (unless a test scripted another answer first)."""

    secret = ""

    def __init__(self) -> None:
        super().__init__()
        self.route("POST", r"^/hook", self._check)

    def verified(self, request: Recorded) -> bool:
        expected = (
            "sha256=" + hmac.new(self.secret.encode(), request.body, hashlib.sha256).hexdigest()
        )
        return hmac.compare_digest(request.headers.get("x-parley-signature", ""), expected)

    def _check(self, request: Recorded, match) -> Reply:
        if not self.verified(request):
            return Reply(401, {"error": "bad signature"})
        return Reply(200, raw=b"thanks", content_type="text/plain")

    def posts(self) -> list[Recorded]:
        return self.sent("POST", r"^/hook")

    def bodies(self) -> list[dict]:
        return [json.loads(r.body) for r in self.posts()]


@pytest.fixture(scope="session")
def _receiver_session():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def receiver(_receiver_session, fake_platforms_session) -> Receiver:
    _receiver_session.reset()
    return _receiver_session


@pytest.fixture
def subscribe(admin_user, receiver):
    """Subscribe the receiver to events through the API; the receiver learns the secret."""

    def make(*events: str, path: str = "/hook"):
        response = token_client(admin_user).post(
            "/api/v1/webhooks/",
            {"url": f"{receiver.url}{path}", "events": list(events)},
            format="json",
        )
        assert response.status_code == 201, response.content
        receiver.secret = response.json()["secret"]
        return response.json()

    return make
