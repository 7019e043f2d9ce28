"""Benchmark: the live dashboard — webhook POST to the message in the agent's DOM, and the inbox
list's server time over 100 000 conversations.

Creates its own PostgreSQL database (``parley_bench_dashboard``, dropped at the end unless
``--keep``), migrates it and generates accounts, contacts, conversations and messages with COPY.

1. **List**: the inbox view (``GET /`` through Django's test client, in process: selectors,
   unread counts, template) for an admin and for an agent who sees half of the accounts, at
   page 1 and at a deep page (row 25 000, keyset cursor), per view, sort and a search.
2. **Live**: uvicorn + a Celery worker (Redis) + headless Chromium. The agent has a conversation
   open; each of ``--messages`` signed sandbox webhooks is POSTed and timed until its text is in
   the thread's DOM (a MutationObserver stamps arrival with the page's clock; same machine).

    .venv/bin/python bench/dashboard.py
    .venv/bin/python bench/dashboard.py --conversations 20000 --messages 200 --keep

Only 127.0.0.1 traffic. Bounded: sizes are arguments; the live phase stops after 5 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_processes(port: int, logs: list) -> list[subprocess.Popen]:
    # The web process uses psycopg's pool, as production does.
    env = dict(os.environ, DEBUG="0", PYTHONUNBUFFERED="1", DATABASE_POOL="1")
    web = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "parley.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--lifespan", "off"],
        cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT,
    )  # fmt: skip
    # Queues split by kind (DESIGN: Scale): one worker for ingest, one for everything else, so
    # the chatbot and SLA work a message triggers never delays the next message's ingestion.
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "parley",
                "worker",
                "-P",
                "solo",
                "-Q",
                queues,
                "-l",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"bench-{name}-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=logs[1],
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        for name, queues in (("ingest", "ingest"), ("rest", "default,delivery,chatbot,sla,media"))
    ]
    return [web, *workers]


def sign_and_post(session, url: str, account, body: bytes) -> None:
    from tests.helpers import sandbox_headers

    response = session.post(
        f"{url}/webhooks/sandbox/{account.pk}/",
        data=body,
        headers=sandbox_headers("bench-secret", body),
        timeout=10,
    )
    response.raise_for_status()


def body(text: str) -> bytes:
    return json.dumps(
        {
            "id": f"bench-live-{uuid.uuid4().hex}",
            "sender": {"id": "bench-live-customer", "name": "Live Customer"},
            "text": text,
            "timestamp": int(time.time() * 1000),
        }
    ).encode()


OBSERVER = """
() => {
  window.__arrivals = {};
  window.__events = [];
  document.addEventListener('parley:event', (e) => {
    if (e.detail.type === 'inbox.message_received') {
      window.__events.push(performance.timeOrigin + performance.now());
    }
  });
  const thread = document.getElementById('thread');
  new MutationObserver((records) => {
    const now = performance.timeOrigin + performance.now();
    for (const record of records) for (const node of record.addedNodes) {
      if (node.nodeType !== 1) continue;
      const match = (node.textContent || '').match(/bench-marker-(\\d+)/);
      if (match && !(match[1] in window.__arrivals)) window.__arrivals[match[1]] = now;
    }
  }).observe(thread, { childList: true, subtree: true });
}
"""


def run_live(url: str, data: dict, messages: int, processes, deadline: float) -> list[float]:
    import requests
    from playwright.sync_api import sync_playwright

    from inbox.models import Conversation

    try:
        for _ in range(300):
            try:
                if requests.get(f"{url}/login/", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        account = data["accounts"][0]
        session = requests.Session()
        sign_and_post(session, url, account, body("hello, first message"))
        start = time.monotonic()
        while not Conversation.objects.filter(contact__name="Live Customer").exists():
            if time.monotonic() - start > 30:
                raise RuntimeError("the worker did not process the first webhook")
            time.sleep(0.05)
        conversation = Conversation.objects.get(contact__name="Live Customer")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"],
            )  # fmt: skip
            page = browser.new_page()
            page.goto(f"{url}/login/")
            page.fill("input[name=username]", data["agent"].username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#live-status[data-state=live]")
            page.goto(f"{url}/conversations/{conversation.pk}/")
            page.wait_for_selector("#live-status[data-state=live]")
            page.evaluate(OBSERVER)
            latencies, to_socket = [], []
            for i in range(messages):
                if time.monotonic() > deadline:
                    log("  live phase stopped at its 5-minute bound")
                    break
                payload = body(f"bench-marker-{i} where is my parcel?")
                sent_at = time.time() * 1000
                sign_and_post(session, url, account, payload)
                page.wait_for_function(
                    "(i) => window.__arrivals && (i in window.__arrivals)",
                    arg=str(i),
                    timeout=15000,
                )
                arrived, event_at = page.evaluate(
                    "(i) => [window.__arrivals[i], window.__events[window.__events.length - 1]]",
                    str(i),
                )
                latencies.append(arrived - sent_at)
                if event_at and sent_at <= event_at <= arrived:
                    to_socket.append(event_at - sent_at)
            browser.close()
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    if to_socket:
        log(
            f"  of which POST → socket event in the page: p50 {percentile(to_socket, 50):.0f} ms,"
            f" p95 {percentile(to_socket, 95):.0f} ms, p99 {percentile(to_socket, 99):.0f} ms"
        )
    return latencies


def bench_live(data: dict, messages: int) -> dict:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    deadline = time.monotonic() + 300
    with (
        open(artifacts / "bench-uvicorn.log", "wb") as web_log,
        open(artifacts / "bench-worker.log", "wb") as worker_log,
    ):
        processes = start_processes(port, [web_log, worker_log])
        latencies = run_live(url, data, messages, processes, deadline)
    result = {
        "count": len(latencies),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
    }
    log(
        f"  webhook POST → agent's DOM over {result['count']} messages: p50 {result['p50']:.0f} ms,"
        f" p95 {result['p95']:.0f} ms, p99 {result['p99']:.0f} ms, max {result['max']:.0f} ms"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30, help="timed requests per list case")
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--skip-list", action="store_true")
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
        if not args.skip_list:
            log(f"inbox list, {args.runs} timed requests per case (server time, in process):")
            bench_list(data, args.runs)
        if not args.skip_live:
            log(f"live: {args.messages} webhooks, each timed until it is in the open thread:")
            bench_live(data, args.messages)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            with admin_connection() as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
