"""The seam between connectors and the domain: every normalized event has its handler in one
visible table, the reply policy's windows are neutral and each connector says them in its own
terms, and messages queued before the change keep their window."""

from __future__ import annotations

import importlib
import inspect

import pytest
from django.apps import apps as django_apps

from connectors import base
from connectors.meta.connector import MESSAGING_TYPES
from connectors.registry import OAUTH_PROVIDERS, get_oauth_provider
from inbox import ingest
from inbox.models import Message
from inbox.settings_area import oauth
from tests.factories import ConversationFactory, MessageFactory


def _event_types() -> set[type[base.Event]]:
    return {
        value
        for value in vars(base).values()
        if inspect.isclass(value) and issubclass(value, base.Event) and value is not base.Event
    }


def test_every_normalized_event_has_a_handler_in_the_dispatch_tables():
    handled = set(ingest.HANDLERS) | set(ingest.BATCH_HANDLERS)
    assert _event_types() - handled == set()


def test_events_of_one_platform_are_normalized_events_of_connectors_base():
    # Handlers are looked up by exact type: a platform's own subclass would go unhandled.
    for event_type in set(ingest.HANDLERS) | set(ingest.BATCH_HANDLERS):
        assert event_type.__module__ == "connectors.base"


def test_the_meta_connector_says_every_window_in_its_terms():
    assert set(MESSAGING_TYPES) == set(base.SendWindow)
    assert MESSAGING_TYPES[base.SendWindow.EXTENDED_AGENT]["messaging_type"] == "MESSAGE_TAG"


def test_every_login_is_a_provider_and_names_the_platforms_it_connects():
    for name in OAUTH_PROVIDERS:
        provider = get_oauth_provider(name)
        assert provider.name == name and provider.label and provider.nothing_found
        for platform in provider.platforms:
            assert oauth.PROVIDER_FOR_PLATFORM[platform] == name


@pytest.mark.django_db
def test_queued_messages_from_before_keep_their_window(account):
    migration = importlib.import_module("inbox.migrations.0015_neutral_send_windows")
    conversation = ConversationFactory(account=account)
    outbound = {"direction": Message.Direction.OUTBOUND, "conversation": conversation}
    tagged = MessageFactory(
        **outbound,
        status=Message.Status.QUEUED,
        metadata={"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT", "quick_replies": []},
    )
    response = MessageFactory(
        **outbound, status=Message.Status.FAILED, metadata={"messaging_type": "RESPONSE", "tag": ""}
    )
    sent = MessageFactory(
        **outbound, status=Message.Status.SENT, metadata={"messaging_type": "RESPONSE", "tag": ""}
    )

    migration.to_neutral_windows(django_apps, None)

    tagged.refresh_from_db()
    response.refresh_from_db()
    sent.refresh_from_db()
    assert tagged.metadata == {"window": "extended_agent_window", "quick_replies": []}
    assert response.metadata == {"window": "within_window"}
    # Never sent again: left as it was.
    assert sent.metadata == {"messaging_type": "RESPONSE", "tag": ""}
