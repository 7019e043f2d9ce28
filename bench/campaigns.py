"""Benchmark: a campaign to 10 000 opted-in contacts is planned in under 2 s and sends at
each platform's permitted rate (issue 18).

Creates its own PostgreSQL database (``parley_bench_campaigns``, dropped at the end unless
``--keep``), migrates it, and fills it with ``--contacts`` opted-in contacts on each of a
Messenger, an Instagram and an X account (each with a DM thread: on Meta the customer wrote
within the last 20 hours; one contact in ten wrote 2 days ago and is left out, one in fifty is
not opted in), and a promotional message sent 2 days ago to one in twenty (the frequency cap).

Then, per platform:

- the eligibility preview of the whole audience (``campaigns.services.preview``);
- the plan (``campaigns.services.start``: the audience, every verdict, one row per recipient
  with its turn, in one transaction), best and median of ``--runs`` (each run a new campaign);
- the schedule the plan made: the spacing of turns and what it means in messages per second
  against the platform's stated rate;
- one periodic pass ``--window`` seconds after the start (``campaigns.services.send_due``: the
  recipients whose turn came, checked again, each queued through ``inbox.services.queue_reply``)
  inside a transaction that is rolled back, so nothing is delivered: how long the pass for that
  window takes, i.e. whether queueing keeps up with the rate.

    .venv/bin/python bench/campaigns.py
    .venv/bin/python bench/campaigns.py --contacts 2000 --runs 1 --keep

Only 127.0.0.1 traffic (PostgreSQL); no platform is called.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import django_in_process, drop_database  # noqa: E402

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "parley_bench_campaigns"
PLATFORMS = ("messenger", "instagram", "x")


class Rollback(Exception):
    pass


def fill(contacts: int) -> dict[str, int]:
    from django.utils import timezone

    from inbox.models import (
        Contact,
        ContactIdentity,
        Conversation,
        Message,
        PlatformAccount,
    )

    now = timezone.now()
    accounts: dict[str, int] = {}
    for platform in PLATFORMS:
        account = PlatformAccount.objects.create(
            platform=platform, name=f"Shop on {platform}", external_id=f"shop-{platform}"
        )
        accounts[platform] = account.pk
        people = Contact.objects.bulk_create(
            [
                Contact(
                    name=f"Customer {platform} {i}",
                    marketing_consent=Contact.Consent.UNKNOWN
                    if i % 50 == 7
                    else Contact.Consent.OPTED_IN,
                )
                for i in range(contacts)
            ],
            batch_size=5000,
        )
        identities = ContactIdentity.objects.bulk_create(
            [
                ContactIdentity(contact=c, account=account, platform_user_id=f"{platform}-{i}")
                for i, c in enumerate(people)
            ],
            batch_size=5000,
        )
        threads = Conversation.objects.bulk_create(
            [
                Conversation(
                    account=account,
                    contact=c,
                    last_inbound_at=now
                    - (timedelta(days=2) if i % 10 == 3 else timedelta(hours=20)),
                )
                for i, c in enumerate(people)
            ],
            batch_size=5000,
        )
        Conversation.participants.through.objects.bulk_create(
            [
                Conversation.participants.through(conversation_id=t.pk, contactidentity_id=i.pk)
                for t, i in zip(threads, identities, strict=True)
            ],
            batch_size=5000,
        )
        Message.objects.bulk_create(
            [
                Message(
                    conversation=t,
                    account=account,
                    direction=Message.Direction.OUTBOUND,
                    sender_kind=Message.SenderKind.SYSTEM,
                    status=Message.Status.SENT,
                    is_promotional=True,
                    text="Earlier offer",
                    sent_at=now - timedelta(days=2),
                    created_at=now - timedelta(days=2),
                )
                for i, t in enumerate(threads)
                if i % 20 == 11
            ],
            batch_size=5000,
        )
    return accounts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    django_in_process(DB_NAME, SERVER)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from campaigns import services
    from campaigns.models import Recipient
    from connectors.registry import get_connector
    from inbox.models import PlatformAccount, User

    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        accounts = fill(args.contacts)
        print(
            f"Filled {args.contacts} contacts on each of {', '.join(PLATFORMS)} "
            f"in {time.perf_counter() - started:.1f} s"
        )
        manager = User.objects.create(username="bench-manager", role="manager")
        for platform, account_id in accounts.items():
            account = PlatformAccount.objects.get(pk=account_id)
            t0 = time.perf_counter()
            draft = services.create(
                name="Preview",
                account=account,
                text="Hi {first_name}",
                audience_filters={},
                actor=manager,
            )
            preview = services.preview(draft)
            preview_s = time.perf_counter() - t0
            eligible = sum(1 for _c, v in preview if v.eligible)
            plans = []
            for run in range(args.runs):
                campaign = services.create(
                    name=f"Sale {run}",
                    account=account,
                    text="Hi {first_name}, 20% off",
                    audience_filters={},
                    actor=manager,
                )
                now = timezone.now()
                t0 = time.perf_counter()
                services.start(campaign=campaign, actor=manager, now=now)
                plans.append(time.perf_counter() - t0)
            due = list(
                Recipient.objects.filter(campaign=campaign, state=Recipient.State.PENDING)
                .order_by("due_at")
                .values_list("due_at", flat=True)
            )
            span = (due[-1] - due[0]).total_seconds() if len(due) > 1 else 0.0
            planned_rate = (len(due) - 1) / span if span else float("inf")
            stated = get_connector(platform).rules.send_rate_per_second
            t0 = time.perf_counter()
            queued = 0
            try:
                with transaction.atomic():
                    queued = services.send_due(
                        campaign.pk, now=now + timedelta(seconds=args.window)
                    )
                    raise Rollback
            except Rollback:
                pass
            pass_s = time.perf_counter() - t0
            print(
                f"\n{platform}: audience {len(preview)}, eligible {eligible} "
                f"(left out {len(preview) - eligible})\n"
                f"  preview: {preview_s:.2f} s\n"
                f"  plan: best {min(plans):.2f} s, median {statistics.median(plans):.2f} s "
                f"over {len(plans)} runs\n"
                f"  schedule: {len(due)} turns over {span:.0f} s = {planned_rate:.3f} messages/s "
                f"(platform states {stated:.4g}/s; campaigns take "
                f"{settings.CAMPAIGN_RATE_SHARE:.0%})\n"
                f"  pass {args.window:.0f} s after the start: {queued} queued in {pass_s:.2f} s "
                f"({queued / pass_s if pass_s else 0:.0f} messages/s through queue_reply)"
            )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(DB_NAME)


if __name__ == "__main__":
    main()
