"""Benchmark: the inbox list's server time over 100 000 conversations (the webhook POST → DOM
latency, which this script measured too until December 2026, is ``bench/live_dom.py``'s).

Creates its own PostgreSQL database (``parley_bench_dashboard``, dropped at the end unless
``--keep``), migrates it and generates accounts, contacts, conversations and messages with COPY.

1. **List**: the inbox view (``GET /`` through Django's test client, in process: selectors,
   unread counts, template) for an admin and for an agent who sees half of the accounts, at
   page 1 and at a deep page (row 25 000, keyset cursor), per view, sort and a search.

    .venv/bin/python bench/dashboard.py
    .venv/bin/python bench/dashboard.py --conversations 20000 --keep

Only 127.0.0.1 traffic. Bounded: sizes are arguments.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "parley_bench_dashboard"
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/4")
NOW = datetime.now(tz=UTC)
PASSWORD = "bench-password-1"
WORDS = tuple(
    [
        "order",
        "coat",
        "size",
        "refund",
        "delivery",
        "parcel",
        "green",
        "blue",
        "jacket",
        "return",
        "exchange",
        "invoice",
        "late",
        "broken",
        "store",
        "hours",
        "discount",
        "voucher",
        "address",
        "tracking",
        "thanks",
        "hello",
        "please",
        "when",
        "where",
    ]
)
FIRST = tuple(
    [
        "Maya",
        "Priya",
        "Sam",
        "Alex",
        "Jordan",
        "Lee",
        "Noor",
        "Ivan",
        "Chen",
        "Ana",
        "Omar",
        "Lina",
        "Tom",
        "Eva",
        "Zoe",
    ]
)
LAST = tuple(
    [
        "Thompson",
        "Raman",
        "Lee",
        "Garcia",
        "Novak",
        "Kim",
        "Haddad",
        "Rossi",
        "Silva",
        "Okafor",
        "Berg",
    ]
)


def log(message: str) -> None:
    print(message, flush=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(f"{SERVER}/postgres", autocommit=True)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{DB_NAME}"
    os.environ["DATABASE_POOL"] = "0"
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
    # Static files from the source folders (no collectstatic step): they are not on any timed
    # path. Everything else is the production shape (DEBUG=0, PostgreSQL, Redis, a worker).
    os.environ.setdefault("PARLEY_TESTING", "1")
    # Playwright's sync API runs an event loop in this thread beside the ORM.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    import django

    django.setup()


# --- Generation -------------------------------------------------------------------------------


def copy_rows(conn: psycopg.Connection, table: str, columns: list[str], rows) -> None:
    """COPY rows in; NOT NULL columns without a default that the generator does not know
    (added by other features) get a neutral value of their type."""
    info = conn.execute(
        "SELECT column_name, data_type, is_nullable, column_default FROM "
        "information_schema.columns WHERE table_name = %s",
        [table],
    ).fetchall()
    neutral = {
        "boolean": False,
        "integer": 0,
        "smallint": 0,
        "bigint": 0,
        "jsonb": "{}",
        "text": "",
        "character varying": "",
        "timestamp with time zone": NOW,
        "double precision": 0.0,
    }
    extra = [
        (name, neutral.get(kind, ""))
        for name, kind, nullable, default in info
        if nullable == "NO" and default is None and name not in columns and name != "id"
    ]
    names = columns + [name for name, _ in extra]
    tail = tuple(value for _, value in extra)
    with conn.cursor().copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row) + tail)


def generate(conversations: int) -> dict:
    from django.contrib.auth.hashers import make_password

    from inbox.models import PlatformAccount, Team, User

    rng = random.Random(5)
    accounts = [
        PlatformAccount.objects.create(
            platform="sandbox",
            name=f"Shop {i}",
            external_id=f"bench-{i}",
            credentials={"secret": "bench-secret"},
        )
        for i in range(4)
    ]
    team = Team.objects.create(name="Support")
    team.accounts.add(*accounts[:2])  # the agent sees half of the accounts
    admin = User.objects.create(
        username="bench-admin", role="admin", is_superuser=True, password=make_password(PASSWORD)
    )
    agent = User.objects.create(
        username="bench-agent", first_name="Alice", password=make_password(PASSWORD)
    )
    others = [User.objects.create(username=f"agent-{i}") for i in range(8)]
    team.members.add(agent, *others)
    assignees = [agent.pk] + [u.pk for u in others] + [None] * 4
    account_ids = [a.pk for a in accounts]

    url = f"{SERVER}/{DB_NAME}"
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        contact_base = conn.execute("SELECT COALESCE(MAX(id), 0) FROM inbox_contact").fetchone()[0]
        copy_rows(
            conn,
            "inbox_contact",
            [
                "id",
                "name",
                "avatar_url",
                "marketing_consent",
                "marketing_consent_source",
                "created_at",
            ],
            (
                (
                    contact_base + i + 1,
                    f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "",
                    "unknown",
                    "",
                    NOW,
                )
                for i in range(conversations)
            ),
        )
        copy_rows(
            conn,
            "inbox_contactidentity",
            [
                "id",
                "contact_id",
                "account_id",
                "platform_user_id",
                "username",
                "name",
                "avatar_url",
            ],
            (
                (
                    i + 1,
                    contact_base + i + 1,
                    account_ids[i % 4],
                    f"user-{i}",
                    f"customer{i}",
                    "",
                    "",
                )
                for i in range(conversations)
            ),
        )
        statuses = ["open"] * 12 + ["pending"] * 3 + ["snoozed"] + ["resolved"] * 4
        conv_rows, msg_rows, participant_rows = [], [], []
        for i in range(conversations):
            at = NOW - timedelta(seconds=rng.randint(60, 365 * 86400))
            status = rng.choice(statuses)
            waiting = at if status == "open" and rng.random() < 0.5 else None
            text = " ".join(rng.choice(WORDS) for _ in range(8))
            conv_rows.append(
                (
                    i + 1,
                    account_ids[i % 4],
                    "dm",
                    contact_base + i + 1,
                    "",
                    status,
                    NOW + timedelta(days=1) if status == "snoozed" else None,
                    rng.choice(assignees),
                    team.pk if i % 4 < 2 else None,
                    rng.choice([0, 1, 1, 1, 2, 3]),
                    at,
                    at,
                    at,
                    waiting,
                    text[:200],
                    True,
                    "{}",
                    at,
                )
            )
            msg_rows.append(
                (
                    i + 1,
                    i + 1,
                    account_ids[i % 4],
                    "inbound",
                    "contact",
                    i + 1,
                    f"bench-m-{i}",
                    text,
                    "received",
                    "",
                    False,
                    False,
                    False,
                    "{}",
                    at,
                    at,
                    0,
                )
            )
            participant_rows.append((i + 1, i + 1))
        copy_rows(
            conn,
            "inbox_conversation",
            [
                "id",
                "account_id",
                "kind",
                "contact_id",
                "subject",
                "status",
                "snoozed_until",
                "assignee_id",
                "team_id",
                "priority",
                "last_inbound_at",
                "last_message_at",
                "last_activity_at",
                "waiting_since",
                "last_message_preview",
                "bot_enabled",
                "metadata",
                "created_at",
            ],
            conv_rows,
        )
        copy_rows(
            conn,
            "inbox_conversation_participants",
            ["conversation_id", "contactidentity_id"],
            participant_rows,
        )
        copy_rows(
            conn,
            "inbox_message",
            [
                "id",
                "conversation_id",
                "account_id",
                "direction",
                "sender_kind",
                "sender_identity_id",
                "external_id",
                "text",
                "status",
                "error",
                "sent_outside_parley",
                "is_promotional",
                "is_deleted",
                "metadata",
                "sent_at",
                "created_at",
                "attempts",
            ],
            msg_rows,
        )
        for table in (
            "inbox_contact",
            "inbox_contactidentity",
            "inbox_conversation",
            "inbox_message",
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608 - constant table names
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        log(
            f"  generated {conversations} conversations and messages in {time.perf_counter() - start:.1f} s"
        )
    return {"admin": admin, "agent": agent, "accounts": accounts}


# --- Phase 1: the list ------------------------------------------------------------------------


def deep_cursor(user, query: str, row: int) -> str | None:
    """The keyset cursor of the page that starts after ``row`` (what 500 "older" clicks reach)."""
    from django.http import QueryDict

    from inbox import selectors

    filters = selectors.ListFilters.from_query(QueryDict(query))
    conversations = selectors.filtered_conversations(user, filters)
    if filters.sort == "waiting":
        ordered, key = conversations.order_by("waiting_since", "id"), "waiting_since"
    else:
        ordered, key = conversations.order_by("-last_activity_at", "-id"), "last_activity_at"
    last = ordered.values("id", key)[row - 1 : row].first()
    if last is None:
        return None
    return selectors._encode_cursor({"at": last[key].isoformat(), "id": last["id"]})


def bench_list(data: dict, runs: int) -> list[tuple[str, str, float, float, float, int]]:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    results = []
    cases = [
        ("open, last activity", "view=all"),
        ("any status", "view=all&status=any"),
        ("mine", "view=mine"),
        ("unassigned", "view=unassigned"),
        ("waiting longest", "view=all&sort=waiting"),
        ("search 'refund coat'", "view=all&status=any&q=refund+coat"),
    ]
    for who in ("admin", "agent"):
        client = Client()
        client.force_login(data[who])
        for label, query in cases:
            pages = [("page 1", query)]
            cursor = deep_cursor(data[who], query, 25_000)
            if cursor:
                pages.append(("row 25 000", f"{query}&cursor={cursor}"))
            for where, full_query in pages:
                for _ in range(3):
                    assert client.get(f"/?{full_query}").status_code == 200
                times, cpu = [], []
                for _ in range(runs):
                    reset_queries()
                    start, start_cpu = time.perf_counter(), time.thread_time()
                    response = client.get(f"/?{full_query}")
                    times.append((time.perf_counter() - start) * 1000)
                    # CPU of this (the web) process: less sensitive to a busy machine than
                    # wall time; the database's share is in the wall time only.
                    cpu.append((time.thread_time() - start_cpu) * 1000)
                    assert response.status_code == 200
                with CaptureQueriesContext(connection) as queries:
                    client.get(f"/?{full_query}")
                rows = response.content.count(b'class="row ')
                results.append(
                    (
                        who,
                        f"{label}, {where}",
                        statistics.median(times),
                        percentile(times, 95),
                        max(times),
                        len(queries),
                    )
                )
                log(
                    f"  {who:5} {label + ', ' + where:40} p50 {results[-1][2]:6.1f} ms  "
                    f"p95 {results[-1][3]:6.1f} ms  max {results[-1][4]:6.1f} ms  "
                    f"CPU p50 {statistics.median(cpu):5.1f} ms  {len(queries)} queries, {rows} rows"
                )
    return results


# --- Phase 2: live ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30, help="timed requests per list case")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    with admin_connection() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    try:
        setup_django()
        from django.core.management import call_command

        log("migrating…")
        call_command("migrate", verbosity=0)
        log(f"generating {args.conversations} conversations…")
        data = generate(args.conversations)
        log(f"inbox list, {args.runs} timed requests per case (server time, in process):")
        bench_list(data, args.runs)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            with admin_connection() as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
