"""One message to several contacts: each platform's recipient limit, who may be reached, and
promotional consent — refused before anything is queued where a rule says no."""

from __future__ import annotations

import itertools

import pytest

from connectors.registry import get_connector
from inbox.models import Contact, Conversation, Message
from inbox.outreach import recipient_limit, send_to_many
from inbox.services import ReplyRefused
from tests.factories import AccountFactory, ContactFactory, ConversationFactory, IdentityFactory
from tests.fakes import x as fake_x
from tests.helpers import committed

pytestmark = pytest.mark.django_db


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


_ids = itertools.count(1500000000000000000)


def contacts_on(account, count: int, **contact_fields) -> list[Contact]:
    made = []
    for _ in range(count):
        contact = ContactFactory(**contact_fields)
        IdentityFactory(contact=contact, account=account, platform_user_id=str(next(_ids)))
        made.append(contact)
    return made


def test_x_refuses_more_than_49_recipients_before_queueing_anything(
    x_account, agent, fake_platforms
):
    contacts = contacts_on(x_account, 50)

    with pytest.raises(ReplyRefused) as refused:
        send_to_many(account=x_account, contacts=contacts, text="Hello partners", author=agent)

    assert refused.value.code == "too_many_recipients"
    assert "at most 49 recipients" in refused.value.detail
    assert Message.objects.count() == 0
    assert Conversation.objects.count() == 0
    assert fake_platforms.requests == []


def test_x_sends_one_dm_to_each_contact(x_account, agent, fake_platforms):
    contacts = contacts_on(x_account, 3)

    with committed():
        result = send_to_many(
            account=x_account, contacts=contacts, text="Our new range", author=agent
        )

    assert result.refused == []
    assert len(result.messages) == 3
    for message in result.messages:
        message.refresh_from_db()
        assert message.status == Message.Status.SENT
        assert message.metadata["outreach"] == result.batch
    posts = fake_platforms.sent("POST", r"^/x/2/dm_conversations/with/\d+/messages$")
    assert sorted(p.path.split("/")[5] for p in posts) == sorted(
        c.identities.get().platform_user_id for c in contacts
    )
    threads = Conversation.objects.values_list("external_thread_id", flat=True)
    assert all(t and "-" in t for t in threads)


def test_x_group_outreach_makes_one_group_conversation(x_account, agent, fake_platforms):
    contacts = contacts_on(x_account, 3)

    with committed():
        result = send_to_many(
            account=x_account, contacts=contacts, text="Welcome all", author=agent, as_group=True
        )

    conversation = Conversation.objects.get()
    assert conversation.kind == Conversation.Kind.GROUP
    assert conversation.participants.count() == 3
    assert conversation.external_thread_id  # the id X gave the new group
    body = fake_platforms.sent("POST", r"^/x/2/dm_conversations$")[0].json()
    assert body["conversation_type"] == "Group"
    assert len(body["participant_ids"]) == 3
    assert body["message"] == {"text": "Welcome all"}
    result.messages[0].refresh_from_db()
    assert result.messages[0].status == Message.Status.SENT


def test_x_group_above_49_others_is_refused(x_account, agent):
    assert recipient_limit(x_account, as_group=True) == 49
    with pytest.raises(ReplyRefused) as refused:
        send_to_many(
            account=x_account,
            contacts=contacts_on(x_account, 50),
            text="Hi",
            author=agent,
            as_group=True,
        )
    assert refused.value.code == "too_many_recipients"
    assert "49 people in one new group" in refused.value.detail


def test_promotional_send_skips_contacts_who_have_not_opted_in(x_account, agent):
    opted_in, unknown = contacts_on(x_account, 2)
    Contact.objects.filter(pk=opted_in.pk).update(marketing_consent=Contact.Consent.OPTED_IN)

    result = send_to_many(
        account=x_account,
        contacts=[opted_in, unknown],
        text="20% off this week",
        author=agent,
        is_promotional=True,
    )

    assert [m.conversation.contact_id for m in result.messages] == [opted_in.pk]
    assert result.messages[0].is_promotional
    assert [(r.contact.pk, r.code) for r in result.refused] == [(unknown.pk, "not_opted_in")]


def test_a_promotional_group_needs_every_member_opted_in(x_account, agent):
    contacts = contacts_on(x_account, 3, marketing_consent=Contact.Consent.OPTED_IN)
    Contact.objects.filter(pk=contacts[2].pk).update(marketing_consent=Contact.Consent.OPTED_OUT)

    with pytest.raises(ReplyRefused) as refused:
        send_to_many(
            account=x_account,
            contacts=contacts,
            text="Sale",
            author=agent,
            is_promotional=True,
            as_group=True,
        )

    assert refused.value.code == "group_member_refused"
    assert Message.objects.count() == 0


def test_a_contact_unknown_on_the_account_is_reported(x_account, agent):
    stranger = ContactFactory()
    known = contacts_on(x_account, 1)[0]

    result = send_to_many(account=x_account, contacts=[known, stranger], text="Hi", author=agent)

    assert len(result.messages) == 1
    assert [(r.contact.pk, r.code) for r in result.refused] == [(stranger.pk, "not_on_platform")]


def test_instagram_refuses_more_than_15_recipients(team, agent):
    account = AccountFactory(platform="instagram", external_id="17841400000000001")
    limit = get_connector("instagram").rules.max_recipients_per_send
    assert limit == 15
    assert get_connector("instagram").rules.max_group_participants is None

    with pytest.raises(ReplyRefused) as refused:
        send_to_many(
            account=account, contacts=contacts_on(account, limit + 1), text="Hi", author=agent
        )
    assert refused.value.code == "too_many_recipients"
    with pytest.raises(ReplyRefused) as no_group:
        send_to_many(
            account=account,
            contacts=contacts_on(account, 1),
            text="Hi",
            author=agent,
            as_group=True,
        )
    assert no_group.value.code == "no_groups"


def test_messenger_reaches_only_contacts_who_wrote_first(team, agent, fake_platforms):
    account = AccountFactory(
        platform="messenger", external_id="104800000000001", credentials={"access_token": "t"}
    )
    silent = contacts_on(account, 1)[0]

    result = send_to_many(account=account, contacts=[silent], text="Hello", author=agent)

    assert result.messages == []
    assert [r.code for r in result.refused] == ["cannot_initiate"]
    assert Conversation.objects.count() == 0

    wrote = ContactFactory()
    ConversationFactory(
        account=account,
        contact=wrote,
        identity=IdentityFactory(contact=wrote, account=account, platform_user_id="2400"),
    )
    result = send_to_many(account=account, contacts=[wrote], text="Hello", author=agent)
    assert result.refused == []
    assert result.messages[0].conversation.contact_id == wrote.pk


def test_linkedin_cannot_send_to_several_contacts(team, agent):
    account = AccountFactory(platform="linkedin", external_id="urn:li:organization:1")
    with pytest.raises(ReplyRefused) as refused:
        send_to_many(account=account, contacts=contacts_on(account, 1), text="Hi", author=agent)
    assert refused.value.code == "no_bulk_send"


def test_nobody_to_send_to_is_refused(x_account, agent):
    with pytest.raises(ReplyRefused) as refused:
        send_to_many(account=x_account, contacts=[], text="Hi", author=agent)
    assert refused.value.code == "no_recipients"
