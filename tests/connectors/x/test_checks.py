"""System checks for misconfigured X and LinkedIn accounts."""

import pytest

from connectors.linkedin.checks import linkedin_settings
from connectors.x.checks import x_settings
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def ids(warnings) -> set[str]:
    return {w.id for w in warnings}


def test_x_account_that_cannot_verify_webhooks_or_send_is_warned_about(settings):
    settings.X_CONSUMER_SECRET = ""
    AccountFactory(platform="x", external_id="1", credentials={})

    assert ids(x_settings(None)) == {"parley.x.W001", "parley.x.W003"}


def test_x_accounts_of_different_apps_need_the_crc_secret(settings):
    settings.X_CONSUMER_SECRET = ""
    for n, secret in enumerate(("a", "b")):
        AccountFactory(
            platform="x",
            external_id=str(n),
            credentials={"access_token": "t", "consumer_secret": secret},
        )
    assert ids(x_settings(None)) == {"parley.x.W002"}
    settings.X_CONSUMER_SECRET = "a"
    assert x_settings(None) == []


def test_a_polling_x_account_needs_no_webhook_secret(settings):
    settings.X_CONSUMER_SECRET = ""
    AccountFactory(
        platform="x",
        external_id="1",
        credentials={"access_token": "t"},
        options={"mode": "polling"},
    )
    assert x_settings(None) == []


def test_linkedin_organisation_without_secret_or_token_is_warned_about(settings):
    settings.LINKEDIN_CLIENT_SECRET = ""
    AccountFactory(platform="linkedin", external_id="urn:li:organization:1", credentials={})

    assert ids(linkedin_settings(None)) == {"parley.linkedin.W001", "parley.linkedin.W002"}
    settings.LINKEDIN_CLIENT_SECRET = "s"
    assert ids(linkedin_settings(None)) == {"parley.linkedin.W002"}
