"""Benchmark: account health in the settings area at scale — the accounts list and the admins'
banner (shown on every admin page) over a large webhook archive and many sends.

Creates its own PostgreSQL database (``parley_bench_admin``, dropped at the end unless
``--keep``), migrates it, and fills it with COPY: ``--accounts`` sandbox accounts, ``--webhooks``
archived deliveries spread over the last 7 days (half of them today, most on a few busy
accounts), and ``--sends`` outbound messages (some accounts have none: the worst case for
"the last sends" without an index). Then times, in process, ``accounts_health()`` (the list:
health, last event, events today) and ``unhealthy_accounts()`` (the banner), and the list page
``GET /settings/accounts/`` through Django's test client.

    .venv/bin/python bench/admin_health.py
    .venv/bin/python bench/admin_health.py --webhooks 200000 --keep

Only 127.0.0.1 traffic. Bounded: sizes are arguments, each timing runs ``--runs`` times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import django_in_process  # noqa: E402

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "parley_bench_admin"
NOW = datetime.now(tz=UTC)


def _admin(sql: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _copy(conn: psycopg.Connection, table: str, columns: list[str], rows) -> int:
    count = 0
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with conn.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def fill(accounts: int, webhooks: int, sends: int) -> None:
    from inbox.models import PlatformAccount

    url = f"{SERVER}/{DB_NAME}"
    account_ids = [
        PlatformAccount.objects.create(
            platform="sandbox",
            name=f"Account {n}",
            external_id=f"bench-{n}",
            credentials={"secret": "bench"},
            last_event_at=NOW - timedelta(minutes=1),
        ).pk
        for n in range(accounts)
    ]
    with psycopg.connect(url) as conn:
        busy = account_ids[:3]
        body = b'{"id": "m", "sender": {"id": "u"}, "text": "hello"}'

        def deliveries():
            for i in range(webhooks):
                # Half today, the rest over the week; 80 % on the three busy accounts.
                account = busy[i % 3] if i % 5 else account_ids[i % len(account_ids)]
                age = (
                    timedelta(seconds=(i * 7) % 43_000)
                    if i % 2
                    else timedelta(seconds=(i * 13) % (7 * 86_400))
                )
                yield (
                    "sandbox",
                    account,
                    "{}",
                    body,
                    True,
                    "processed",
                    "",
                    NOW - age,
                    0,
                )

        started = time.perf_counter()
        _copy(
            conn,
            "inbox_webhookevent",
            [
                "source",
                "account_id",
                "headers",
                "body",
                "signature_valid",
                "outcome",
                "error",
                "received_at",
                "attempts",
            ],
            deliveries(),
        )
        print(f"  {webhooks} deliveries copied in {time.perf_counter() - started:.1f} s")
    # Few rows with many defaults: the ORM fills what the schema requires.
    from inbox.models import Contact, Conversation, Message

    contact = Contact.objects.create(name="Bench")
    senders = account_ids[: max(1, len(account_ids) // 2)]  # half the accounts never send
    conversations = {
        account: Conversation.objects.create(account_id=account, contact=contact).pk
        for account in senders
    }
    started = time.perf_counter()
    Message.objects.bulk_create(
        (
            Message(
                conversation_id=conversations[senders[i % len(senders)]],
                account_id=senders[i % len(senders)],
                direction="outbound",
                sender_kind="agent",
                text="reply",
                status="sent",
            )
            for i in range(sends)
        ),
        batch_size=5000,
    )
    print(f"  {sends} outbound messages created in {time.perf_counter() - started:.1f} s")
    with psycopg.connect(url, autocommit=True) as conn:
        # The steady state autovacuum keeps: statistics and the visibility map (index-only scans).
        conn.execute("VACUUM ANALYZE")


def timed(label: str, runs: int, work) -> None:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p90 = samples[int(len(samples) * 0.9) - 1] if len(samples) >= 10 else samples[-1]
    print(f"  {label}: median {statistics.median(samples):.1f} ms, p90 {p90:.1f} ms ({runs} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--webhooks", type=int, default=1_000_000)
    parser.add_argument("--sends", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    django_in_process(DB_NAME, SERVER)
    from django.core.management import call_command
    from django.test import Client

    from inbox.models import User
    from inbox.settings_area import health

    try:
        call_command("migrate", verbosity=0)
        print(f"Filling: {args.accounts} accounts, {args.webhooks} deliveries, {args.sends} sends")
        fill(args.accounts, args.webhooks, args.sends)
        admin = User.objects.create(username="bench-admin", role="admin", is_superuser=True)
        client = Client()
        client.force_login(admin)
        print("Timings (in process, PostgreSQL on 127.0.0.1):")
        timed("accounts_health() — the list", args.runs, health.accounts_health)
        timed("unhealthy_accounts() — the banner", args.runs, health.unhealthy_accounts)
        timed(
            "GET /settings/accounts/ (page, banner included)",
            args.runs,
            lambda: client.get("/settings/accounts/"),
        )
        states = {}
        for h in health.accounts_health():
            states[h.state] = states.get(h.state, 0) + 1
        print(
            f"  states: {states}; busy account today: {health.accounts_health()[0].events_today_text}"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin(f"DROP DATABASE IF EXISTS {DB_NAME}")


if __name__ == "__main__":
    sys.exit(main())
