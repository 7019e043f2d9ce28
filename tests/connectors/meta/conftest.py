"""Meta test fixtures: a Page and an Instagram account with the fixtures' ids, the app secret
of ``signature_vectors.json``, and a helper that POSTs a signed body through the real view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.meta.webhook import SIGNATURE_HEADER, sign
from tests.factories import AccountFactory
from tests.fakes.meta import IG_ID, PAGE_ID

FIXTURES = Path(__file__).resolve().parent / "fixtures"
VECTORS = json.loads((FIXTURES / "signature_vectors.json").read_bytes())
APP_SECRET = VECTORS["meta"][0]["app_secret"]
PSID = "6912345678901234"
IGSID = "1029384756102938"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(autouse=True)
def meta_settings(settings):
    settings.META_APP_SECRET = APP_SECRET
    settings.META_VERIFY_TOKEN = VECTORS["meta_handshake"]["configured_verify_token"]


@pytest.fixture
def messenger_account(team, fake_platforms):
    account = AccountFactory(
        platform="messenger",
        external_id=PAGE_ID,
        name="Acme Mugs",
        credentials={"page_access_token": "EAAG-page-token"},
    )
    team.accounts.add(account)
    return account


@pytest.fixture
def instagram_account(team, fake_platforms):
    account = AccountFactory(
        platform="instagram",
        external_id=IG_ID,
        name="examplemugs",
        credentials={"access_token": "IGQ-token"},
    )
    team.accounts.add(account)
    return account


@pytest.fixture
def post_meta(client, django_capture_on_commit_callbacks):
    """POST a body to /webhooks/meta/ signed with ``secret`` (the app secret by default), and
    run what the commit schedules (ingest, then its own side effects)."""

    def post(body: bytes | str, *, secret: str | None = APP_SECRET, signature: str | None = None):
        if isinstance(body, str):
            body = fixture_bytes(body)
        headers = {}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        elif secret is not None:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/webhooks/meta/", data=body, content_type="application/json", headers=headers
            )

    return post
