"""Benchmark: the reports page's queries over 1 000 000 conversations and 10 000 000 messages.

Creates its own PostgreSQL database (``parley_bench_reports``, dropped at the end unless
``--keep``), migrates it, generates a year of data with COPY — contacts, conversations,
messages, labels and the report metric rows the services would have kept — then builds the
daily rollups (timed) and times every query of the reports page for the last 30 days (all, and
one platform) and for the last year (all, and one agent).

    .venv/bin/python bench/reports.py                       # the full size
    .venv/bin/python bench/reports.py --conversations 100000 --keep
    flock /tmp/parley-bench.lock .venv/bin/python bench/reports.py --reuse --keep --rollups

Only 127.0.0.1 traffic. Bounded: the sizes are arguments; each phase prints its time.
"""

from __future__ import annotations

import argparse
import math
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
DB_NAME = "parley_bench_reports"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ACCOUNTS = [
    ("messenger", "Shop Page"),
    ("messenger", "Outlet Page"),
    ("instagram", "@shop"),
    ("instagram", "@outlet"),
    ("x", "@shop_help"),
    ("x", "@outlet_help"),
    ("linkedin", "Shop Inc."),
    ("sandbox", "Sandbox"),
]
TEAMS = 4
AGENTS = 40
LABELS = ["refund", "delivery", "sizing", "complaint", "vip"]
# Each conversation: 10 messages — in, bot, in, agent, in, agent, in, in, agent, agent — so
# one bot wait and three human waits (the last agent message answers nothing new).
PATTERN = ("in", "bot", "in", "agent", "in", "agent", "in", "in", "agent", "agent")


def log(message: str) -> None:
    print(message, flush=True)


class Timer:
    def __init__(self, label: str):
        self.label = label

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        log(f"  {self.label}: {self.seconds:.1f} s")


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(f"{SERVER}/postgres", autocommit=True)


def create_database() -> None:
    with admin_connection() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database() -> None:
    with admin_connection() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def setup_django() -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{DB_NAME}"
    os.environ["DATABASE_POOL"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The rollups' days are local to the organisation's zone, the one the timed reports use.
    os.environ["ORGANISATION_TIME_ZONE"] = "Europe/London"
    import django

    django.setup()


# --- Generation -------------------------------------------------------------------------------


class Table:
    """A COPY into one table: named values per row; NOT NULL columns not given get a neutral
    value of their type, so other features' new columns do not break the generator."""

    NEUTRAL = {
        "boolean": False,
        "integer": 0,
        "smallint": 0,
        "bigint": 0,
        "double precision": 0.0,
        "jsonb": "{}",
        "text": "",
        "character varying": "",
        "timestamp with time zone": NOW,
        "date": NOW.date(),
    }

    def __init__(self, conn: psycopg.Connection, name: str, given: list[str]):
        rows = conn.execute(
            "SELECT column_name, data_type, is_nullable, column_default FROM "
            "information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [name],
        ).fetchall()
        self.extra = []
        self.extra_values = []
        for column, data_type, nullable, default in rows:
            if column in given or column == "id" or nullable == "YES" or default is not None:
                continue
            if data_type not in self.NEUTRAL:
                raise SystemExit(f"{name}.{column} ({data_type}) needs a value in the bench")
            self.extra.append(column)
            self.extra_values.append(self.NEUTRAL[data_type])
        self.name = name
        self.columns = list(given) + self.extra
        self.extra_values = tuple(self.extra_values)

    def copy_sql(self) -> str:
        return f"COPY {self.name} ({', '.join(self.columns)}) FROM STDIN"


def insert(conn: psycopg.Connection, table: str, values: dict) -> int:
    """One row (of the few small ones), with neutral values for other NOT NULL columns."""
    spec = Table(conn, table, list(values))
    row = [*values.values(), *spec.extra_values]
    sql = (
        f"INSERT INTO {table} ({', '.join(spec.columns)}) "  # noqa: S608 - script constants
        f"VALUES ({', '.join(['%s'] * len(row))}) RETURNING id"
    )
    return conn.execute(sql, row).fetchone()[0]


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0, sigma))


def without_indexes(conn: psycopg.Connection, tables: list[str]):
    """Drop secondary indexes and constraints (saved), to load fast; returns the DDL that
    puts them back."""
    restore: list[str] = []
    for table in tables:
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f', 'c')",
            [table],
        ).fetchall()
        for name, definition, kind in constraints:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            # Foreign keys come back NOT VALID: the generator made them right, and validating
            # 10^7 rows is not what this benchmark measures.
            suffix = " NOT VALID" if kind == "f" else ""
            restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}{suffix}')
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            [table, table],
        ).fetchall()
        for name, definition in indexes:
            conn.execute(f'DROP INDEX "{name}"')
            restore.insert(0, definition)
    return restore


def generate(conn: psycopg.Connection, conversations: int, messages_per: int, seed: int) -> dict:
    rng = random.Random(seed)
    figures: dict[str, float] = {}
    t_all = time.perf_counter()
    with conn.cursor() as cur:
        # Accounts, teams, users, labels: a handful of rows through plain INSERTs.
        account_ids, platforms = [], {}
        for i, (platform, name) in enumerate(ACCOUNTS):
            account = Table(conn, "inbox_platformaccount", ["platform", "name", "external_id"])
            cols = account.columns
            values = [platform, name, f"bench-{i}", *account.extra_values]
            row = cur.execute(
                f"INSERT INTO inbox_platformaccount ({', '.join(cols)}) VALUES "  # noqa: S608 - table and column names are this script's constants
                f"({', '.join(['%s'] * len(cols))}) RETURNING id",
                values,
            ).fetchone()
            account_ids.append(row[0])
            platforms[row[0]] = platform
        team_ids = [insert(conn, "inbox_team", {"name": f"Team {t}"}) for t in range(TEAMS)]
        team_of = {a: team_ids[i % TEAMS] for i, a in enumerate(account_ids)}
        for a, t in team_of.items():
            cur.execute(
                "INSERT INTO inbox_team_accounts (team_id, platformaccount_id) VALUES (%s, %s)",
                [t, a],
            )
        user = Table(
            conn,
            "inbox_user",
            [
                "username",
                "password",
                "role",
                "first_name",
                "last_name",
                "email",
                "is_superuser",
                "is_staff",
                "is_active",
                "date_joined",
            ],
        )
        agent_ids = []
        for n in range(AGENTS):
            values = [
                f"agent{n}",
                "!",
                "agent",
                f"Agent {n}",
                "",
                "",
                False,
                False,
                True,
                NOW,
                *user.extra_values,
            ]
            agent_ids.append(
                cur.execute(
                    f"INSERT INTO inbox_user ({', '.join(user.columns)}) VALUES "  # noqa: S608 - table and column names are this script's constants
                    f"({', '.join(['%s'] * len(user.columns))}) RETURNING id",
                    values,
                ).fetchone()[0]
            )
        label_ids = [insert(conn, "inbox_label", {"name": name}) for name in LABELS]
        conn.commit()

    big = [
        "inbox_contact",
        "inbox_conversation",
        "inbox_conversation_labels",
        "inbox_message",
        "inbox_conversationmetric",
        "inbox_replymetric",
        "inbox_volumehour",
    ]
    restore = without_indexes(conn, big)
    conn.commit()
    ids = {}
    for table in big:
        ids[table] = conn.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"
        ).fetchone()[0]

    contacts = Table(
        conn, "inbox_contact", ["id", "name", "avatar_url", "marketing_consent", "created_at"]
    )
    conv = Table(
        conn,
        "inbox_conversation",
        [
            "id",
            "account_id",
            "kind",
            "contact_id",
            "status",
            "assignee_id",
            "team_id",
            "priority",
            "last_inbound_at",
            "last_message_at",
            "last_activity_at",
            "created_at",
        ],
    )
    msg = Table(
        conn,
        "inbox_message",
        [
            "id",
            "conversation_id",
            "account_id",
            "direction",
            "sender_kind",
            "author_id",
            "external_id",
            "text",
            "status",
            "sent_at",
            "created_at",
        ],
    )
    metric = Table(
        conn,
        "inbox_conversationmetric",
        [
            "id",
            "conversation_id",
            "sequence",
            "account_id",
            "platform",
            "team_id",
            "agent_id",
            "opened_at",
            "first_response_at",
            "first_response_seconds",
            "first_response_business_seconds",
            "bot_first_response_at",
            "bot_first_response_seconds",
            "bot_first_response_business_seconds",
            "resolved_at",
            "resolution_seconds",
            "resolution_business_seconds",
            "messages_in",
            "messages_out",
            "bot_deflected",
            "sla_met",
            "sla_first_response_met",
            "sla_resolution_met",
            "sla_breaches",
        ],
    )
    reply = Table(
        conn,
        "inbox_replymetric",
        [
            "id",
            "opening_id",
            "conversation_id",
            "account_id",
            "platform",
            "team_id",
            "agent_id",
            "sender_kind",
            "message_id",
            "waited_from",
            "replied_at",
            "seconds",
            "business_seconds",
        ],
    )
    volume = Table(
        conn,
        "inbox_volumehour",
        [
            "id",
            "conversation_id",
            "hour",
            "account_id",
            "platform",
            "team_id",
            "agent_id",
            "messages_in",
            "messages_out",
        ],
    )
    labels = Table(conn, "inbox_conversation_labels", ["id", "conversation_id", "label_id"])

    start = NOW - timedelta(days=365)
    span = (NOW - start).total_seconds() - 86400  # leave the last day for replies to land
    counts = dict.fromkeys(big, 0)
    contact_base = ids["inbox_contact"]

    with Timer("contacts (COPY)") as t:
        with conn.cursor().copy(contacts.copy_sql()) as copy:
            for i in range(conversations):
                copy.write_row(
                    (
                        contact_base + i,
                        f"Customer {i}",
                        "",
                        "unknown",
                        start,
                        *contacts.extra_values,
                    )
                )
        counts["inbox_contact"] = conversations
    figures["contacts_s"] = t.seconds

    with Timer("conversations, messages, labels and metric rows (COPY)") as t:
        _stream_all(
            conversations=conversations,
            rng=rng,
            start=start,
            span=span,
            account_ids=account_ids,
            platforms=platforms,
            team_of=team_of,
            agent_ids=agent_ids,
            label_ids=label_ids,
            tables={
                "conv": conv,
                "msg": msg,
                "metric": metric,
                "reply": reply,
                "volume": volume,
                "labels": labels,
            },
            ids=ids,
            counts=counts,
        )
    figures["conversations_messages_metrics_s"] = t.seconds
    figures["rows"] = counts
    with Timer("indexes and constraints rebuilt") as t:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for statement in restore:
            conn.execute(statement)
        for table in big:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - table and column names are this script's constants
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        conn.commit()
    figures["indexes_s"] = t.seconds
    # VACUUM as autovacuum would on rows this old: it sets the visibility map that lets the
    # report queries scan the covering indexes without visiting the heap.
    with Timer("VACUUM ANALYZE") as t:
        conn.autocommit = True
        for table in big:
            conn.execute(f"VACUUM ANALYZE {table}")
        conn.autocommit = False
    figures["generate_total_s"] = time.perf_counter() - t_all
    return figures


TEXTS = ("Hi, where is my order?", "Thanks!", "Can I change the size?", "Order #12345")


def _stream_all(
    *,
    conversations,
    rng,
    start,
    span,
    account_ids,
    platforms,
    team_of,
    agent_ids,
    label_ids,
    tables,
    ids,
    counts,
) -> None:
    """One pass over the conversations feeds six COPY streams (one connection each: a
    connection runs one COPY at a time)."""
    from contextlib import ExitStack

    connections = {key: psycopg.connect(f"{SERVER}/{DB_NAME}") for key in tables}
    try:
        with ExitStack() as stack:
            copies = {
                key: stack.enter_context(connections[key].cursor().copy(table.copy_sql()))
                for key, table in tables.items()
            }
            w_conv, w_msg, w_met = (
                copies["conv"].write_row,
                copies["msg"].write_row,
                copies["metric"].write_row,
            )
            w_rep, w_vol, w_lab = (
                copies["reply"].write_row,
                copies["volume"].write_row,
                copies["labels"].write_row,
            )
            x_conv = tables["conv"].extra_values
            x_msg = tables["msg"].extra_values
            x_met = tables["metric"].extra_values
            x_rep = tables["reply"].extra_values
            x_vol = tables["volume"].extra_values
            x_lab = tables["labels"].extra_values
            conv_id, msg_id = ids["inbox_conversation"], ids["inbox_message"]
            met_id, rep_id = ids["inbox_conversationmetric"], ids["inbox_replymetric"]
            vol_id, lab_id = ids["inbox_volumehour"], ids["inbox_conversation_labels"]
            random_ = rng.random
            gauss = rng.gauss
            exp = math.exp
            step = span / conversations
            start_ts = start.timestamp()
            fromts = datetime.fromtimestamp
            for i in range(conversations):
                opened_ts = start_ts + i * step + random_() * step
                account = account_ids[int(random_() * len(account_ids))]
                platform = platforms[account]
                team = team_of[account]
                agent = agent_ids[int(random_() * len(agent_ids))]
                # Offsets in seconds: bot at 4 s; human first response lognormal around 15 min
                # (some take a day); replies around 10 min; resolution an hour after the last.
                first = 60 + 900 * exp(gauss(0, 1.3))
                r1 = 600 * exp(gauss(0, 1.0))
                r2 = 600 * exp(gauss(0, 1.0))
                gap1 = 120 * exp(gauss(0, 1.0))
                gap2 = 300 * exp(gauss(0, 1.0))
                offsets = (
                    0.0,
                    4.0,
                    60.0,
                    first,
                    first + gap1,
                    first + gap1 + r1,
                    first + gap1 + r1 + gap2,
                    first + gap1 + r1 + gap2 + 30,
                    first + gap1 + r1 + gap2 + 30 + r2,
                    first + gap1 + r1 + gap2 + 90 + r2,
                )
                times = [fromts(opened_ts + o, UTC) for o in offsets]
                resolved = random_() < 0.9
                resolve_s = offsets[-1] + 3600 * exp(gauss(0, 1.0)) if resolved else None
                resolved_at = fromts(opened_ts + resolve_s, UTC) if resolved else None
                opened = times[0]
                w_conv(
                    (
                        conv_id,
                        account,
                        "dm",
                        ids["inbox_contact"] + i,
                        "resolved" if resolved else "open",
                        agent,
                        team,
                        1,
                        times[7],
                        times[9],
                        resolved_at or times[9],
                        opened,
                        *x_conv,
                    )
                )
                first_msg = msg_id
                hours: dict = {}
                for n, kind in enumerate(PATTERN):
                    at = times[n]
                    inbound = kind == "in"
                    w_msg(
                        (
                            msg_id,
                            conv_id,
                            account,
                            "inbound" if inbound else "outbound",
                            "contact" if inbound else kind,
                            agent if kind == "agent" else None,
                            f"b{msg_id}",
                            TEXTS[n % 4],
                            "received" if inbound else "read",
                            at,
                            at,
                            *x_msg,
                        )
                    )
                    msg_id += 1
                    bucket = hours.setdefault(at.replace(minute=0, second=0, microsecond=0), [0, 0])
                    bucket[0 if inbound else 1] += 1
                sla_first = first <= 3600
                sla_res = resolved and resolve_s <= 8 * 3600
                w_met(
                    (
                        met_id,
                        conv_id,
                        1,
                        account,
                        platform,
                        team,
                        agent,
                        opened,
                        times[3],
                        first,
                        first * 0.4,
                        times[1],
                        4.0,
                        4.0,
                        resolved_at,
                        resolve_s,
                        resolve_s * 0.4 if resolved else None,
                        5,
                        5,
                        False,
                        (sla_first and sla_res) if resolved else (False if not sla_first else None),
                        sla_first,
                        sla_res if resolved else None,
                        int(not sla_first),
                        *x_met,
                    )
                )
                # Waits: bot answers m0 at m1; humans m0→m3, m4→m5, m6→m8.
                for waited, answered, kind_, who in (
                    (0, 1, "bot", None),
                    (0, 3, "agent", agent),
                    (4, 5, "agent", agent),
                    (6, 8, "agent", agent),
                ):
                    seconds = offsets[answered] - offsets[waited]
                    w_rep(
                        (
                            rep_id,
                            met_id,
                            conv_id,
                            account,
                            platform,
                            team,
                            who,
                            kind_,
                            first_msg + answered,
                            times[waited],
                            times[answered],
                            seconds,
                            seconds * 0.4,
                            *x_rep,
                        )
                    )
                    rep_id += 1
                for hour, (n_in, n_out) in hours.items():
                    w_vol(
                        (vol_id, conv_id, hour, account, platform, team, agent, n_in, n_out, *x_vol)
                    )
                    vol_id += 1
                    counts["inbox_volumehour"] += 1
                if random_() < 0.3:
                    w_lab((lab_id, conv_id, label_ids[int(random_() * len(label_ids))], *x_lab))
                    lab_id += 1
                    counts["inbox_conversation_labels"] += 1
                conv_id += 1
                met_id += 1
                if i and i % 100_000 == 0:
                    log(f"    {i:,} conversations")
        for connection in connections.values():
            connection.commit()
    finally:
        for connection in connections.values():
            connection.close()
    counts["inbox_conversation"] = conversations
    counts["inbox_message"] = conversations * len(PATTERN)
    counts["inbox_conversationmetric"] = conversations
    counts["inbox_replymetric"] = conversations * 4


# --- Timing the reports ---------------------------------------------------------------------


def backend_cpu_seconds() -> float:
    """CPU time used so far by this connection's PostgreSQL backend (Linux /proc): unlike wall
    time, it hardly moves when other work shares the two cores."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def build_rollups() -> float:
    """The daily rollups of the whole year, as ``manage.py rebuild_report_rollups`` builds them
    (through yesterday; today is read from the metric rows). Returns seconds."""
    from reports import rollups

    started = time.perf_counter()
    days = rollups.rebuild(now=NOW)
    seconds = time.perf_counter() - started
    from django.db import connection

    with connection.cursor() as cursor:
        # What autovacuum would do before long: a rebuild leaves the old rows dead.
        cursor.execute("VACUUM ANALYZE inbox_reportday, inbox_reportagentday")
        cursor.execute(
            "SELECT (SELECT count(*) FROM inbox_reportday), (SELECT count(*) FROM "
            "inbox_reportagentday), pg_size_pretty(pg_total_relation_size('inbox_reportday') + "
            "pg_total_relation_size('inbox_reportagentday'))"
        )
        day_rows, agent_rows, size = cursor.fetchone()
    log(
        f"  rollups: {days} days in {seconds:.1f} s; {day_rows:,} account rows, "
        f"{agent_rows:,} agent rows, {size}"
    )
    return seconds


YEAR = {
    "range": "custom",
    "from": "2025-11-24",
    "to": "2026-11-23",
    "tz": "Europe/London",
    "group": "week",
}
RUNS = ("30 days", "30 days, one platform", "a year", "a year, one agent")


def time_reports(repeats: int, only: list[str] | None = None) -> dict:
    from types import SimpleNamespace

    from reports import queries
    from reports.models import ConversationMetric

    admin = SimpleNamespace(is_admin=True, is_authenticated=True, is_active=True)
    agent = ConversationMetric.objects.filter(agent__isnull=False).values_list("agent_id")[:1][0]
    results = {}
    for label, params in (
        ("30 days", {"range": "30d", "tz": "Europe/London"}),
        ("30 days, one platform", {"range": "30d", "tz": "Europe/London", "platform": "messenger"}),
        ("a year", YEAR),
        ("a year, one agent", {**YEAR, "agent": str(agent[0])}),
    ):
        if only and label not in only:
            continue
        f = queries.parse_filters(params, admin, now=NOW)
        parts = {
            "summary (this period)": lambda f=f: queries.summary(f),
            "summary (previous period)": lambda f=f: queries.summary(f.previous()),
            "series": lambda f=f: queries.series(f),
            "heatmap": lambda f=f: queries.heatmap(f),
            "agents": lambda f=f: queries.agents(f),
            "platforms": lambda f=f: queries.platforms(f),
        }
        timings = {}
        for name, call in parts.items():
            samples = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                with queries.report_session():
                    call()
                samples.append(time.perf_counter() - t0)
            timings[name] = samples
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            data = queries.report(f)  # as the page runs it: parts on two connections
            samples.append(time.perf_counter() - t0)
        timings["whole page (report())"] = samples
        # The same page on one connection (report() inside a transaction runs its parts in
        # sequence) without parallel workers, with the CPU time it used (backend + app): what
        # one core spends on it, whatever else shares the machine.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")
        cpu = []
        for _ in range(repeats):
            server0, client0 = backend_cpu_seconds(), time.process_time()
            with queries.report_session():
                queries.report(f)
            cpu.append(backend_cpu_seconds() - server0 + time.process_time() - client0)
        with connection.cursor() as cursor:
            cursor.execute("RESET max_parallel_workers_per_gather")
        timings["page CPU, one connection"] = cpu
        results[label] = (timings, data["headline"]["current"].get("opened"))
        log(f"  {label}: {data['headline']['current'].get('opened'):,} openings")
        log(f"    {'':<28} {'best':>8}    {'median':>8}")
        for name, values in timings.items():
            best, median = min(values), statistics.median(values)
            log(f"    {name:<28} {best * 1000:8.0f} ms {median * 1000:8.0f} ms")
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        log(f"    (load average after timing: {load})")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="time an existing bench database")
    parser.add_argument(
        "--rollups",
        action="store_true",
        help="with --reuse: rebuild the rollups (a new database always builds them)",
    )
    parser.add_argument("--only", choices=RUNS, action="append")
    args = parser.parse_args()

    log(
        f"reports benchmark: {args.conversations:,} conversations, "
        f"{args.conversations * len(PATTERN):,} messages, database {DB_NAME}"
    )
    if not args.reuse:
        create_database()
    setup_django()
    try:
        if not args.reuse:
            from django.core.management import call_command

            with Timer("migrate"):
                call_command("migrate", verbosity=0)
            with psycopg.connect(f"{SERVER}/{DB_NAME}") as conn:
                figures = generate(conn, args.conversations, len(PATTERN), args.seed)
            log(f"  generator total: {figures['generate_total_s']:.1f} s; rows: {figures['rows']}")
        else:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)  # a kept database takes new migrations
        from reports import rollups

        if not args.reuse or args.rollups or rollups.state() is None:
            build_rollups()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_size_pretty(pg_database_size('{DB_NAME}'))")
            log(f"  database size: {cursor.fetchone()[0]}")
        log(f"timing the reports page's queries ({args.repeats} runs each, warm cache):")
        time_reports(args.repeats, args.only)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database()
            log(f"dropped {DB_NAME}")


if __name__ == "__main__":
    main()
