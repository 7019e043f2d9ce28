"""Campaign tests' cast: a manager, accounts on each platform (against the local fakes), and
contacts who wrote (or not) with a given consent."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Contact
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ConversationFactory,
    IdentityFactory,
    UserFactory,
)
from tests.fakes import meta as fake_meta
from tests.fakes import x as fake_x

_ids = itertools.count(1600000000000000000)


@pytest.fixture
def manager(team):
    user = UserFactory(username="maria", first_name="Maria", role="manager")
    team.members.add(user)
    return user


@pytest.fixture
def messenger(team, fake_platforms):
    account = AccountFactory(
        platform="messenger", external_id=fake_meta.PAGE_ID, credentials={"access_token": "t"}
    )
    team.accounts.add(account)
    return account


@pytest.fixture
def instagram(team, fake_platforms):
    account = AccountFactory(
        platform="instagram", external_id="17841400000000001", credentials={"access_token": "t"}
    )
    team.accounts.add(account)
    return account


@pytest.fixture
def x_account(team, fake_platforms):
    fake_x.STATE.reset()
    account = AccountFactory(
        platform="x",
        external_id=fake_x.ACCOUNT_ID,
        credentials={"access_token": "x-token", "consumer_secret": "s"},
    )
    team.accounts.add(account)
    return account


def person(
    account,
    *,
    consent: str = Contact.Consent.OPTED_IN,
    wrote: timedelta | None = timedelta(hours=1),
    name: str = "",
    **fields,
) -> Contact:
    """A contact on the account with this consent, who last wrote ``wrote`` ago (None: has
    never written: no conversation)."""
    contact = ContactFactory(
        marketing_consent=consent, **({"name": name} if name else {}), **fields
    )
    identity = IdentityFactory(contact=contact, account=account, platform_user_id=str(next(_ids)))
    if wrote is not None:
        ConversationFactory(
            account=account,
            contact=contact,
            identity=identity,
            last_inbound_at=timezone.now() - wrote,
        )
    return contact
