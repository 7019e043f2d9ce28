"""Consent capture: START/JOIN keywords in several languages, the chatbot's "Want exclusive
offers? Yes / No", each recorded with who, when and how."""

from __future__ import annotations

import pytest

from chatbot.models import BotReply, BotSettings, Rule
from contacts.models import ConsentChange
from inbox.models import Contact, Message
from tests.chatbot.test_engine import bot_replies, customer_says
from tests.helpers import committed

pytestmark = pytest.mark.django_db


def says(account, text: str) -> tuple[Message, str]:
    """The customer writes; the chatbot decides after commit (as in production)."""
    with committed():
        message = customer_says(account, text)
    reply = BotReply.objects.filter(message=message).first()
    return message, reply.action if reply else "none"


@pytest.mark.parametrize(
    "word", ["JOIN", "Start", "rejoindre", "unirme", "beitreten", "participar"]
)
def test_join_and_start_opt_in_in_several_languages_even_without_a_bot(account, word):
    message, action = says(account, word)
    assert action == "opt_in"
    contact = Contact.objects.get(pk=message.conversation.contact_id)
    assert contact.marketing_consent == Contact.Consent.OPTED_IN
    change = ConsentChange.objects.get(contact=contact)
    assert change.state == "opted_in"
    assert word.casefold() in change.source
    assert change.actor_id is None  # the bot


@pytest.fixture
def asking_bot(account):
    Rule.objects.create(account=account, name="Hours", triggers="hours", response="9 to 5.")
    return BotSettings.objects.create(
        account=account,
        greeting="",
        offers_prompt_enabled=True,
        offers_prompt="Want exclusive offers?",
    )


def test_offers_question_follows_the_first_answer_and_yes_opts_in(account, asking_bot):
    first, action = says(account, "hours?")
    reply = Message.objects.get(conversation=first.conversation, sender_kind="bot")
    # The sandbox has no buttons: numbered options (Messenger and Instagram get buttons).
    assert "9 to 5.\n\nWant exclusive offers?" in reply.text
    assert reply.metadata["bot"]["options"] == ["Yes", "No"]

    yes, action = says(account, "Yes")
    assert action == "opt_in"
    contact = Contact.objects.get(pk=first.conversation.contact_id)
    assert contact.marketing_consent == Contact.Consent.OPTED_IN
    assert "quick reply “Yes”" in contact.marketing_consent_source
    assert ConsentChange.objects.get(contact=contact).state == "opted_in"
    assert bot_replies(first.conversation)[-1] == asking_bot.opt_in_confirmation


def test_no_opts_out_and_the_question_is_not_asked_again(account, asking_bot):
    first, action = says(account, "hours?")
    no, action = says(account, "2")  # the numbered option "No"
    assert action == "opt_out"
    assert (
        Contact.objects.get(pk=first.conversation.contact_id).marketing_consent
        == Contact.Consent.OPTED_OUT
    )
    later, action = says(account, "hours")
    assert "Want exclusive offers?" not in bot_replies(first.conversation)[-1]


def test_a_yes_without_the_question_is_just_a_message(account, asking_bot):
    asking_bot.offers_prompt_enabled = False
    asking_bot.save()
    first, action = says(account, "hours?")
    yes, action = says(account, "yes")
    assert action != "opt_in"
    assert (
        Contact.objects.get(pk=first.conversation.contact_id).marketing_consent
        == Contact.Consent.UNKNOWN
    )


def test_agent_toggle_in_the_conversation_records_who_when_and_how(client, account, agent):
    message, _action = says(account, "hello")
    conversation = message.conversation
    client.force_login(agent)
    url = f"/conversations/{conversation.pk}/"
    page = client.get(url).content.decode()
    assert 'id="panel-opt-in"' in page

    with committed():
        answer = client.post(
            f"/contacts/{conversation.contact_id}/consent/",
            {"state": "opted_in", "source": "agent toggle in a conversation", "next": url},
        )

    assert answer.url == url
    change = ConsentChange.objects.get(contact_id=conversation.contact_id)
    assert (change.state, change.actor_id, change.source) == (
        "opted_in",
        agent.pk,
        "agent toggle in a conversation",
    )
    contact_page = client.get(f"/contacts/{conversation.contact_id}/").content.decode()
    assert "agent toggle in a conversation" in contact_page and "Alice" in contact_page
    assert "Record opt-out" in client.get(url).content.decode()
