"""The one webhook entrance, ``inbox.webhooks.receive``, called directly (no HttpRequest) for
every platform — handshake, signed POST, bad signature — and the ways in that depend on it: the
settings area's test event, and a handshake on the embedded default (no task broker)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.linkedin.connector import SIGNATURE_HEADER as LI_HEADER
from connectors.linkedin.connector import SIGNATURE_PREFIX as LI_PREFIX
from connectors.meta.webhook import SIGNATURE_HEADER as META_HEADER
from connectors.meta.webhook import sign as meta_sign
from connectors.sandbox.connector import SIGNATURE_HEADER as SANDBOX_HEADER
from connectors.sandbox.connector import sign as sandbox_sign
from connectors.webhooks import hmac_sha256
from connectors.x.connector import SIGNATURE_HEADER as X_HEADER
from inbox.models import Message, WebhookEvent
from inbox.settings_area.accounts import send_test_event
from inbox.settings_area.models import WebhookHandshake
from inbox.webhooks import receive
from tests.factories import AccountFactory
from tests.helpers import committed, sandbox_body

pytestmark = pytest.mark.django_db

SECRET = "app-secret"
LI_ORG = "urn:li:organization:96072893"
CHALLENGE_CODE = "890e4665-4dfe-4ab1-b689-ed553bceeed0"
FIXTURES = Path(__file__).resolve().parent.parent / "connectors"


@dataclass(frozen=True)
class Case:
    """One platform as the entrance sees it: its handshake and a body it signs."""

    handshake: dict[str, str] | None  # None: the platform has no handshake
    handshake_answer: str
    body: bytes
    signature_header: str
    sign: object  # (secret, body) -> header value


def _meta_body(page_id: str) -> bytes:
    event = {
        "sender": {"id": "psid-1"},
        "recipient": {"id": page_id},
        "timestamp": 1767225600000,
        "message": {"mid": "m_entrance_1", "text": "Hello from Meta"},
    }
    return json.dumps(
        {"object": "page", "entry": [{"id": page_id, "time": 1767225600000, "messaging": [event]}]}
    ).encode()


def _x_body(user_id: str) -> bytes:
    return json.dumps(
        {
            "for_user_id": user_id,
            "direct_message_events": [
                {
                    "type": "message_create",
                    "id": "1879234567890000001",
                    "created_timestamp": "1767262542000",
                    "message_create": {
                        "target": {"recipient_id": user_id},
                        "sender_id": "2244994945",
                        "message_data": {"text": "Hello from X"},
                    },
                }
            ],
        }
    ).encode()


def _li_body() -> bytes:
    return (FIXTURES / "linkedin/fixtures/linkedin_org_social_action_comment.json").read_bytes()


CASES = {
    "sandbox": Case(None, "", sandbox_body(text="Hello from the sandbox"), SANDBOX_HEADER, None),
    "meta": Case(
        {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"},
        "1158201444",
        _meta_body("1000001"),
        META_HEADER,
        meta_sign,
    ),
    "x": Case(
        {"crc_token": "challenge_string_9f86d081884c7d65"},
        json.dumps(
            {
                "response_token": "sha256="
                + hmac_sha256(SECRET, b"challenge_string_9f86d081884c7d65", encoding="base64")
            }
        ),
        _x_body("1366009876543210496"),
        X_HEADER,
        lambda secret, body: "sha256=" + hmac_sha256(secret, body, encoding="base64"),
    ),
    "linkedin": Case(
        {"challengeCode": CHALLENGE_CODE},
        json.dumps(
            {
                "challengeCode": CHALLENGE_CODE,
                "challengeResponse": hmac_sha256(SECRET, CHALLENGE_CODE.encode()),
            }
        ),
        _li_body(),
        LI_HEADER,
        lambda secret, body: hmac_sha256(secret, LI_PREFIX.encode() + body),
    ),
}


@pytest.fixture
def accounts(settings, account):
    settings.META_APP_SECRET = SECRET
    settings.META_VERIFY_TOKEN = "verify-me"
    settings.X_CONSUMER_SECRET = SECRET
    settings.LINKEDIN_CLIENT_SECRET = SECRET
    return {
        "sandbox": account,
        "meta": AccountFactory(platform="messenger", external_id="1000001"),
        "x": AccountFactory(platform="x", external_id="1366009876543210496"),
        "linkedin": AccountFactory(platform="linkedin", external_id=LI_ORG),
    }


def _signed(platform: str, body: bytes, secret: str) -> dict[str, str]:
    case = CASES[platform]
    sign = sandbox_sign if platform == "sandbox" else case.sign
    return {case.signature_header: sign(secret, body), "Content-Type": "application/json"}


def _secret(platform: str, accounts) -> str:
    return accounts["sandbox"].credentials["secret"] if platform == "sandbox" else SECRET


def _account_id(platform: str, accounts) -> int | None:
    return accounts["sandbox"].pk if platform == "sandbox" else None


@pytest.mark.parametrize("platform", list(CASES))
def test_a_handshake_is_answered_as_the_platform_expects(platform, accounts):
    case = CASES[platform]

    answer = receive(platform, {}, method="GET", query=case.handshake or {})

    if case.handshake is None:
        assert answer.status == 405
        return
    assert answer.status == 200
    assert answer.body == case.handshake_answer
    assert answer.content_type == ("text/plain" if platform == "meta" else "application/json")


@pytest.mark.parametrize("platform", list(CASES))
def test_a_signed_post_is_archived_for_its_account_and_ingested(platform, accounts):
    case = CASES[platform]
    headers = _signed(platform, case.body, _secret(platform, accounts))

    with committed():
        answer = receive(platform, headers, case.body, account_id=_account_id(platform, accounts))

    assert (answer.status, answer.body) == (200, "ok")
    archived = WebhookEvent.objects.get(pk=answer.archived_id)
    assert archived.signature_valid is True
    assert archived.account == accounts[platform]
    assert bytes(archived.body) == case.body
    assert archived.outcome == WebhookEvent.Outcome.PROCESSED, archived.error


@pytest.mark.parametrize("platform", list(CASES))
def test_a_bad_signature_is_403_and_kept_as_rejected(platform, accounts):
    case = CASES[platform]
    headers = _signed(platform, case.body, "not-the-secret")

    answer = receive(platform, headers, case.body, account_id=_account_id(platform, accounts))

    assert answer.status == 403
    assert answer.archived_id is None
    archived = WebhookEvent.objects.get()
    assert archived.signature_valid is False
    assert archived.outcome == WebhookEvent.Outcome.REJECTED
    assert not Message.objects.exists()


def test_header_names_match_in_any_case(accounts):
    body = sandbox_body()
    signature = sandbox_sign(accounts["sandbox"].credentials["secret"], body)

    answer = receive(
        "sandbox", {SANDBOX_HEADER.lower(): signature}, body, account_id=accounts["sandbox"].pk
    )

    assert answer.status == 200


def test_an_unknown_endpoint_is_404_and_a_rejected_rate_is_429(accounts, settings):
    assert receive("myspace", {}, b"{}").status == 404
    settings.WEBHOOK_REJECTED_RATE = "1/m"
    body = sandbox_body()
    answers = [
        receive("sandbox", {}, body, account_id=accounts["sandbox"].pk, remote_addr="192.0.2.1")
        for _ in range(2)
    ]
    assert [a.status for a in answers] == [403, 429]
    assert int(answers[1].headers["Retry-After"]) >= 1


# --- The settings area's test event -------------------------------------------------------------


@pytest.mark.parametrize("platform", ["sandbox", "meta", "x"])
def test_the_test_event_is_archived_like_the_same_delivery_over_http(
    platform, accounts, admin_user, client, fake_platforms
):
    account = accounts[platform]
    with committed():
        sent = send_test_event(actor=admin_user, account=account, text="Test event hello")
    path = f"/webhooks/sandbox/{account.pk}/" if platform == "sandbox" else f"/webhooks/{platform}/"
    with committed():
        response = client.post(
            path, data=bytes(sent.body), content_type="application/json", headers=sent.headers
        )
    assert response.status_code == 200
    real = WebhookEvent.objects.exclude(pk=sent.pk).get()

    sent.refresh_from_db()
    fields = ("source", "account_id", "signature_valid", "signed_for", "outcome", "body_size")
    assert {f: getattr(sent, f) for f in fields} == {f: getattr(real, f) for f in fields}
    assert sent.outcome == WebhookEvent.Outcome.PROCESSED, sent.error
    assert sent.headers == real.headers
    assert sent.headers["user-agent"] == "Parley settings test event"
    # One message: the HTTP copy is the platform's redelivery of the same event.
    assert Message.objects.get().text == "Test event hello"


# --- Handshakes on the embedded default -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("platform", ["meta", "x", "linkedin"])
def test_a_handshake_without_a_task_broker_is_recorded(platform, accounts, client):
    """The embedded default runs tasks in-process (no broker, as in these tests): the
    entrance records the handshake itself once the request commits."""
    from parley.celery import app

    assert app.conf.task_always_eager
    response = client.get(f"/webhooks/{platform}/", CASES[platform].handshake)

    assert response.status_code == 200
    seen = WebhookHandshake.objects.get()
    assert (seen.platform, seen.count, seen.account) == (platform, 1, None)
