"""Outreach test set-up: a manager of the Support team, accounts on each platform, contacts."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Conversation
from tests.factories import AccountFactory, ConversationFactory, IdentityFactory, UserFactory
from tests.fakes import x as fake_x

# Platform user ids of the contacts made here (X ids are numbers).
USER_IDS = itertools.count(1700000000000000001)


@pytest.fixture
def manager(team):
    user = UserFactory(username="maya", first_name="Maya", role="manager")
    team.members.add(user)
    return user


@pytest.fixture
def x_account(team):
    account = AccountFactory(
        platform="x",
        name="@examplemugs_help",
        external_id=fake_x.ACCOUNT_ID,
        credentials={"access_token": "x-token", "consumer_secret": "secret"},
    )
    team.accounts.add(account)
    return account


@pytest.fixture
def ig_account(team):
    account = AccountFactory(
        platform="instagram",
        name="examplemugs",
        external_id="17841400000000001",
        credentials={"access_token": "ig-token"},
    )
    team.accounts.add(account)
    return account


@pytest.fixture
def x_api(fake_platforms):
    fake_x.STATE.reset()
    fake_x.USERS.clear()
    yield fake_platforms
    fake_x.USERS.clear()


def person(account, username: str, *, wrote: timedelta | None = None, comment: bool = False):
    """A contact of the account known by ``username``; ``wrote``: they DMed that long ago;
    ``comment``: they commented on one of the account's posts."""
    identity = IdentityFactory(
        account=account,
        username=username,
        platform_user_id=str(next(USER_IDS)),
    )
    if wrote is not None:
        ConversationFactory(
            account=account,
            contact=identity.contact,
            kind=Conversation.Kind.DM,
            last_inbound_at=timezone.now() - wrote,
            identity=identity,
        )
    if comment:
        ConversationFactory(
            account=account,
            contact=identity.contact,
            kind=Conversation.Kind.COMMENT,
            external_thread_id=f"comment-{username}",
            identity=identity,
        )
    return identity
