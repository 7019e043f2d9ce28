"""Demo content for `make run`: labels, a bot with FAQ answers on the first demo account, an SLA
policy, and office hours with a holiday calendar (a partial day included)."""

from __future__ import annotations

from datetime import date, time

from django.utils import timezone

from chatbot.models import BotSettings, FaqEntry, Rule
from inbox.models import Label, PlatformAccount
from sla.models import BusinessHours, Holiday, SlaPolicy

LABELS = [
    ("billing", "#2563eb"),
    ("bug", "#dc2626"),
    ("feature request", "#7c3aed"),
    ("order", "#059669"),
    ("vip", "#d97706"),
]

FAQ = [
    (
        "How long does shipping take?",
        "When will my order arrive\nshipping time\ndelivery time",
        "Orders ship within 2 working days; delivery takes 3–5 days after that.",
    ),
    (
        "What is your return policy?",
        "Can I return an item\nhow do returns work\nrefund",
        "You can return any item within 30 days for a full refund.",
    ),
    (
        "What are your opening hours?",
        "When are you open\nopening times\nare you open on weekends",
        "Our team answers Monday to Friday, 09:00–17:00 (UTC).",
    ),
    (
        "Which payment methods do you accept?",
        "can I pay with paypal\npayment options\ndo you take credit cards",
        "We accept credit and debit cards, PayPal and bank transfer.",
    ),
]


def holidays(year: int) -> list[tuple[date, str, time | None, time | None]]:
    """The demo calendar: closed days, and Christmas Eve open in the morning only."""
    return [
        (date(year, 1, 1), "New Year's Day", None, None),
        (date(year, 5, 1), "Labour Day", None, None),
        (date(year, 12, 24), "Christmas Eve (mornings only)", time(9), time(13)),
        (date(year, 12, 25), "Christmas Day", None, None),
        (date(year, 12, 31), "New Year's Eve (mornings only)", time(9), time(12)),
    ]


def seed(account: PlatformAccount) -> None:
    """Idempotent. Each kind is seeded only where there is none yet, so what an admin removed
    in the settings pages does not come back at the next `make run`."""
    if not Label.objects.exists():
        Label.objects.bulk_create([Label(name=name, color=color) for name, color in LABELS])
    hours, _ = BusinessHours.objects.get_or_create(
        name="Office hours",
        defaults={
            "time_zone": "UTC",
            "weekly": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            "is_default": True,
        },
    )
    if not hours.holidays.exists():
        this_year = timezone.localdate().year
        Holiday.objects.bulk_create(
            Holiday(hours=hours, date=day, name=name, open_from=opens, open_until=closes)
            for year in (this_year, this_year + 1)
            for day, name, opens, closes in holidays(year)
        )
    SlaPolicy.objects.get_or_create(
        name="Standard",
        defaults={
            "first_response_seconds": 3600,
            "next_response_seconds": 1800,
            "resolution_seconds": 24 * 3600,
        },
    )
    BotSettings.objects.get_or_create(
        account=account,
        defaults={"greeting": "Hi {first_name}! I'm the Acme assistant.", "business_hours": hours},
    )
    if not FaqEntry.objects.filter(account=account).exists():
        FaqEntry.objects.bulk_create(
            FaqEntry(account=account, question=question, examples=examples, answer=answer)
            for question, examples, answer in FAQ
        )
    if not Rule.objects.filter(account=account).exists():
        Rule.objects.create(
            account=account,
            name="Menu",
            triggers="menu\nhelp\noptions",
            response="What can I help you with?",
            quick_replies=["Shipping", "Returns", "Talk to a person"],
        )
