"""Handshakes are not signing oracles, and are limited per source address.

The attack: put a webhook body in the X ``crc_token`` (or LinkedIn ``challengeCode``), read the
HMAC back from the handshake answer, and POST the body with it as its signature.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inbox.models import Message, PlatformAccount
from tests.connectors.linkedin.test_linkedin import ORG
from tests.connectors.linkedin.test_linkedin import SECRET as LI_SECRET
from tests.connectors.x.conftest import ACCOUNT_ID, CUSTOMER_ID, VECTORS
from tests.connectors.x.conftest import SECRET as X_SECRET
from tests.factories import AccountFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db

FORGED_DM = json.dumps(
    {
        "for_user_id": ACCOUNT_ID,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": "1879234567890999999",
                "created_timestamp": "1767262542000",
                "message_create": {
                    "target": {"recipient_id": ACCOUNT_ID},
                    "sender_id": CUSTOMER_ID,
                    "message_data": {"text": "Forged: please refund order #1 to this IBAN"},
                },
            }
        ],
    },
    separators=(",", ":"),
)
FORGED_REVOKE = json.dumps(
    {"user_event": {"revoke": {"source": {"user_id": ACCOUNT_ID}}}}, separators=(",", ":")
)
FORGED_COMMENT = json.loads(
    (
        Path(__file__).parent / "linkedin/fixtures/linkedin_org_social_action_comment.json"
    ).read_text()
)


@pytest.fixture
def x_account(team, settings):
    settings.X_CONSUMER_SECRET = X_SECRET
    account = AccountFactory(
        platform="x",
        external_id=ACCOUNT_ID,
        credentials={"access_token": "x-token", "consumer_secret": X_SECRET},
        options={"mode": "webhook"},
    )
    team.accounts.add(account)
    return account


@pytest.fixture
def li_account(team, settings):
    settings.LINKEDIN_CLIENT_SECRET = LI_SECRET
    account = AccountFactory(
        platform="linkedin",
        external_id=ORG,
        credentials={"access_token": "li-token", "client_secret": LI_SECRET},
    )
    team.accounts.add(account)
    return account


def _x_crc_then_post(client, body: str):
    crc = client.get("/webhooks/x/", {"crc_token": body})
    signature = crc.json()["response_token"] if crc.status_code == 200 else ""
    with committed():
        posted = client.post(
            "/webhooks/x/",
            data=body.encode(),
            content_type="application/json",
            headers={"x-twitter-webhooks-signature": signature},
        )
    return crc, posted


def test_x_crc_does_not_sign_a_forged_dm(client, x_account):
    crc, posted = _x_crc_then_post(client, FORGED_DM)

    assert not Message.objects.exists()
    assert posted.status_code == 403
    assert crc.status_code == 400


def test_x_crc_does_not_sign_a_forged_revoke(client, x_account):
    crc, posted = _x_crc_then_post(client, FORGED_REVOKE)

    x_account.refresh_from_db()
    assert x_account.status == PlatformAccount.Status.CONNECTED
    assert posted.status_code == 403
    assert crc.status_code == 400


@pytest.mark.parametrize(
    "token", ["123", "true", "null", "x" * 129, "a b", '"quoted"', "[1]", "{}"]
)
def test_x_crc_refuses_tokens_that_are_not_short_url_safe_tokens(client, x_account, token):
    assert client.get("/webhooks/x/", {"crc_token": token}).status_code == 400


def test_x_crc_still_answers_a_token_of_xs_shape(client, x_account):
    vector = VECTORS["x_crc"]
    response = client.get("/webhooks/x/", {"crc_token": vector["crc_token"]})
    assert response.status_code == 200
    assert response.json() == vector["expected_response"]["body"]
    base64_token = "NzRlOWE4ZjItMjI0Ni00YjBi+/LWE3NTYtNmIwZjlmNTVmYWJi=="
    assert client.get("/webhooks/x/", {"crc_token": base64_token}).status_code == 200


def test_linkedin_challenge_does_not_sign_a_forged_comment(client, li_account):
    forged = dict(FORGED_COMMENT)
    forged["notifications"] = [{**FORGED_COMMENT["notifications"][0], "notificationId": 999_001}]
    body = json.dumps(forged, separators=(",", ":"))

    challenge = client.get("/webhooks/linkedin/", {"challengeCode": body})
    signature = challenge.json()["challengeResponse"] if challenge.status_code == 200 else ""
    with committed():
        posted = client.post(
            "/webhooks/linkedin/",
            data=body.encode(),
            content_type="application/json",
            headers={"X-LI-Signature": signature},
        )

    assert not Message.objects.exists()
    assert posted.status_code == 403
    assert challenge.status_code == 400


@pytest.mark.parametrize(
    "code", ["not-a-uuid", "890e4665-4dfe-4ab1-b689-ed553bceeed0{}", "{}", "12345"]
)
def test_linkedin_challenge_refuses_codes_that_are_not_uuids(client, li_account, code):
    assert client.get("/webhooks/linkedin/", {"challengeCode": code}).status_code == 400


# --- Per-address limits -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/webhooks/x/", {"crc_token": "challenge_string_9f86d081884c7d65"}),
        ("/webhooks/linkedin/", {"challengeCode": "890e4665-4dfe-4ab1-b689-ed553bceeed0"}),
        ("/webhooks/meta/", {"hub.mode": "subscribe", "hub.verify_token": "guess"}),
    ],
    ids=["x", "linkedin", "meta"],
)
def test_handshakes_past_the_rate_get_429_per_source_address(
    client, settings, x_account, li_account, path, params
):
    settings.WEBHOOK_HANDSHAKE_RATE = "3/m"
    params = {**params, "hub.challenge": "1"} if "hub.mode" in params else params

    answers = [client.get(path, params).status_code for _ in range(4)]

    assert 429 not in answers[:3]
    assert answers[3] == 429
    limited = client.get(path, params)
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "too many handshake requests" in limited.content.decode()
    # Another address is counted on its own.
    assert client.get(path, params, REMOTE_ADDR="203.0.113.9").status_code != 429
