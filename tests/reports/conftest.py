"""A conversation script for report tests: customer messages, replies and status changes at
hand-picked instants, all through the real services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import TestCase
from django.utils import timezone

from connectors import base as events
from inbox import services
from inbox.models import Conversation, Message

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday


class Script:
    """Plays a conversation through the services with a controlled clock."""

    def __init__(self, account, monkeypatch, sender: str = "cust-1"):
        self.account = account
        self.monkeypatch = monkeypatch
        self.sender = sender
        self.count = 0
        self.conversation: Conversation | None = None

    def at(self, when: datetime) -> None:
        self.monkeypatch.setattr(timezone, "now", lambda: when)

    @staticmethod
    def committed(call: Callable[[], Any]) -> Any:
        """Run a service as a request does: its after-commit work (the metrics pass) runs."""
        with TestCase.captureOnCommitCallbacks(execute=True):
            return call()

    def customer(self, when: datetime, text: str = "Hello?") -> Message:
        self.at(when)
        self.count += 1
        event = events.MessageReceived(
            platform=self.account.platform,
            account_external_id=self.account.external_id,
            timestamp=when,
            external_id=f"{self.sender}-{self.count}",
            sender=events.Person(platform_user_id=self.sender, name="Maya Thompson"),
            text=text,
        )
        message = self.committed(
            lambda: services.receive_message(account=self.account, event=event)
        )
        self.conversation = Conversation.objects.get(pk=message.conversation_id)
        return message

    def _fresh(self) -> Conversation:
        self.conversation = Conversation.objects.select_related("account").get(
            pk=self.conversation.pk
        )
        return self.conversation

    def agent(self, when: datetime, author, text: str = "On it") -> Message:
        self.at(when)
        conversation = self._fresh()
        return self.committed(
            lambda: services.queue_reply(
                conversation=conversation, text=text, author=author, now=when
            )
        )

    def bot(self, when: datetime, text: str = "I'm the bot") -> Message:
        self.at(when)
        conversation = self._fresh()
        return self.committed(
            lambda: services.queue_reply(
                conversation=conversation, text=text, sender_kind=Message.SenderKind.BOT, now=when
            )
        )

    def echo(self, when: datetime, text: str = "From the phone app") -> Message:
        self.at(when)
        self.count += 1
        event = events.MessageEchoed(
            platform=self.account.platform,
            account_external_id=self.account.external_id,
            timestamp=when,
            external_id=f"echo-{self.count}",
            recipient=events.Person(platform_user_id=self.sender),
            text=text,
        )
        return self.committed(lambda: services.record_echo(account=self.account, event=event))

    def note(self, when: datetime, author, text: str = "private") -> None:
        self.at(when)
        conversation = self._fresh()
        self.committed(
            lambda: services.add_note(conversation=conversation, author=author, text=text)
        )

    def status(self, when: datetime, status: str, actor=None) -> None:
        self.at(when)
        conversation = self._fresh()
        self.committed(
            lambda: services.change_status(conversation=conversation, status=status, actor=actor)
        )

    def resolve(self, when: datetime, actor=None) -> None:
        self.status(when, Conversation.Status.RESOLVED, actor)

    def assign(self, when: datetime, assignee, actor=None) -> None:
        self.at(when)
        conversation = self._fresh()
        self.committed(
            lambda: services.assign(conversation=conversation, actor=actor, assignee=assignee)
        )


@pytest.fixture
def script(account, monkeypatch):
    return Script(account, monkeypatch)


@pytest.fixture
def manager(team):
    from tests.factories import UserFactory

    user = UserFactory(username="maria", first_name="Maria", role="manager")
    team.members.add(user)
    return user
