"""Automation tests' helpers: a rule made through the service (validated and audited), and a
customer writing through the inbound service (the listeners run after commit)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from automation import services
from automation.models import Rule
from connectors.base import MessageReceived, Person
from inbox import services as inbox_services
from inbox.models import Conversation, Label
from tests.factories import UserFactory
from tests.helpers import committed


@pytest.fixture
def manager(team):
    user = UserFactory(username="maria", first_name="Maria", role="manager")
    team.members.add(user)
    return user


@pytest.fixture
def labels(db):
    return {name: Label.objects.create(name=name) for name in ("billing", "vip", "urgent")}


@pytest.fixture
def make_rule(manager):
    def make(trigger: Any = "message_received", actions=None, conditions=None, **extra) -> Rule:
        data = {
            "name": extra.pop("name", "A rule"),
            "trigger": trigger,
            "conditions": conditions if conditions is not None else [],
            "actions": actions or [{"type": "add_label", "value": "billing"}],
            "enabled": extra.pop("enabled", True),
            **extra,
        }
        return services.create_rule(actor=manager, data=data)

    return make


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def write():
    """``write(account, "text", sender="ann")``: a customer's message, committed; the
    conversation read afresh."""

    def customer_writes(account, text: str, *, sender: str = "ann") -> Conversation:
        event = MessageReceived(
            platform="sandbox",
            account_external_id=account.external_id,
            timestamp=timezone.now(),
            external_id=f"m-{next(_counter)}",
            sender=Person(platform_user_id=sender, name=sender.title()),
            text=text,
        )
        with committed():
            message = inbox_services.receive_message(account=account, event=event)
        return Conversation.objects.get(pk=message.conversation_id)

    return customer_writes
