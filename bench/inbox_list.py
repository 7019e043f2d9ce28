# ruff: noqa: S608 - the seeding SQL is built from the script's own constants and ids
"""Benchmark: the inbox list at 1 000 000 conversations, every filter, page 1 and a deep page.

Seeds its own database ``parley_bench_list`` in SQL (``generate_series``: 1 M contacts,
identities, conversations and messages, 300 000 label links; about a minute) unless
``--reuse`` finds it seeded, then times ``GET /`` — the real list view, selectors and rows —
through Django's test client in process (server time: no network, no browser), for an admin
(8 accounts on 4 platforms) and an agent whose team sees 2 of them, per filter: status,
assignee (mine / unassigned), team, label, platform, account, priority, search, sort, and at row
25 000 (the keyset cursor 500 "older" clicks reach).

The floor, measured in the same run through the same client, session and middleware: a view
that answers 200 with no query of its own (``bench/meta_floor_urls.py``). Each case prints p50 /
p95 / max, its queries, and p95 over the floor's p95.

    .venv/bin/python bench/inbox_list.py [--conversations 1000000] [--runs 30] [--reuse] [--keep]

Only 127.0.0.1. Bounded by the sizes given.
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

from bench.common import admin_sql, percentile  # noqa: E402

DB_NAME = "parley_bench_list"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
os.environ.update(
    {
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": "redis://127.0.0.1:6379/3",
        "SECRET_KEY": "bench-only-secret-key",
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "DEBUG": "0",
        "DATABASE_POOL": "0",
        # The floor view (no query) sits beside Parley's URLs.
        "DJANGO_SETTINGS_MODULE": "bench.meta_floor_settings",
        # Static files from the source folders (no collectstatic step; not on a timed path).
        "PARLEY_TESTING": "1",
    }
)
PLATFORMS = ("messenger", "instagram", "x", "sandbox")
WORDS = "order coat size refund delivery parcel green blue jacket return exchange invoice late broken gift wool"
FIRST = "Ada Ben Chloe Dan Eva Finn Grace Hugo Iris Jack Kim Liam Mia Noah Olga Paul"
LAST = "Smith Jones Brown Taylor Wilson Davies Evans Thomas Roberts Walker Wright Hall"


def log(message: str) -> None:
    print(message, flush=True)


def seeded() -> bool:
    import psycopg

    try:
        with psycopg.connect(DATABASE_URL) as conn:
            return conn.execute("SELECT count(*) > 0 FROM inbox_conversation").fetchone()[0]
    except psycopg.Error:
        return False


def seed(conversations: int) -> None:
    """Accounts, teams, users and labels by the ORM; the million rows by SQL."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from inbox.models import Label, PlatformAccount, Team, User

    accounts = [
        PlatformAccount.objects.create(
            platform=PLATFORMS[i % 4], name=f"Shop {i}", external_id=f"bench-{i}"
        )
        for i in range(8)
    ]
    teams = [Team.objects.create(name=f"Team {i}") for i in range(4)]
    for i, team in enumerate(teams):
        team.accounts.add(accounts[2 * i], accounts[2 * i + 1])
    User.objects.create(
        username="bench-admin", role="admin", is_superuser=True, password=make_password("x")
    )
    agent = User.objects.create(username="bench-agent", first_name="Alice")
    agents = [agent] + [User.objects.create(username=f"agent-{i}") for i in range(39)]
    for i, user in enumerate(agents):
        teams[i % 4].members.add(user)
    labels = [Label.objects.create(name=f"label-{i}", color="#336699") for i in range(20)]
    account_ids = "ARRAY[" + ",".join(str(a.pk) for a in accounts) + "]::bigint[]"
    team_of = "ARRAY[" + ",".join(str(teams[i // 2].pk) for i in range(8)) + "]::bigint[]"
    user_ids = "ARRAY[" + ",".join(str(u.pk) for u in agents) + "]::bigint[]"
    label_ids = "ARRAY[" + ",".join(str(label.pk) for label in labels) + "]::bigint[]"
    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS.split()) + "]"
    first = "ARRAY[" + ",".join(f"'{w}'" for w in FIRST.split()) + "]"
    last = "ARRAY[" + ",".join(f"'{w}'" for w in LAST.split()) + "]"
    n = int(conversations)
    statements = [
        "SELECT setseed(0.5)",
        f"""INSERT INTO inbox_contact (id, name, avatar_url, marketing_consent,
                marketing_consent_source, created_at, attributes)
            SELECT g, ({first})[1 + g % 16] || ' ' || ({last})[1 + (g / 16) % 12] || ' ' || g,
                   '', 'unknown', '', now(), '{{}}'
            FROM generate_series(1, {n}) g""",
        f"""INSERT INTO inbox_contactidentity (id, platform_user_id, username, name, avatar_url,
                contact_id, account_id)
            SELECT g, 'user-' || g, 'customer' || g, '', '', g, ({account_ids})[1 + g % 8]
            FROM generate_series(1, {n}) g""",
        # Statuses 60 % open, 15 % pending, 5 % snoozed, 20 % resolved; activity over a year;
        # a third unassigned; half the open ones waiting for a reply.
        f"""INSERT INTO inbox_conversation (id, kind, subject, status, snoozed_until, priority,
                last_inbound_at, last_message_at, last_activity_at, waiting_since,
                last_message_preview, bot_enabled, metadata, created_at, contact_id, account_id,
                assignee_id, team_id, sla_status, sla_timers, is_test)
            SELECT g, 'dm', '', s.status,
                   CASE WHEN s.status = 'snoozed' THEN now() + interval '1 day' END,
                   ((g / 8) % 4), s.at, s.at, s.at,
                   CASE WHEN s.status = 'open' AND g % 2 = 0 THEN s.at END,
                   s.text, true, '{{}}', s.at, g, ({account_ids})[1 + g % 8],
                   CASE WHEN g % 3 = 0 THEN NULL ELSE ({user_ids})[1 + (g / 3) % 40] END,
                   CASE WHEN g % 5 = 0 THEN NULL ELSE ({team_of})[1 + g % 8] END,
                   '', '{{}}', false
            FROM generate_series(1, {n}) g,
                 LATERAL (SELECT
                     CASE WHEN r < 0.60 THEN 'open' WHEN r < 0.75 THEN 'pending'
                          WHEN r < 0.80 THEN 'snoozed' ELSE 'resolved' END AS status,
                     now() - (r2 * interval '365 days') AS at,
                     ({words})[1 + (g * 7) % 16] || ' ' || ({words})[1 + (g * 13) % 16] || ' '
                       || ({words})[1 + (g * 3) % 16] || ' ' || ({words})[1 + (g / 5) % 16]
                       AS text
                     FROM (SELECT random() AS r, random() AS r2, g AS gg) x) s""",
        f"""INSERT INTO inbox_conversation_participants (conversation_id, contactidentity_id)
            SELECT g, g FROM generate_series(1, {n}) g""",
        """INSERT INTO inbox_message (id, direction, sender_kind, sender_identity_id,
                external_id, text, status, error, sent_outside_parley, is_promotional,
                is_deleted, metadata, sent_at, created_at, attempts, conversation_id, account_id,
                imported)
            SELECT c.id, 'inbound', 'contact', c.id, 'bench-m-' || c.id,
                   c.last_message_preview || ' please', 'received', '', false, false, false,
                   '{}', c.last_activity_at, c.last_activity_at, 0, c.id, c.account_id, false
            FROM inbox_conversation c""",
        f"""INSERT INTO inbox_conversation_labels (conversation_id, label_id)
            SELECT g, ({label_ids})[1 + (g / 10) % 20]
            FROM generate_series(1, {n}) g WHERE g % 10 < 3""",
    ]
    for table in ("inbox_contact", "inbox_contactidentity", "inbox_conversation", "inbox_message"):
        statements.append(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
        )
    with connection.cursor() as cursor:
        for statement in statements:
            started = time.perf_counter()
            cursor.execute(statement)
            log(f"  {' '.join(statement.split()[:3])[:60]}: {time.perf_counter() - started:.1f} s")
    connection.close()
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def cases(data: dict) -> list[tuple[str, str]]:
    team, label, account = data["team"], data["label"], data["account"]
    return [
        ("open, last activity", "view=all"),
        ("any status", "view=all&status=any"),
        ("pending", "view=all&status=pending"),
        ("snoozed", "view=all&status=snoozed"),
        ("resolved", "view=all&status=resolved"),
        ("mine", "view=mine"),
        ("unassigned", "view=unassigned"),
        ("team", f"view=all&team={team}"),
        ("label", f"view=all&label={label}"),
        ("label, any status", f"view=all&status=any&label={label}"),
        ("platform instagram", "view=all&platform=instagram"),
        ("account", f"view=all&account={account}"),
        ("priority urgent", "view=all&priority=3"),
        ("waiting longest", "view=all&sort=waiting"),
        ("search 'refund coat'", "view=all&q=refund+coat"),
        ("search a name 'grace'", "view=all&q=grace"),
        ("search, open, team", f"view=all&status=open&team={team}&q=parcel"),
    ]


def timed(client, url: str, runs: int) -> list[float]:
    for _ in range(3):
        assert client.get(url).status_code == 200
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return times


def run(runs: int, only: str, exclude: str = "") -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.dashboard import deep_cursor
    from inbox.models import Label, PlatformAccount, Team, User

    data = {
        "team": Team.objects.order_by("pk").first().pk,
        "label": Label.objects.order_by("pk").first().pk,
        "account": PlatformAccount.objects.order_by("pk").first().pk,
    }
    results = []
    for who in ("bench-admin", "bench-agent"):
        user = User.objects.get(username=who)
        client = Client()
        client.force_login(user)
        floor = timed(client, "/bench/floor/", runs)
        floor_p95 = percentile(floor, 95)
        log(
            f"{who}: floor (same client, session and middleware, no query) p50 "
            f"{statistics.median(floor):.1f} ms, p95 {floor_p95:.1f} ms"
        )
        for label, query in cases(data):
            if (only and only not in label) or (exclude and exclude in label):
                continue
            pages = [("page 1", query)]
            cursor = deep_cursor(user, query, 25_000)
            if cursor:
                pages.append(("row 25 000", f"{query}&cursor={cursor}"))
            for where, full in pages:
                times = timed(client, f"/?{full}", runs)
                with CaptureQueriesContext(connection) as queries:
                    client.get(f"/?{full}")
                slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
                result = {
                    "who": who,
                    "case": f"{label}, {where}",
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(percentile(times, 95), 1),
                    "max_ms": round(max(times), 1),
                    "queries": len(queries),
                    "slowest_query_ms": round(float(slowest["time"]) * 1000, 1),
                    "floor_p95_ms": round(floor_p95, 1),
                    "ratio_to_floor": round(percentile(times, 95) / floor_p95, 1),
                }
                results.append(result)
                log(json.dumps(result))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep a seeded database as it is")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--only", default="", help="only the cases whose name contains this")
    parser.add_argument("--exclude", default="", help="skip the cases whose name contains this")
    parser.add_argument("--seed-only", action="store_true")
    args = parser.parse_args()

    fresh = not (args.reuse and seeded())
    if fresh:
        admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin_sql(f'CREATE DATABASE "{DB_NAME}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        if fresh:
            log(f"seeding {args.conversations} conversations…")
            started = time.perf_counter()
            seed(args.conversations)
            log(f"seeded in {time.perf_counter() - started:.0f} s")
        if not args.seed_only:
            results = run(args.runs, args.only, args.exclude)
            worst = max(results, key=lambda r: r["p95_ms"])
            log(
                f"worst p95: {worst['p95_ms']} ms ({worst['who']}, {worst['case']}); "
                f"{sum(r['p95_ms'] <= 50 for r in results)} of {len(results)} cases ≤ 50 ms; "
                f"load average {os.getloadavg()[0]:.1f}"
            )
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep or args.reuse):
            admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
