"""Honest account health (issue 19): a failed check shows as the account's state and in the
banner; OAuth buttons that cannot work say why on the page; a new account's form promises
nothing about stored values; test events are tests — out of agents' queues, no SLA clock, no
bot reply, not the account's last event."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from chatbot import engine
from chatbot.models import BotReply, BotSettings, Rule
from inbox import assignment
from inbox.models import Conversation, Message, PlatformAccount, WebhookEvent
from inbox.settings_area import health
from inbox.settings_area.accounts import check_connection
from sla.models import SlaPolicy
from tests.factories import AccountFactory
from tests.fakes import meta as meta_fake
from tests.fakes.server import Reply
from tests.helpers import post_sandbox, sandbox_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def messenger(team):
    account = AccountFactory(
        platform="messenger",
        external_id=meta_fake.PAGE_ID,
        name=meta_fake.PAGE_NAME,
        credentials={"page_access_token": "fake-token"},
    )
    team.accounts.add(account)
    return account


def banner(client) -> str:
    cache.clear()  # the banner keeps its reads for a few seconds
    return client.get(reverse("inbox:list")).content.decode()


def test_a_failed_check_marks_the_account_and_the_banner_shows_it(
    client, admin_user, messenger, fake_platforms
):
    # Not a token error the platform names (a 500): before, the account stayed "Connected,
    # problem: none".
    fake_platforms.script("GET", r"/meta/.*/me$", Reply(500, {"error": {"message": "boom"}}))
    client.force_login(admin_user)
    client.post(reverse("settings:account_check", args=[messenger.pk]))
    messenger.refresh_from_db()
    state = health.account_health(messenger)
    assert state.state == health.State.CHECK_FAILED
    assert "The last connection check failed" in state.problem

    detail = client.get(reverse("settings:account", args=[messenger.pk])).content.decode()
    assert "Connection check failed" in detail and "problem: none" not in detail.lower()
    page = banner(client)
    assert 'id="health-banner"' in page and "Connection check failed" in page

    # A check that works again clears it (the fake answers normally once unscripted).
    fake_platforms.reset()
    assert check_connection(actor=admin_user, account=messenger).ok
    assert health.account_health(messenger).state == health.State.CONNECTED
    assert 'id="health-banner"' not in banner(client)


def test_new_credentials_end_a_failed_checks_state(client, admin_user, messenger, fake_platforms):
    fake_platforms.script("GET", r"/meta/.*/me$", Reply(500, {"error": {"message": "boom"}}))
    check_connection(actor=admin_user, account=messenger)
    client.force_login(admin_user)
    client.post(
        reverse("settings:account_credentials", args=[messenger.pk]),
        {"cred_page_access_token": "a-new-token"},
    )
    messenger.refresh_from_db()
    assert health.account_health(messenger).state == health.State.CONNECTED


def test_oauth_buttons_that_cannot_work_say_why_on_the_page(client, admin_user, settings):
    settings.META_APP_ID = ""
    settings.X_CLIENT_ID = "x-client"
    client.force_login(admin_user)
    page = client.get(reverse("settings:connect")).content.decode()
    # Said in the page's text next to the disabled button, not in a tooltip.
    assert 'id="oauth-facebook-why"' in page
    why = page.split('id="oauth-facebook-why">')[1].split("</p>")[0]
    assert "META_APP_ID" in why and "Not available" in why
    assert 'id="oauth-x-why"' not in page
    assert "title=" not in page.split('id="oauth-facebook"')[1].split(">")[0]


def test_a_new_accounts_form_does_not_speak_of_stored_values(client, admin_user, account):
    client.force_login(admin_user)
    page = client.get(reverse("settings:connect") + "?platform=messenger").content.decode()
    assert "leave empty to keep" not in page.lower()
    assert "Stored encrypted" in page
    # An existing account's credentials form still says so: there is something stored.
    detail = client.get(reverse("settings:account", args=[account.pk])).content.decode()
    assert "what is stored is never shown" in detail


@pytest.fixture
def busy_account(account):
    """An account where a customer message starts an SLA clock and gets a bot reply."""
    SlaPolicy.objects.create(name="Fast", first_response_seconds=600)
    BotSettings.objects.create(account=account, handoff_on_low_confidence=False)
    Rule.objects.create(account=account, name="Any", triggers="test\nhello", response="Hi there!")
    return account


def test_a_test_event_starts_no_sla_clock_no_bot_reply_and_is_not_the_last_event(
    client, admin_user, busy_account, team, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("settings:account_test_event", args=[busy_account.pk]))
    assert response.status_code == 302
    conversation = Conversation.objects.get()
    assert conversation.is_test
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 1
    assert conversation.sla_policy is None and conversation.first_response_due_at is None
    assert not BotReply.objects.exists()
    assert not Message.objects.filter(sender_kind=Message.SenderKind.BOT).exists()
    busy_account.refresh_from_db()
    assert busy_account.last_event_at is None
    assert WebhookEvent.objects.get().is_test
    # Nor does a later sweep or the team's queue pick it up.
    message = Message.objects.get(conversation=conversation)
    assert engine.answer(message.pk) == BotReply.Action.SKIPPED and not BotReply.objects.exists()
    team.auto_assign = True
    team.save()
    assert conversation not in assignment.queued(team)
    assert health.account_health(busy_account).last_event_at is None

    # The same from a real customer does all of that (what the test event is kept out of).
    with django_capture_on_commit_callbacks(execute=True):
        post_sandbox(client, busy_account, sandbox_body(text="hello"))
    real = Conversation.objects.exclude(pk=conversation.pk).get()
    assert not real.is_test and real.sla_policy is not None
    assert BotReply.objects.filter(conversation=real).exists()
    busy_account.refresh_from_db()
    assert busy_account.last_event_at is not None


def test_test_conversations_are_left_out_of_agents_queues_unless_asked_for(
    client, admin_user, agent, account, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("settings:account_test_event", args=[account.pk]))
        post_sandbox(client, account, sandbox_body(name="Maya Thompson"))
    test_conversation = Conversation.objects.get(is_test=True)

    client = Client()  # the agent's own browser
    client.force_login(agent)
    page = client.get(reverse("inbox:list")).content.decode()
    assert "Maya Thompson" in page and "Parley test" not in page
    page = client.get(reverse("inbox:list") + "?tests=1").content.decode()
    assert "Parley test" in page and 'class="badge test-badge"' in page
    # The conversation itself stays reachable (the settings page links to it).
    assert client.get(reverse("inbox:conversation", args=[test_conversation.pk])).status_code == 200

    token = Token.objects.create(user=agent)
    api = client.get(
        "/api/v1/conversations/", headers={"Authorization": f"Token {token.key}"}
    ).json()
    assert test_conversation.pk not in [c["id"] for c in api["results"]]
    api = client.get(
        "/api/v1/conversations/?tests=1", headers={"Authorization": f"Token {token.key}"}
    ).json()
    assert test_conversation.pk in [c["id"] for c in api["results"]]


def test_account_page_marks_test_deliveries(
    client, admin_user, account, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("settings:account_test_event", args=[account.pk]))
    page = client.get(reverse("settings:account", args=[account.pk])).content.decode()
    assert 'class="badge test-badge"' in page
    assert f"?tests=1&amp;account={account.pk}" in page
    assert PlatformAccount.objects.get(pk=account.pk).last_event_at is None
