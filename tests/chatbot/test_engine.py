"""The chatbot's decisions: rules, FAQ, greeting, away, hand-off, loop protection, consent."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from chatbot import engine, explain
from chatbot.models import BotReply, BotSettings, FaqEntry, Rule
from connectors.base import MessageReceived, Person
from connectors.models import SandboxOutbox
from inbox import services
from inbox.models import Contact, Conversation, ConversationEvent, Message, Note, PlatformAccount
from inbox.policy import reply_policy
from sla.models import BusinessHours
from tests.helpers import post_sandbox, sandbox_body

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


@pytest.fixture
def bot(account):
    return BotSettings.objects.create(account=account, greeting="", faq_threshold=80)


@pytest.fixture
def faq(account):
    return FaqEntry.objects.create(
        account=account,
        question="How long does shipping take?",
        examples="When will my order arrive\nshipping time",
        answer="Orders ship within 2 working days.",
    )


def customer_says(account, text: str, *, sender: str = "cust-1", at: datetime | None = None):
    return services.receive_message(
        account=account,
        event=MessageReceived(
            platform=account.platform,
            account_external_id=account.external_id,
            timestamp=at or timezone.now(),
            external_id=f"m-{time.monotonic_ns()}",
            sender=Person(platform_user_id=sender, name="Maya Thompson"),
            text=text,
        ),
    )


def bot_replies(conversation: Conversation) -> list[str]:
    return list(
        Message.objects.filter(conversation=conversation, sender_kind="bot")
        .order_by("id")
        .values_list("text", flat=True)
    )


def reload(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_related("contact").get(pk=conversation.pk)


# --- Rules ------------------------------------------------------------------------------------


def test_keyword_rule_answers_through_the_delivery_path(
    account, bot, django_capture_on_commit_callbacks
):
    Rule.objects.create(
        account=account, name="Returns", triggers="refund\nreturn", response="Returns: 30 days."
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = customer_says(account, "Can I get a REFUND please?")
    assert message.bot_reply.action == "rule"
    reply = message.bot_reply.reply
    assert (reply.sender_kind, reply.direction, reply.text) == (
        "bot",
        "outbound",
        "Returns: 30 days.",
    )
    assert reply.metadata["bot"]["in_reply_to"] == message.pk
    reply.refresh_from_db()
    assert reply.status == "sent"
    assert SandboxOutbox.objects.get(external_id=reply.external_id).text == "Returns: 30 days."


def test_keywords_match_whole_words_only(account, bot):
    Rule.objects.create(account=account, name="Hours", triggers="open", response="9 to 5.")
    bot.handoff_on_low_confidence = False
    bot.save()
    message = customer_says(account, "I opened the box and it was broken")
    assert engine.answer(message.pk) == "skipped"
    assert customer_says(account, "Are you open on Sunday?").pk
    assert engine.answer(Message.objects.latest("id").pk) == "rule"


def test_phrase_and_regex_rules_in_order(account, bot):
    Rule.objects.create(
        account=account,
        name="Tracking",
        match="regex",
        triggers=r"order\s*#?\d{4,}",
        response="Let me check that order.",
        order=1,
    )
    Rule.objects.create(
        account=account, name="Price", match="phrase", triggers="how much", response="€12."
    )
    first = customer_says(account, "where is order #4521?")
    engine.answer(first.pk)
    second = customer_says(account, "How much is the blue mug?")
    engine.answer(second.pk)
    assert bot_replies(first.conversation) == ["Let me check that order.", "€12."]


def test_catastrophic_regex_times_out_and_is_skipped(account, bot, faq):
    Rule.objects.create(
        account=account, name="Evil", match="regex", triggers=r"^(a|aa)+$", response="never"
    )
    message = customer_says(account, "a" * 60 + "b")
    started = time.monotonic()
    assert engine.answer(message.pk) == "handoff"
    assert time.monotonic() - started < 2
    assert "never" not in bot_replies(message.conversation)


def test_invalid_regex_is_refused_by_the_admin_form(account):
    rule = Rule(account=account, name="Bad", match="regex", triggers="(unclosed", response="x")
    with pytest.raises(ValidationError):
        rule.full_clean()


# --- FAQ, greeting, away, quick replies ------------------------------------------------------


def test_faq_answer_above_threshold_shows_the_match_to_agents(account, bot, faq):
    message = customer_says(account, "when will my order arrive?")
    assert engine.answer(message.pk) == "faq"
    assert bot_replies(message.conversation) == ["Orders ship within 2 working days."]
    detail = BotReply.objects.get(message=message).detail
    assert detail["faq"] == faq.pk and detail["score"] >= 80
    note = Note.objects.get(conversation=message.conversation)
    assert "How long does shipping take?" in note.text and "similarity" in note.text
    assert reload(message.conversation).bot_enabled is True


def test_low_confidence_hands_off_with_the_best_score_noted(account, bot, faq):
    message = customer_says(account, "My cat knocked the mug off the table, is it covered?")
    assert engine.answer(message.pk) == "handoff"
    conversation = reload(message.conversation)
    assert conversation.bot_enabled is False
    assert bot_replies(conversation) == [bot.handoff_message]
    assert "below 80" in Note.objects.get(conversation=conversation).text
    assert ConversationEvent.objects.filter(
        conversation=conversation, kind=ConversationEvent.Kind.BOT_HANDOFF
    ).exists()


def test_hand_off_note_is_signed_by_the_bot_on_the_conversation_page(
    account, bot, faq, agent, client
):
    message = customer_says(account, "My cat knocked the mug off the table, is it covered?")
    assert engine.answer(message.pk) == "handoff"
    client.force_login(agent)
    page = client.get(f"/conversations/{message.conversation_id}/").content.decode()
    note = page[page.index('class="note-item"') :]
    note = note[: note.index("</li>")]
    assert "Bot could not answer and handed off." in note
    assert "Parley bot ·" in note and "Agent" not in note


def test_greeting_goes_with_the_first_reply_only(account, bot, faq):
    bot.greeting = "Hi {first_name}! I'm the Acme bot."
    bot.save()
    first = customer_says(account, "shipping time?")
    engine.answer(first.pk)
    second = customer_says(account, "shipping time")
    engine.answer(second.pk)
    assert bot_replies(first.conversation) == [
        "Hi Maya! I'm the Acme bot.\n\nOrders ship within 2 working days.",
        "Orders ship within 2 working days.",
    ]


def test_outside_business_hours_the_hand_off_says_when_the_team_is_back(account, bot):
    hours = BusinessHours.objects.create(
        name="Paris", time_zone="Europe/Paris", weekly={d: [["09:00", "17:00"]] for d in WEEKDAYS}
    )
    bot.business_hours = hours
    bot.save()
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    message = customer_says(account, "hello, anyone there?", at=saturday)
    assert engine.answer(message.pk, now=saturday + timedelta(minutes=1)) == "handoff"
    (text,) = bot_replies(message.conversation)
    assert "back Monday 09:00 (CET)" in text


def test_away_message_once_per_closed_period_when_not_handing_off(account, bot):
    hours = BusinessHours.objects.create(
        name="Paris", time_zone="Europe/Paris", weekly={d: [["09:00", "17:00"]] for d in WEEKDAYS}
    )
    bot.business_hours = hours
    bot.handoff_on_low_confidence = False
    bot.save()
    friday_night = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    for minutes in (0, 5, 30):
        at = friday_night + timedelta(minutes=minutes)
        engine.answer(customer_says(account, f"hello {minutes}", at=at).pk, now=at)
    conversation = Conversation.objects.get()
    assert len(bot_replies(conversation)) == 1
    # Next closed period (Monday night): one more.
    monday_night = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    engine.answer(customer_says(account, "again", at=monday_night).pk, now=monday_night)
    assert len(bot_replies(conversation)) == 2


def test_numbered_options_where_the_platform_has_no_buttons(account, bot):
    Rule.objects.create(
        account=account,
        name="Menu",
        triggers="menu",
        response="What can I help with?",
        quick_replies=["Opening hours", "Returns"],
    )
    Rule.objects.create(account=account, name="Returns", triggers="returns", response="30 days.")
    first = customer_says(account, "menu")
    engine.answer(first.pk)
    reply = Message.objects.get(conversation=first.conversation, sender_kind="bot")
    assert (
        reply.text
        == "What can I help with?\n\n1. Opening hours\n2. Returns\n(Reply with a number.)"
    )
    assert reply.metadata["quick_replies"] == []
    second = customer_says(account, "2")
    assert engine.answer(second.pk) == "rule"
    assert bot_replies(first.conversation)[-1] == "30 days."


def test_quick_reply_buttons_on_messenger(team, fake_platforms, django_capture_on_commit_callbacks):
    from tests.fakes.meta import PAGE_ID

    messenger = PlatformAccount.objects.create(
        platform="messenger",
        name="Acme Mugs",
        external_id=PAGE_ID,
        credentials={"page_access_token": "EAAG-page-token"},
    )
    BotSettings.objects.create(account=messenger)
    Rule.objects.create(
        account=messenger,
        name="Menu",
        triggers="menu",
        response="What can I help with?",
        quick_replies=["Opening hours", "Returns"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        customer_says(messenger, "Menu", sender="6912345678901234")
    (sent,) = [
        r.json()
        for r in fake_platforms.sent("POST", r"/messages$")
        if "message" in (r.json() or {})
    ]
    assert sent["message"]["text"] == "What can I help with?"
    assert [q["title"] for q in sent["message"]["quick_replies"]] == ["Opening hours", "Returns"]
    assert sent["messaging_type"] == "RESPONSE"


# --- Hand-off and loop protection -------------------------------------------------------------


@pytest.mark.parametrize("text", ["I want a human", "Can I talk to someone?", "AGENT!!"])
def test_hand_off_phrases(account, bot, text):
    message = customer_says(account, text)
    assert engine.answer(message.pk) == "handoff"
    assert reload(message.conversation).bot_enabled is False


def test_after_hand_off_the_bot_stays_quiet_until_given_back_or_resolved(account, bot, faq, agent):
    message = customer_says(account, "talk to someone")
    engine.answer(message.pk)
    quiet = customer_says(account, "shipping time?")
    assert engine.answer(quiet.pk) == "skipped"
    assert BotReply.objects.get(message=quiet).detail["reason"] == "handed_off"

    engine.give_back(reload(message.conversation), actor=agent)
    assert engine.answer(customer_says(account, "shipping time?").pk) == "faq"

    engine.answer(customer_says(account, "human please").pk)
    services.change_status(
        conversation=reload(message.conversation), status="resolved", actor=agent
    )
    assert reload(message.conversation).bot_enabled is True
    assert engine.answer(customer_says(account, "shipping time").pk) == "faq"


def test_no_bot_reply_once_a_human_replied(account, bot, faq, agent):
    message = customer_says(account, "shipping time?")
    services.queue_reply(conversation=reload(message.conversation), text="Alice here", author=agent)
    assert engine.answer(message.pk) == "skipped"
    assert bot_replies(message.conversation) == []


def test_never_answers_its_own_agents_or_outbound_messages(account, bot, faq, agent):
    message = customer_says(account, "shipping time?")
    own = services.queue_reply(
        conversation=reload(message.conversation), text="shipping time?", sender_kind="bot"
    )
    assert engine.answer(own.pk) == "not_customer"
    assert not BotReply.objects.filter(message=own).exists()


def test_one_reply_per_message_even_when_the_task_runs_again(account, bot, faq):
    message = customer_says(account, "shipping time?")
    assert engine.answer(message.pk) == "faq"
    assert engine.answer(message.pk) == "already"
    assert len(bot_replies(message.conversation)) == 1
    # And the database says so too, whatever the code path.
    with pytest.raises(IntegrityError), transaction.atomic():
        BotReply.objects.create(message=message, conversation=message.conversation, action="faq")


def test_hourly_cap_per_conversation(account, bot, faq):
    bot.hourly_cap = 2
    bot.save()
    outcomes = [engine.answer(customer_says(account, "shipping time?").pk) for _ in range(4)]
    assert outcomes == ["faq", "faq", "skipped", "skipped"]
    assert BotReply.objects.filter(detail__reason="hourly_cap").count() == 2


def test_old_messages_and_accounts_without_a_bot_are_not_answered(account, other_account, faq):
    assert engine.answer(customer_says(other_account, "shipping time?").pk) == "skipped"
    assert not BotReply.objects.exists()  # no row per message of a bot-less account
    BotSettings.objects.create(account=account)
    old = customer_says(account, "shipping time?", at=timezone.now() - timedelta(hours=3))
    assert engine.answer(old.pk) == "skipped"
    assert BotReply.objects.get(message=old).detail["reason"] == "too_old"


def test_a_refused_reply_is_recorded_and_the_bot_stays_quiet(account, bot, faq):
    message = customer_says(account, "shipping time?")
    PlatformAccount.objects.filter(pk=account.pk).update(status="disconnected")
    assert engine.answer(message.pk) == "refused"
    record = BotReply.objects.get(message=message)
    assert record.detail["refused"] == "account_disconnected"
    assert record.detail["intended"] == "faq"
    assert bot_replies(message.conversation) == []


# --- Consent ----------------------------------------------------------------------------------


def test_stop_opts_out_records_the_source_and_confirms_once(account, bot):
    first = customer_says(account, "STOP")
    assert engine.answer(first.pk) == "opt_out"
    contact = Contact.objects.get(pk=first.conversation.contact_id)
    assert contact.marketing_consent == "opted_out"
    assert contact.marketing_consent_at is not None
    assert "stop" in contact.marketing_consent_source
    assert str(first.pk) in contact.marketing_consent_source
    again = customer_says(account, "stop.")
    assert engine.answer(again.pk) == "opt_out"
    assert bot_replies(first.conversation) == [bot.opt_out_confirmation]
    assert (
        ConversationEvent.objects.filter(
            conversation=first.conversation, kind=ConversationEvent.Kind.CONSENT_CHANGED
        ).count()
        == 1
    )


@pytest.mark.parametrize("word", ["Arrêt", "baja", "Abmelden", "unsubscribe"])
def test_opt_out_keywords_in_several_languages_even_without_a_bot(account, word):
    message = customer_says(account, word)
    assert engine.answer(message.pk) == "opt_out"
    assert Contact.objects.get(pk=message.conversation.contact_id).marketing_consent == "opted_out"
    assert len(bot_replies(message.conversation)) == 1


def test_keywords_are_configurable(account, bot):
    bot.opt_out_keywords = ["halt"]
    bot.save()
    assert engine.answer(customer_says(account, "stop").pk) != "opt_out"
    assert engine.answer(customer_says(account, "HALT").pk) == "opt_out"


def test_promotional_sends_need_an_opt_in(account, bot):
    message = customer_says(account, "START")
    conversation = reload(message.conversation)
    assert conversation.contact.marketing_consent == "unknown"
    with pytest.raises(services.ReplyRefused) as refused:
        services.queue_reply(conversation=conversation, text="Sale!", is_promotional=True)
    assert refused.value.code == "not_opted_in"

    assert engine.answer(message.pk) == "opt_in"
    conversation = reload(conversation)
    assert reply_policy(conversation, is_promotional=True).allowed
    services.queue_reply(conversation=conversation, text="Sale!", is_promotional=True)
    engine.answer(customer_says(account, "unsubscribe").pk)
    with pytest.raises(services.ReplyRefused):
        services.queue_reply(conversation=reload(conversation), text="Sale!", is_promotional=True)


def test_stop_in_a_group_opts_out_its_sender_without_a_public_confirmation(account, bot):
    def group_message(sender: str, text: str) -> Message:
        return services.receive_message(
            account=account,
            event=MessageReceived(
                platform="sandbox",
                account_external_id=account.external_id,
                timestamp=timezone.now(),
                external_id=f"g-{sender}-{time.monotonic_ns()}",
                sender=Person(platform_user_id=sender, name=sender),
                text=text,
                kind="group",
                thread_external_id="group-1",
            ),
        )

    group_message("starter", "hello all")
    stop = group_message("second", "STOP")
    assert engine.answer(stop.pk) == "opt_out"
    consents = dict(Contact.objects.values_list("name", "marketing_consent"))
    assert consents == {"starter": "unknown", "second": "opted_out"}
    assert bot_replies(stop.conversation) == []


def test_a_message_which_is_merely_about_stopping_is_not_an_opt_out(account, bot):
    engine.answer(customer_says(account, "please stop the delivery of order 12").pk)
    assert Contact.objects.get().marketing_consent == "unknown"


# --- Ingestion wiring -------------------------------------------------------------------------


def test_a_signed_webhook_ends_in_a_bot_reply_at_the_platform(
    client, account, bot, faq, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_sandbox(client, account, sandbox_body(text="How long does shipping take"))
    assert response.status_code == 200
    outbox = SandboxOutbox.objects.get(account=account)
    assert outbox.text == "Orders ship within 2 working days."
    assert outbox.recipient_id == "cust-1"


def test_redelivered_webhook_gives_one_bot_reply(
    client, account, bot, faq, django_capture_on_commit_callbacks
):
    body = sandbox_body(text="shipping time", message_id="same-id")
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            post_sandbox(client, account, body)
    assert SandboxOutbox.objects.filter(account=account).count() == 1


def test_sweep_reenqueues_customer_messages_whose_task_was_lost(account, other_account, bot, faq):
    from chatbot.tasks import sweep_unanswered

    message = customer_says(account, "shipping time")
    no_bot = customer_says(other_account, "shipping time")
    Message.objects.filter(pk__in=[message.pk, no_bot.pk]).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )
    assert sweep_unanswered() == 1
    assert BotReply.objects.get(message=message).action == "faq"
    assert sweep_unanswered() == 0


# --- The settings page's "try it" (engine.explain) ---------------------------------------------


def test_explain_answers_as_the_bot_would_and_writes_nothing(account, bot, faq):
    before = (BotReply.objects.count(), Message.objects.count(), Contact.objects.count())
    decision = engine.explain(account.pk, "when will my order arrive?", now=timezone.now())
    assert decision.action == BotReply.Action.FAQ and decision.text == faq.answer
    assert any("similarity" in r for r in explain.reasons(decision))
    decision = engine.explain(account.pk, "STOP", now=timezone.now())
    assert decision.action == BotReply.Action.OPT_OUT
    assert (BotReply.objects.count(), Message.objects.count(), Contact.objects.count()) == before


def test_explain_puts_the_greeting_before_a_first_answer_only_when_asked(account, bot, faq):
    bot.greeting = "Hi {first_name}!"
    bot.save()
    first = engine.explain(account.pk, "shipping time", now=timezone.now(), first_message=True)
    later = engine.explain(account.pk, "shipping time", now=timezone.now())
    assert first.text.startswith("Hi Ana!") and not later.text.startswith("Hi")


def test_explain_says_the_bot_is_off_where_there_is_none(other_account):
    decision = engine.explain(other_account.pk, "hello", now=timezone.now())
    assert decision.action == BotReply.Action.SKIPPED and decision.detail["reason"] == "bot_off"
