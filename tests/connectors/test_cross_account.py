"""One account's own secret speaks only for that account: a body it signs that also names
another account applies nothing to the other one. An app-wide secret (settings) speaks for all."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from connectors import webhooks
from connectors.meta.webhook import sign as meta_sign
from inbox.models import Message, PlatformAccount, WebhookEvent
from tests.factories import AccountFactory
from tests.helpers import committed

pytestmark = pytest.mark.django_db

CONNECTORS_TESTS = Path(__file__).parent
PAGE_A, PAGE_B = "106917238123456", "106917238999999"
X_A, X_B = "1366009876543210496", "1366009876500000001"
ORG_A, ORG_B = "urn:li:organization:96072893", "urn:li:organization:11111111"


def _post(client, path: str, body: bytes, headers: dict[str, str]):
    with committed():
        return client.post(path, data=body, content_type="application/json", headers=headers)


def _texts() -> dict[str, list[str]]:
    """Stored messages per account external id."""
    found: dict[str, list[str]] = {}
    for external_id, text in Message.objects.values_list("account__external_id", "text"):
        found.setdefault(external_id, []).append(text)
    return found


# --- Meta -------------------------------------------------------------------------------------


def _meta_body() -> bytes:
    entry = {
        "time": 1767225601234,
        "messaging": [
            {
                "sender": {"id": "6912345678901234"},
                "timestamp": 1767225600987,
                "message": {"mid": "m_a", "text": "For page A"},
            }
        ],
    }
    entry_b = copy.deepcopy(entry)
    entry["id"] = PAGE_A
    entry["messaging"][0]["recipient"] = {"id": PAGE_A}
    entry_b["id"] = PAGE_B
    entry_b["messaging"][0]["recipient"] = {"id": PAGE_B}
    entry_b["messaging"][0]["message"] = {"mid": "m_b", "text": "Forged for page B"}
    return json.dumps({"object": "page", "entry": [entry, entry_b]}).encode()


@pytest.fixture
def meta_pages(team, settings, fake_platforms):
    settings.META_APP_SECRET = ""
    pages = [
        AccountFactory(
            platform="messenger",
            external_id=page,
            credentials={"page_access_token": "EAAG", "app_secret": f"secret-{page}"},
        )
        for page in (PAGE_A, PAGE_B)
    ]
    team.accounts.add(*pages)
    return pages


def test_meta_page_secret_does_not_apply_another_pages_entry(client, meta_pages):
    body = _meta_body()

    response = _post(
        client,
        "/webhooks/meta/",
        body,
        {"X-Hub-Signature-256": meta_sign(f"secret-{PAGE_A}", body)},
    )

    assert response.status_code == 200
    assert _texts() == {PAGE_A: ["For page A"]}
    archived = WebhookEvent.objects.get()
    assert archived.outcome == WebhookEvent.Outcome.PROCESSED
    assert f"events for {PAGE_B} dropped" in archived.error


def test_meta_app_wide_secret_applies_every_entry(client, meta_pages, settings):
    settings.META_APP_SECRET = "the-app-secret"
    body = _meta_body()

    _post(
        client, "/webhooks/meta/", body, {"X-Hub-Signature-256": meta_sign("the-app-secret", body)}
    )

    assert _texts() == {PAGE_A: ["For page A"], PAGE_B: ["Forged for page B"]}


def test_meta_pages_sharing_one_app_secret_are_both_applied(client, meta_pages):
    for page in meta_pages:
        page.credentials = {**page.credentials, "app_secret": "shared-app-secret"}
        page.save()
    body = _meta_body()

    _post(
        client,
        "/webhooks/meta/",
        body,
        {"X-Hub-Signature-256": meta_sign("shared-app-secret", body)},
    )

    assert set(_texts()) == {PAGE_A, PAGE_B}


# --- X ----------------------------------------------------------------------------------------


def _x_sign(body: bytes, secret: str) -> dict[str, str]:
    return {
        "x-twitter-webhooks-signature": "sha256="
        + webhooks.hmac_sha256(secret, body, encoding="base64")
    }


def _x_dm(account_id: str, event_id: str, text: str) -> dict:
    return {
        "direct_message_events": [
            {
                "type": "message_create",
                "id": event_id,
                "created_timestamp": "1767262542000",
                "message_create": {
                    "target": {"recipient_id": account_id},
                    "sender_id": "1489123456789012480",
                    "message_data": {"text": text},
                },
            }
        ]
    }


@pytest.fixture
def x_accounts(team, settings):
    settings.X_CONSUMER_SECRET = ""
    accounts = [
        AccountFactory(
            platform="x",
            external_id=user,
            credentials={"access_token": "x-token", "consumer_secret": f"secret-{user}"},
            options={"mode": "webhook"},
        )
        for user in (X_A, X_B)
    ]
    team.accounts.add(*accounts)
    return accounts


def test_x_revoke_of_another_account_signed_with_my_secret_is_dropped(client, x_accounts):
    body = json.dumps(
        {"for_user_id": X_A, "user_event": {"revoke": {"source": {"user_id": X_B}}}}
    ).encode()

    response = _post(client, "/webhooks/x/", body, _x_sign(body, f"secret-{X_A}"))

    assert response.status_code == 200
    statuses = dict(PlatformAccount.objects.values_list("external_id", "status"))
    assert statuses == {X_A: "connected", X_B: "connected"}
    assert "dropped" in WebhookEvent.objects.get().error


def test_x_activity_event_for_another_account_signed_with_my_secret_is_dropped(client, x_accounts):
    body = json.dumps(
        {
            "for_user_id": X_A,
            "data": {
                "event_type": "dm.received",
                "filter": {"user_id": X_B},
                "payload": _x_dm(X_B, "1879234567890100001", "Forged for B"),
            },
        }
    ).encode()

    _post(client, "/webhooks/x/", body, _x_sign(body, f"secret-{X_A}"))

    assert _texts() == {}


def test_x_events_signed_by_their_own_account_are_applied(client, x_accounts):
    dm = json.dumps({"for_user_id": X_A, **_x_dm(X_A, "1879234567890100002", "Hi A")}).encode()
    activity = json.dumps(
        {
            "data": {
                "event_type": "dm.received",
                "filter": {"user_id": X_B},
                "payload": _x_dm(X_B, "1879234567890100003", "Hi B"),
            }
        }
    ).encode()
    revoke = json.dumps({"user_event": {"revoke": {"source": {"user_id": X_B}}}}).encode()

    for body, user in ((dm, X_A), (activity, X_B), (revoke, X_B)):
        assert (
            _post(client, "/webhooks/x/", body, _x_sign(body, f"secret-{user}")).status_code == 200
        )

    assert _texts() == {X_A: ["Hi A"], X_B: ["Hi B"]}
    assert PlatformAccount.objects.get(external_id=X_B).status == "disconnected"


# --- LinkedIn ---------------------------------------------------------------------------------


def _li_body() -> bytes:
    fixture = CONNECTORS_TESTS / "linkedin/fixtures/linkedin_org_social_action_comment.json"
    data = json.loads(fixture.read_text())
    mine = data["notifications"][0]
    other = copy.deepcopy(mine)
    other.update(notificationId=777, organizationalEntity=ORG_B)
    other["decoratedGeneratedActivity"]["comment"]["text"] = "Forged for B"
    other["generatedActivity"] = other["decoratedGeneratedActivity"]["comment"]["entity"] = (
        "urn:li:comment:(urn:li:activity:1,2)"
    )
    data["notifications"] = [mine, other]
    return json.dumps(data).encode()


@pytest.fixture
def li_orgs(team, settings):
    settings.LINKEDIN_CLIENT_SECRET = ""
    orgs = [
        AccountFactory(
            platform="linkedin",
            external_id=org,
            credentials={"access_token": "li-token", "client_secret": f"secret-{org}"},
        )
        for org in (ORG_A, ORG_B)
    ]
    team.accounts.add(*orgs)
    return orgs


def _li_sign(body: bytes, secret: str) -> dict[str, str]:
    return {"X-LI-Signature": webhooks.hmac_sha256(secret, b"hmacsha256=" + body)}


def test_linkedin_notification_of_another_org_is_dropped(client, li_orgs):
    body = _li_body()

    response = _post(client, "/webhooks/linkedin/", body, _li_sign(body, f"secret-{ORG_A}"))

    assert response.status_code == 200
    assert _texts() == {ORG_A: ["Do you ship to the UK?"]}


def test_linkedin_app_wide_secret_applies_every_notification(client, li_orgs, settings):
    settings.LINKEDIN_CLIENT_SECRET = "the-client-secret"
    body = _li_body()

    _post(client, "/webhooks/linkedin/", body, _li_sign(body, "the-client-secret"))

    assert _texts() == {ORG_A: ["Do you ship to the UK?"], ORG_B: ["Forged for B"]}
