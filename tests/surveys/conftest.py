"""Survey fixtures: a Messenger, an Instagram and an X account (against the local fakes), each
with its survey switched on, and helpers for a customer writing and an agent resolving."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from django.utils import timezone

from connectors.base import MessageReceived, Person
from inbox import services
from inbox.models import Conversation, Message, PlatformAccount
from surveys.models import SurveySettings
from tests.fakes import meta as fake_meta
from tests.fakes import x as fake_x
from tests.helpers import committed

_ids = itertools.count(1)


def _account(team, **fields) -> PlatformAccount:
    account = PlatformAccount.objects.create(**fields)
    team.accounts.add(account)
    SurveySettings.objects.create(account=account, enabled=True)
    return account


@pytest.fixture
def messenger(team, fake_platforms):
    return _account(
        team,
        platform="messenger",
        name="Acme Mugs",
        external_id=fake_meta.PAGE_ID,
        credentials={"page_access_token": "EAAG-page-token"},
    )


@pytest.fixture
def instagram(team, fake_platforms):
    return _account(
        team,
        platform="instagram",
        name="examplemugs",
        external_id=fake_meta.IG_ID,
        credentials={"access_token": "IGQ"},
    )


@pytest.fixture
def x_account(team, fake_platforms):
    return _account(
        team,
        platform="x",
        name="@examplemugs_help",
        external_id=fake_x.ACCOUNT_ID,
        credentials={"access_token": "x-token"},
    )


def customer_writes(
    account: PlatformAccount,
    text: str,
    *,
    sender: str = "6912345678901234",
    at: datetime | None = None,
    metadata: dict | None = None,
) -> Message:
    """A customer's DM through the inbound service, committed (its listeners run)."""
    thread = None
    if account.platform == "x":
        low, high = sorted((fake_x.ACCOUNT_ID, sender), key=int)
        thread = f"{low}-{high}"
    with committed():
        return services.receive_message(
            account=account,
            event=MessageReceived(
                platform=account.platform,
                account_external_id=account.external_id,
                timestamp=at or timezone.now(),
                external_id=f"m-{next(_ids)}-{timezone.now().timestamp()}",
                sender=Person(platform_user_id=sender, name="Maya Thompson"),
                text=text,
                thread_external_id=thread,
                metadata=metadata or {},
            ),
        )


def set_status(conversation: Conversation, status: str, actor=None) -> Conversation:
    with committed():
        conversation = Conversation.objects.get(pk=conversation.pk)
        services.change_status(conversation=conversation, status=status, actor=actor)
    return Conversation.objects.get(pk=conversation.pk)


def sent_to_meta(fake_platforms) -> list[dict]:
    return [
        r.json()["message"]
        for r in fake_platforms.sent("POST", r"/messages$")
        if "message" in (r.json() or {})
    ]
