"""X test set-up: the account of the fixtures, signed webhook posts, the fake X API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors import webhooks
from tests.factories import AccountFactory
from tests.fakes import x as fake_x
from tests.helpers import committed

FIXTURES = Path(__file__).parent / "fixtures"
VECTORS = json.loads((FIXTURES / "signature_vectors.json").read_bytes())
SECRET = VECTORS["x"][0]["consumer_secret"]
ACCOUNT_ID = fake_x.ACCOUNT_ID
CUSTOMER_ID = "1489123456789012480"


def fixture_bytes(name: str) -> bytes:
    """A fixture's exact bytes (signature vectors are computed over them)."""
    return (FIXTURES / name).read_bytes()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + webhooks.hmac_sha256(secret, body, encoding="base64")


def post_x(client, body: bytes, *, signature: str | None = None):
    with committed():
        return client.post(
            "/webhooks/x/",
            data=body,
            content_type="application/json",
            headers={"x-twitter-webhooks-signature": signature or sign(body)},
        )


@pytest.fixture(autouse=True)
def x_settings(settings):
    settings.X_CONSUMER_SECRET = ""


@pytest.fixture
def x_account(team):
    account = AccountFactory(
        platform="x",
        name="Example Mugs Support",
        external_id=ACCOUNT_ID,
        credentials={"access_token": "x-token", "consumer_secret": SECRET},
        options={"mode": "webhook"},
    )
    team.accounts.add(account)
    return account


@pytest.fixture
def x_api(fake_platforms):
    """The fake X API with a fresh DM list and rate-limit window."""
    fake_x.STATE.reset()
    yield fake_platforms
    fake_x.STATE.reset()
