"""One reading of "the contact's DM thread on an account": an inbound message without a
platform thread id, an outreach and a reopened window all reach the same conversation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import services
from inbox.models import Conversation
from inbox.outreach import send_to_many
from inbox.selectors import latest_dm_thread
from tests.factories import AccountFactory, ContactFactory, ConversationFactory, IdentityFactory

pytestmark = pytest.mark.django_db


def test_inbound_outreach_and_lookups_agree_on_the_newest_dm_thread(account, agent):
    contact = ContactFactory(name="Ana")
    identity = IdentityFactory(contact=contact, account=account, platform_user_id="psid-ana")
    # A merge of contacts can leave two DM threads; the older one was active more recently.
    older = ConversationFactory(
        account=account,
        contact=contact,
        identity=identity,
        last_activity_at=timezone.now(),
    )
    newer = ConversationFactory(
        account=account,
        contact=contact,
        identity=identity,
        last_activity_at=timezone.now() - timedelta(days=1),
    )
    ConversationFactory(account=account, contact=contact, identity=identity, kind="comment")
    ConversationFactory(account=AccountFactory(), contact=contact)

    assert latest_dm_thread(account, contact=contact) == newer
    assert latest_dm_thread(account, platform_user_id="psid-ana") == newer
    assert services.find_or_open_conversation(account=account, identity=identity) == (
        newer,
        False,
    )
    sent = send_to_many(account=account, contacts=[contact], text="Hello", author=agent)
    assert [m.conversation_id for m in sent.messages] == [newer.pk]
    assert older.pk != newer.pk


def test_no_dm_thread_is_none(account):
    contact = ContactFactory()
    ConversationFactory(account=account, contact=contact, kind=Conversation.Kind.COMMENT)

    assert latest_dm_thread(account, contact=contact) is None
    assert latest_dm_thread(account, platform_user_id="nobody") is None
