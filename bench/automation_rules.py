"""Ingesting a message with 50 enabled automation rules against none: rules run off the
ingestion path (in the listeners' task), so ingestion must stay within 10 % of its cost.

    .venv/bin/python bench/automation_rules.py [--messages 150] [--rounds 4]

Runs against its own PostgreSQL database (``parley_bench_automation``: created, migrated,
dropped) and Redis db 4. Each message goes through ``inbox.services.receive_messages`` in its
own transaction, committed, with the after-commit dispatch enqueued on Redis (no worker: the
listeners' task is not part of ingestion). Rounds alternate "no rules" and "50 rules" in ABBA
order so drift on a shared machine (and the growing database) hits both. The listeners' own cost per event (``inbox.listeners.handle``,
run for the same messages right after, timed apart) is printed too: that is where the rules'
work goes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_database, percentile, recreate_database  # noqa: E402

DB_NAME = "parley_bench_automation"
REDIS_URL = "redis://127.0.0.1:6379/4"
os.environ.update(
    {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": "bench-only-secret-key",
        "PARLEY_TESTING": "1",
        "DEBUG": "0",
    }
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")

WORDS = ["refund", "invoice", "broken", "cancel", "delivery", "password", "discount", "angry",
         "lawyer", "urgent", "parcel", "warranty", "exchange", "size", "colour", "tracking",
         "address", "payment", "voucher", "subscription"]  # fmt: skip
TEXTS = [
    "Hi, where is my parcel? The tracking has not moved",
    "I want a refund for order 12345",
    "hello",
    "Do you ship to Portugal?",
    "My password reset mail never came",
]


def make_rules(manager) -> None:
    """50 rules of the kinds admins write: text, regex, labels, platform, priority; five match
    every message (and write labels or a priority), the others mostly do not."""
    from automation import services
    from inbox.models import Label

    for name in ("billing", "shipping", "seen", "vip", "legal"):
        Label.objects.get_or_create(name=name)

    def rule(name, conditions, actions, match_any=False):
        services.create_rule(
            actor=manager,
            data={
                "name": name,
                "trigger": "message_received",
                "conditions": {"any": conditions} if match_any else conditions,
                "actions": actions,
            },
        )

    for word in WORDS:  # 20
        rule(f"word {word}", [{"field": "text", "operator": "contains", "value": word}],
             [{"type": "add_label", "value": "billing"}])  # fmt: skip
    for n in range(10):  # 10
        rule(f"regex {n}", [{"field": "text", "operator": "matches", "value": rf"order\s*#?{n}\d{{4}}"}],
             [{"type": "set_priority", "value": "high"}])  # fmt: skip
    for n in range(10):  # 10
        rule(f"labels {n}", [{"field": "label", "operator": "in", "value": ["vip", "legal"]},
                             {"field": "text", "operator": "contains", "value": WORDS[n]}],
             [{"type": "set_priority", "value": "urgent"}])  # fmt: skip
    for n in range(5):  # 5
        rule(f"platform {n}", [{"field": "platform", "operator": "in", "value": ["x", "linkedin"]},
                               {"field": "priority", "operator": "equals", "value": "low"}],
             [{"type": "add_label", "value": "shipping"}], match_any=True)  # fmt: skip
    for n in range(5):  # 5 that match everything
        rule(f"always {n}", [{"field": "kind", "operator": "equals", "value": "dm"}],
             [{"type": "add_label", "value": "seen"}])  # fmt: skip


def one_message(account, n: int):
    from django.db import transaction
    from django.utils import timezone

    from connectors.base import MessageReceived, Person
    from inbox import services

    event = MessageReceived(
        platform="sandbox",
        account_external_id=account.external_id,
        timestamp=timezone.now(),
        external_id=f"bench-{n}",
        # A new customer every fourth message: new conversations and replies in existing ones.
        sender=Person(platform_user_id=f"cust-{n // 4}", name=f"Customer {n // 4}"),
        text=TEXTS[n % len(TEXTS)],
    )
    with transaction.atomic():
        [message] = services.receive_messages(account, [event])
    return message


def run_round(account, first: int, count: int) -> tuple[list[float], list[float]]:
    from inbox import listeners
    from inbox.events import from_row
    from inbox.models import ConversationEvent

    ingest, listen = [], []
    for n in range(first, first + count):
        started = time.perf_counter()
        message = one_message(account, n)  # committed, dispatch enqueued on Redis
        ingest.append((time.perf_counter() - started) * 1000)
        rows = ConversationEvent.objects.filter(
            conversation_id=message.conversation_id, data__message=message.pk
        )
        events = [from_row(row) for row in rows]
        started = time.perf_counter()
        listeners.handle(events)  # what the worker's task would do, timed apart
        listen.append((time.perf_counter() - started) * 1000)
    return ingest, listen


def stats(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values), 2),
        "p90_ms": round(percentile(values, 90), 2),
        "mean_ms": round(statistics.fmean(values), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=150, help="per round and configuration")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    recreate_database(DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        from automation.models import Rule
        from inbox.models import PlatformAccount, User

        manager = User.objects.create(username="bench-manager", role="manager")
        account = PlatformAccount.objects.create(
            platform="sandbox", name="Bench", external_id="bench"
        )
        make_rules(manager)
        assert Rule.objects.count() == 50
        results: dict[str, dict[str, list[float]]] = {
            "no rules": {"ingest": [], "listeners": []},
            "50 rules": {"ingest": [], "listeners": []},
        }
        n = 0
        one_message(account, -1)  # warm-up: connections, caches
        for round_ in range(args.rounds):
            # ABBA order: the database grows as the run goes, and neither configuration may
            # always come second.
            order = ("no rules", "50 rules") if round_ % 2 == 0 else ("50 rules", "no rules")
            for config in order:
                Rule.objects.update(enabled=config == "50 rules")
                ingest, listen = run_round(account, n, args.messages)
                n += args.messages
                results[config]["ingest"] += ingest
                results[config]["listeners"] += listen
        summary = {
            config: {part: stats(values) for part, values in parts.items()}
            for config, parts in results.items()
        }
        base = summary["no rules"]["ingest"]["median_ms"]
        with_rules = summary["50 rules"]["ingest"]["median_ms"]
        summary["ingest ratio (50 rules / none, medians)"] = round(with_rules / base, 3)
        summary["ingest ratio (50 rules / none, means)"] = round(
            summary["50 rules"]["ingest"]["mean_ms"] / summary["no rules"]["ingest"]["mean_ms"], 3
        )
        summary["listeners ratio (50 rules / none, medians)"] = round(
            summary["50 rules"]["listeners"]["median_ms"]
            / summary["no rules"]["listeners"]["median_ms"],
            3,
        )
        summary["messages per configuration"] = args.messages * args.rounds
        print(json.dumps(summary, indent=2))
        print(
            f"ingest: {base} ms without rules, {with_rules} ms with 50 rules "
            f"(ratio {summary['ingest ratio (50 rules / none, medians)']}, target ≤ 1.10)"
        )
    finally:
        import redis
        from django.db import connections

        connections.close_all()
        redis.Redis.from_url(REDIS_URL).flushdb()  # the dispatches no worker took
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
