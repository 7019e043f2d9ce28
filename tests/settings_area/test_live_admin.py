"""The admin workspace on the real stack: uvicorn, a Celery worker, channels-redis, Chromium,
and the local OAuth provider."""

from __future__ import annotations

import pytest
import requests

from inbox.models import Message, PlatformAccount, User
from inbox.settings_area import people
from inbox.settings_area.models import WebhookHandshake
from tests.factories import PASSWORD, ConversationFactory
from tests.fakes import meta as meta_fake
from tests.fakes import oauth as oauth_fake
from tests.helpers import run_async, wait_for
from tests.test_live_stack import _receive, session_cookie

pytestmark = pytest.mark.live


def login(context, url: str, user) -> object:
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#live-status")
    return page


@pytest.mark.browser
def test_admin_connects_messenger_through_oauth_and_sees_a_test_event_in_the_inbox(
    live_server_process, celery_worker_process, chromium, fake_platforms, admin_user, agent, team
):
    url = live_server_process.url
    context = chromium.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = login(context, url, admin_user)

    page.click("text=Settings")
    page.click("text=Connect an account")
    page.click("#oauth-facebook")  # → the provider's consent → back to Parley
    page.wait_for_selector("#choose-form")
    assert meta_fake.PAGE_NAME in page.inner_text("#choose-form")
    page.check(f"input[name=teams][value='{team.pk}']")
    page.click("#choose-submit")
    page.wait_for_selector("#webhook-setup")

    account = PlatformAccount.objects.get(platform="messenger", external_id=meta_fake.PAGE_ID)
    assert account.credentials["page_access_token"] not in page.content()
    assert PlatformAccount.objects.filter(platform="instagram").exists()

    page.click("#webhook-setup [data-copy='#callback-url']")
    assert page.evaluate("navigator.clipboard.readText()") == f"{url}/webhooks/meta/"
    page.click("#webhook-setup [data-copy='#verify-token']")
    assert page.evaluate("navigator.clipboard.readText()") == oauth_fake.META_VERIFY_TOKEN

    page.click("#send-test-event")
    page.wait_for_selector(".flash-success")
    page.screenshot(path="test-artifacts/settings-account.png", full_page=True)
    message = wait_for(lambda: Message.objects.filter(account=account).first(), timeout=15)
    assert message.text.startswith("Test event from Parley settings")

    # A test event is marked as one: the account page links to the test conversations, which
    # agents' lists leave out unless asked for.
    page.click("#test-conversations")
    page.locator("#conversation-rows", has_text="Test event from Parley settings").wait_for(
        timeout=10_000
    )
    page.goto(f"{url}/settings/accounts/")
    page.screenshot(path="test-artifacts/settings-accounts.png", full_page=True)
    agent_page = login(chromium.new_context(), url, agent)
    assert "Test event" not in agent_page.inner_text("#conversation-rows")
    agent_page.goto(f"{url}/?tests=1")
    agent_page.locator("#conversation-rows", has_text="Test event").wait_for(timeout=10_000)
    # The settings area refuses the agent.
    assert agent_page.goto(f"{url}/settings/accounts/").status == 403
    assert agent_page.goto(f"{url}/api/v1/settings/accounts/").status == 403
    context.close()


def test_removing_an_agent_from_a_team_closes_their_socket_and_hides_conversations(
    live_server_process, celery_worker_process, admin_user, agent, team, account
):
    url = live_server_process.url
    conversation = ConversationFactory(account=account)
    cookie = session_cookie(agent)

    def remove_from_team():
        people.update_team(
            actor=admin_user, team=team, name=team.name, members=[], accounts=[account]
        )

    events = run_async(_receive(url, cookie, remove_from_team, 5))
    assert {"closed": 4403} in events
    response = requests.get(
        f"{url}/conversations/{conversation.pk}/", cookies={"sessionid": cookie}, timeout=5
    )
    assert response.status_code == 404


def test_deactivated_user_is_disconnected_and_signed_out(
    live_server_process, celery_worker_process, admin_user, agent, account
):
    url = live_server_process.url
    cookie = session_cookie(agent)

    def deactivate():
        people.set_active(actor=admin_user, user=agent, active=False)

    events = run_async(_receive(url, cookie, deactivate, 5))
    assert {"closed": 4403} in events
    response = requests.get(
        f"{url}/", cookies={"sessionid": cookie}, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert not User.objects.get(pk=agent.pk).is_active


def test_x_crc_handshake_is_recorded_by_the_worker(
    live_server_process, celery_worker_process, admin_user
):
    from tests.factories import AccountFactory

    account = AccountFactory(
        platform="x", external_id="1366009876543210496", credentials={"consumer_secret": "cs"}
    )
    response = requests.get(
        f"{live_server_process.url}/webhooks/x/", params={"crc_token": "abc"}, timeout=5
    )
    assert response.status_code == 200 and "response_token" in response.json()
    seen = wait_for(lambda: WebhookHandshake.objects.filter(platform="x").first(), timeout=20)
    assert seen.count == 1 and seen.account is None

    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/settings/accounts/{account.pk}/").content.decode()
    assert "Handshake seen 1 time(s)" in page
