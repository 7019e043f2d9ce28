"""The Meta system checks and the fixture-replay command."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from connectors.meta.checks import meta_settings
from inbox.models import Message
from tests.connectors.meta.conftest import FIXTURES
from tests.factories import AccountFactory
from tests.helpers import wait_for

pytestmark = pytest.mark.django_db


def test_no_warning_without_meta_accounts(settings):
    settings.META_APP_SECRET = ""
    assert meta_settings(None) == []


def test_warns_when_accounts_cannot_verify_or_send(settings, messenger_account):
    settings.META_APP_SECRET = ""
    settings.META_VERIFY_TOKEN = ""
    AccountFactory(platform="instagram", external_id="17", credentials={})

    ids = {warning.id for warning in meta_settings(None)}

    assert ids == {"parley.meta.W001", "parley.meta.W002", "parley.meta.W003"}


def test_configured_accounts_pass(messenger_account):
    assert meta_settings(None) == []


@pytest.mark.live
def test_send_meta_fixture_posts_a_signed_fixture(live_server_process, celery_worker_process):
    AccountFactory(
        platform="messenger",
        external_id="106917238123456",
        credentials={"page_access_token": "t", "app_secret": "replay-secret"},
    )

    call_command(
        "send_webhook_fixture",
        "meta",
        live_server_process.url,
        str(FIXTURES / "messenger_text.json"),
        "--secret",
        "replay-secret",
    )

    wait_for(lambda: Message.objects.filter(text="Hi, has order #4521 shipped yet?").exists())
