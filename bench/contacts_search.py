"""Benchmark: the contacts page's search at 100 000 contacts (issue 17: p95 ≤ 50 ms).

Creates its own PostgreSQL database (``parley_bench_contacts``, dropped at the end unless
``--keep``), migrates it (pg_trgm and the trigram indexes of ``inbox`` migration 0017), and
fills it with COPY: ``--contacts`` contacts with generated names, one identity each on one of
four accounts (Messenger, Instagram, X, LinkedIn) and a second one for every fifth contact, one
conversation per identity (a label on some), and custom attributes (plan, city) on a third of
them. Then times ``GET /contacts/?…`` through Django's test client (the whole page: search,
access filter, identities, labels, template) for an admin and for an agent whose team sees two
of the four accounts, over a mix of searches: a name fragment, a full name, a username, an
attribute value, a rare word, no match, and filters by platform, label and attribute.

    .venv/bin/python bench/contacts_search.py
    .venv/bin/python bench/contacts_search.py --contacts 20000 --runs 10 --keep

Only 127.0.0.1 traffic. Bounded: sizes are arguments, each case runs ``--runs`` times.
"""

from __future__ import annotations

import argparse
import json
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

from bench.common import django_in_process, percentile  # noqa: E402

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "parley_bench_contacts"
NOW = datetime.now(tz=UTC)
FIRST = [
    "Maya",
    "Sam",
    "Rui",
    "Kim",
    "Lena",
    "Ana",
    "Omar",
    "Ines",
    "Yuki",
    "Tom",
    "Eva",
    "Noah",
    "Lea",
    "Ivan",
    "Sara",
    "Leo",
    "Mia",
    "Ali",
    "Zoe",
    "Hugo",
    "Nina",
    "Paul",
    "Ada",
    "Max",
    "Lucia",
    "Jonas",
    "Aisha",
    "Mateo",
    "Chloe",
    "Arjun",
]
LAST = [
    "Thompson",
    "Costa",
    "Park",
    "Berg",
    "Duarte",
    "Haddad",
    "Tanaka",
    "Muller",
    "Rossi",
    "Novak",
    "Silva",
    "Dubois",
    "Khan",
    "Garcia",
    "Nguyen",
    "Kowalski",
    "Jensen",
    "Moreau",
    "Ivanova",
    "Santos",
    "Weber",
    "Larsen",
    "Fischer",
    "Okafor",
    "Lopez",
    "Petit",
]
CITIES = [
    "Lyon",
    "Porto",
    "Berlin",
    "Madrid",
    "Oslo",
    "Lisbon",
    "Paris",
    "Rome",
    "Vienna",
    "Dublin",
]
PLATFORMS = ["messenger", "instagram", "x", "linkedin"]


def _admin(sql: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _copy(conn: psycopg.Connection, table: str, columns: list[str], rows) -> int:
    count = 0
    with (
        conn.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _columns(model, overrides: dict) -> tuple[list[str], list]:
    """Every concrete column but the id, with the field's default unless overridden (COPY
    needs a value for each NOT NULL column; Django's defaults are not the database's)."""
    columns, defaults = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.name in overrides or field.column in overrides:
            defaults.append(None)
            continue
        value = field.get_default() if field.has_default() else None
        if value is None and not field.null:
            value = ""
        if isinstance(value, dict | list):
            value = json.dumps(value)
        defaults.append(value)
    return columns, defaults


def _rows(columns: list[str], defaults: list, rows):
    """Each row as a full tuple: ``rows`` yields {column: value} for the columns that vary."""
    index = {c: i for i, c in enumerate(columns)}
    for values in rows:
        row = list(defaults)
        for column, value in values.items():
            row[index[column]] = value
        yield row


def fill(contacts: int) -> dict:
    from contacts.models import AttributeDefinition
    from inbox.models import Contact, ContactIdentity, Conversation, Label, PlatformAccount

    rng = random.Random(17)
    accounts = [
        PlatformAccount.objects.create(
            platform=p, name=f"Shop on {p}", external_id=f"shop-{p}", credentials={}
        ).pk
        for p in PLATFORMS
    ]
    AttributeDefinition.objects.create(
        key="plan", label="Plan", type="choice", choices=["free", "pro", "platinum"]
    )
    AttributeDefinition.objects.create(key="city", label="City", type="text")
    labels = [Label.objects.create(name=n).pk for n in ("refund", "vip", "bug", "shipping")]
    url = f"{SERVER}/{DB_NAME}"
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        columns, defaults = _columns(Contact, {"name", "attributes", "created_at"})

        def people():
            for n in range(contacts):
                attributes = {}
                if n % 3 == 0:
                    attributes = {
                        "plan": rng.choice(["free", "pro", "platinum"]),
                        "city": rng.choice(CITIES),
                    }
                yield {
                    "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "attributes": json.dumps(attributes),
                    "created_at": NOW - timedelta(minutes=contacts - n),
                }

        _copy(conn, "inbox_contact", columns, _rows(columns, defaults, people()))
        first_id = conn.execute("SELECT min(id) FROM inbox_contact").fetchone()[0]
        conn.commit()

        columns, defaults = _columns(
            ContactIdentity, {"contact", "account", "platform_user_id", "username", "name"}
        )

        def identities():
            for n in range(contacts):
                count = 2 if n % 5 == 0 else 1
                for k in range(count):
                    yield {
                        "contact_id": first_id + n,
                        "account_id": accounts[(n + k) % 4],
                        "platform_user_id": f"u{n}-{k}",
                        "username": f"{rng.choice(FIRST).lower()}_{n}" if k == 0 else f"c{n}",
                        "name": "",
                    }

        _copy(conn, "inbox_contactidentity", columns, _rows(columns, defaults, identities()))
        conn.commit()
        pairs = conn.execute(
            "SELECT id, contact_id, account_id FROM inbox_contactidentity ORDER BY id"
        ).fetchall()
        columns, defaults = _columns(
            Conversation,
            {"account", "contact", "last_activity_at", "created_at", "last_message_preview"},
        )

        def threads():
            for _identity, contact, account in pairs:
                yield {
                    "account_id": account,
                    "contact_id": contact,
                    "last_activity_at": NOW,
                    "created_at": NOW,
                    "last_message_preview": "hello",
                }

        _copy(conn, "inbox_conversation", columns, _rows(columns, defaults, threads()))
        conn.commit()
        conn.execute(
            "INSERT INTO inbox_conversation_participants (conversation_id, contactidentity_id) "
            "SELECT c.id, i.id FROM inbox_conversation c JOIN inbox_contactidentity i "
            "ON i.contact_id = c.contact_id AND i.account_id = c.account_id"
        )
        conn.execute(
            "INSERT INTO inbox_conversation_labels (conversation_id, label_id) "
            "SELECT id, %s FROM inbox_conversation WHERE id %% 20 = 0",
            [labels[0]],
        )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(
        f"  {contacts} contacts, {len(pairs)} identities and conversations in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return {"accounts": accounts, "labels": labels}


def database_ms(user, filters) -> float:
    """What the search's queries cost inside PostgreSQL (planning and execution, from EXPLAIN
    ANALYZE): the part the indexes decide, least moved by other processes on the cores."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contacts import selectors

    with CaptureQueriesContext(connection) as captured:
        selectors.page(user, filters)
    total = 0.0
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
            plan = cursor.fetchone()[0][0]
            total += plan["Planning Time"] + plan["Execution Time"]
    return total


CASES = [
    ("name fragment", "q=thomp"),
    ("full name", "q=maya+costa"),
    ("username", "q=@lena_12"),
    ("attribute value", "q=platinum"),
    ("rare word", "q=okafor"),
    ("no match", "q=zzzqqq"),
    ("platform filter", "platform=instagram"),
    ("label filter", "label={label}"),
    ("attribute filter", "attr=city&attr_value=Porto"),
    ("search + platform", "q=silva&platform=x"),
    ("first page, no search", ""),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    django_in_process(DB_NAME, SERVER)
    from django.core.management import call_command
    from django.http import QueryDict
    from django.test import Client

    from contacts import selectors
    from inbox.models import Team, User

    try:
        call_command("migrate", verbosity=0)
        print(f"Filling {args.contacts} contacts")
        data = fill(args.contacts)
        admin = User.objects.create(username="bench-admin", role="admin", is_superuser=True)
        agent = User.objects.create(username="bench-agent", role="agent")
        team = Team.objects.create(name="Half")
        team.members.add(agent)
        team.accounts.add(*data["accounts"][:2])
        pages: list[float] = []
        searches: list[float] = []
        database: list[float] = []
        print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores)")
        print(
            "GET /contacts/?… through Django's test client (the whole page), and the search "
            "alone (contacts.selectors.page: matches, access, identities, labels), in ms:"
        )
        for who in (admin, agent):
            client = Client()
            client.force_login(who)
            for name, query in CASES:
                query = query.format(label=data["labels"][0])
                filters = selectors.ContactFilters.from_query(QueryDict(query))
                client.get(f"/contacts/?{query}")  # warm-up
                page_ms, search_ms = [], []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    response = client.get(f"/contacts/?{query}")
                    page_ms.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200
                    started = time.perf_counter()
                    rows, _next = selectors.page(who, filters)
                    search_ms.append((time.perf_counter() - started) * 1000)
                pages += page_ms
                if query:
                    searches += search_ms
                server = database_ms(who, filters)
                if query:
                    database += [server]
                print(
                    f"  {who.username:12} {name:22} page p50 {statistics.median(page_ms):6.1f}"
                    f" p95 {percentile(page_ms, 95):6.1f} | search p50"
                    f" {statistics.median(search_ms):5.1f} p95 {percentile(search_ms, 95):5.1f}"
                    f" | in PostgreSQL {server:5.2f}  ({len(rows)} rows)"
                )
        print(
            f"Pages: p50 {statistics.median(pages):.1f} ms, p95 {percentile(pages, 95):.1f} ms "
            f"over {len(pages)} requests. Searches and filters alone: p50 "
            f"{statistics.median(searches):.1f} ms, p95 {percentile(searches, 95):.1f} ms "
            f"(target p95 ≤ 50 ms). In PostgreSQL (planning + execution of the search's "
            f"queries, EXPLAIN ANALYZE): max {max(database):.2f} ms. "
            f"Load average after: {os.getloadavg()[0]:.1f}"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
