"""Demo content for `make run`: a bot on the first demo account, an SLA policy, office hours."""

from __future__ import annotations

from chatbot.models import BotSettings, FaqEntry, Rule
from inbox.models import PlatformAccount
from sla.models import BusinessHours, SlaPolicy

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
]


def seed(account: PlatformAccount) -> None:
    """Idempotent: only creates what is missing."""
    hours, _ = BusinessHours.objects.get_or_create(
        name="Office hours",
        defaults={
            "time_zone": "UTC",
            "weekly": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            "is_default": True,
        },
    )
    SlaPolicy.objects.get_or_create(
        name="Standard",
        defaults={
            "first_response_seconds": 3600,
            "next_response_seconds": 1800,
            "resolution_seconds": 24 * 3600,
        },
    )
    _, created = BotSettings.objects.get_or_create(
        account=account,
        defaults={"greeting": "Hi {first_name}! I'm the Acme assistant.", "business_hours": hours},
    )
    if not created:
        return
    for question, examples, answer in FAQ:
        FaqEntry.objects.create(
            account=account, question=question, examples=examples, answer=answer
        )
    Rule.objects.create(
        account=account,
        name="Menu",
        triggers="menu\nhelp\noptions",
        response="What can I help you with?",
        quick_replies=["Shipping", "Returns", "Talk to a person"],
    )
