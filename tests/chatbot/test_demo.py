"""`make run` seeds a working bot and an SLA policy on the first demo account."""

from __future__ import annotations

from django.utils import timezone

from chatbot import engine
from chatbot.models import BotSettings, FaqEntry, Rule
from connectors.base import MessageReceived, Person
from inbox import services
from inbox.management.commands.run_demo import seed_demo
from inbox.models import PlatformAccount
from sla.models import SlaPolicy


def test_demo_seeds_a_bot_and_an_sla_policy_once(db, django_capture_on_commit_callbacks):
    seed_demo()
    seed_demo()
    shop = PlatformAccount.objects.get(external_id="demo-shop")
    assert BotSettings.objects.get().account == shop
    assert FaqEntry.objects.count() == 2 and Rule.objects.count() == 1
    assert SlaPolicy.objects.count() == 1

    with django_capture_on_commit_callbacks() as listeners:
        message = services.receive_message(
            account=shop,
            event=MessageReceived(
                platform="sandbox",
                account_external_id=shop.external_id,
                timestamp=timezone.now(),
                external_id="demo-1",
                sender=Person(platform_user_id="visitor", name="Visitor"),
                text="what is your return policy",
            ),
        )
    assert engine.answer(message.pk) == "faq"
    for callback in listeners:  # the SLA listener, after the bot has answered
        callback()
    message.conversation.refresh_from_db()
    assert message.conversation.sla_policy is not None
