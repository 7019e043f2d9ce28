"""`make run` seeds a working bot, labels, an SLA policy and a business-hours calendar."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from chatbot import demo as chatbot_demo
from chatbot import engine
from chatbot.models import BotSettings, FaqEntry, Rule
from connectors.base import MessageReceived, Person
from inbox import services
from inbox.management.commands.run_demo import seed_demo
from inbox.models import Label, PlatformAccount
from sla import business_hours as bh
from sla.models import BusinessHours, SlaPolicy


def test_demo_seeds_a_bot_and_an_sla_policy_once(db, django_capture_on_commit_callbacks):
    seed_demo()
    seed_demo()
    shop = PlatformAccount.objects.get(external_id="demo-shop")
    assert BotSettings.objects.get().account == shop
    assert FaqEntry.objects.count() == len(chatbot_demo.FAQ) >= 3 and Rule.objects.count() == 1
    assert SlaPolicy.objects.count() == 1
    assert {"billing", "bug", "vip"} <= set(Label.objects.values_list("name", flat=True))

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


def test_demo_calendar_closes_on_holidays_and_opens_christmas_eve_morning_only(db):
    seed_demo()
    hours = BusinessHours.objects.get(name="Office hours")
    year = timezone.localdate().year
    assert hours.holidays.count() == 2 * len(chatbot_demo.holidays(year))
    schedule = hours.schedule
    # Christmas Day is closed whatever its weekday; Christmas Eve has its own hours, 09:00 to
    # 13:00; a removed label is not seeded again.
    assert not bh.is_open(schedule, datetime(year, 12, 25, 10, tzinfo=UTC))
    assert bh.is_open(schedule, datetime(year, 12, 24, 12, 30, tzinfo=UTC))
    assert not bh.is_open(schedule, datetime(year, 12, 24, 14, tzinfo=UTC))
    Label.objects.filter(name="bug").delete()
    seed_demo()
    assert not Label.objects.filter(name="bug").exists()
