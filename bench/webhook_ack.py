"""Benchmark: webhook acknowledgement throughput against the machine's floor, in one run.

Closed loop, as many requests as the server answers: ``wrk`` (C; ``apt-get install wrk``)
with --connections connections POSTs one signed Messenger body (``object: page``, one message
event) to

1. Parley: ``uvicorn parley.asgi:application --workers 2`` (``DEBUG=0``, psycopg pool),
   PostgreSQL and Redis, no Celery worker (the acknowledgement alone: signature check, archive
   row committed, an ingest pass requested, 200);
2. the floor: ``uvicorn bench.floor_asgi:app --workers 2``, a bare ASGI app doing the same HMAC
   check and one INSERT through an async psycopg pool.

Both servers run at once (one is idle while the other is measured); rounds alternate
Parley / floor so both see the same background load, and each round prints requests/s,
latency, and the ratio Parley / floor. Every answer must be 200 (wrk's non-2xx count is
printed and fails the run).

Its own database ``parley_bench_ack`` (created, migrated, dropped) and Redis db 3; only
127.0.0.1. Usage::

    .venv/bin/python bench/webhook_ack.py [--rounds 3] [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import drop_database, recreate_database, start, stop  # noqa: E402

DB_NAME = "parley_bench_ack"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/3"
APP_SECRET = "bench-ack-app-secret"
PAGE_ID = "106917238123456"
PARLEY_PORT = 8781
FLOOR_PORT = 8782
ENV = {
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "bench-only-secret-key",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DEBUG": "0",
    "DATABASE_POOL": "1",
    "META_APP_SECRET": APP_SECRET,
    "META_VERIFY_TOKEN": "bench-verify-token",
}
os.environ.update(ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Hub-Signature-256"] = "{signature}"
"""


def signed_body() -> tuple[bytes, str]:
    from connectors.meta.webhook import sign

    now_ms = int(time.time() * 1000)
    payload = {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": now_ms,
                "messaging": [
                    {
                        "sender": {"id": "6900000000000001"},
                        "recipient": {"id": PAGE_ID},
                        "timestamp": now_ms,
                        "message": {"mid": "m_bench_ack_1", "text": "Where is my order?"},
                    }
                ],
            }
        ],
    }
    body = json.dumps(payload).encode()
    return body, sign(APP_SECRET, body)


def wrk(url: str, script: str, seconds: float, connections: int) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{int(seconds)}s",
            "--latency",
            "-s",
            script,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if failed or errors:
        raise RuntimeError(f"wrk saw failures against {url}:\n{out}")

    def ms(label: str) -> float:
        value, unit = re.search(rf"\s{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 2)

    return {"requests_per_s": round(rps), "p50_ms": ms("50%"), "p99_ms": ms("99%")}


def cpu_seconds(parent: int) -> float:
    """CPU time (user + system) of a uvicorn server: its parent and worker processes."""
    pids = [parent]
    for task in Path(f"/proc/{parent}/task").iterdir():
        pids += [int(pid) for pid in (task / "children").read_text().split()]
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def measure(server: subprocess.Popen, url: str, script: str, seconds: int, connections: int):
    """wrk's figures, and the server's CPU milliseconds per request meanwhile (load moves it
    less than the rate: a figure to compare under a shared machine)."""
    before = cpu_seconds(server.pid)
    result = wrk(url, script, seconds, connections)
    used = cpu_seconds(server.pid) - before
    result["server_cpu_ms_per_request"] = round(
        used * 1000 / (result["requests_per_s"] * seconds), 3
    )
    return result


def wait_http(url: str, timeout: float = 60.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not start") from None
            time.sleep(0.2)


def uvicorn(app: str, port: int, env: dict[str, str], log: str) -> subprocess.Popen:
    return start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--lifespan",
            "off",
            "--workers",
            "2",
        ],
        env,
        log,
    )


def run(args) -> list[dict]:
    import psycopg
    import redis

    from inbox.models import PlatformAccount, WebhookEvent

    PlatformAccount.objects.create(
        platform="messenger",
        name="Bench Page",
        external_id=PAGE_ID,
        credentials={"page_access_token": "bench-token"},
    )
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_floor_webhook (id bigserial PRIMARY KEY, headers jsonb NOT NULL,"
            " body bytea NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"
        )
    redis.Redis.from_url(REDIS_URL).flushdb()
    body, signature = signed_body()
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_SCRIPT.format(body=json.dumps(body.decode()), signature=signature))
    parley = uvicorn("parley.asgi:application", PARLEY_PORT, {}, "bench-ack-parley.log")
    floor = uvicorn(
        "bench.floor_asgi:app",
        FLOOR_PORT,
        {"FLOOR_DATABASE_URL": DATABASE_URL, "FLOOR_APP_SECRET": APP_SECRET},
        "bench-ack-floor.log",
    )
    targets = {
        "parley": (parley, f"http://127.0.0.1:{PARLEY_PORT}/webhooks/meta/"),
        "floor": (floor, f"http://127.0.0.1:{FLOOR_PORT}/"),
    }
    rounds = []
    try:
        wait_http(f"http://127.0.0.1:{PARLEY_PORT}/login/")
        wait_http(targets["floor"][1])
        for _, url in targets.values():  # warm-up: imports, pools, connections
            wrk(url, str(script), 3, args.connections)
        for number in range(1, args.rounds + 1):
            result: dict = {"round": number, "load_1min": os.getloadavg()[0]}
            for name, (server, url) in targets.items():
                result[name] = measure(server, url, str(script), args.seconds, args.connections)
            result["ratio"] = round(
                result["parley"]["requests_per_s"] / result["floor"]["requests_per_s"], 3
            )
            print(json.dumps(result), flush=True)
            rounds.append(result)
        archived = WebhookEvent.objects.filter(signature_valid=True).count()
        print(f"archived by Parley: {archived} bodies", flush=True)
    finally:
        stop(parley)
        stop(floor)
        script.unlink()
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    recreate_database(DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        rounds = run(args)
        ratios = [r["ratio"] for r in rounds]
        print(
            json.dumps(
                {
                    "parley_median_rps": statistics.median(
                        r["parley"]["requests_per_s"] for r in rounds
                    ),
                    "floor_median_rps": statistics.median(
                        r["floor"]["requests_per_s"] for r in rounds
                    ),
                    "ratio_median": statistics.median(ratios),
                    "ratio_range": [min(ratios), max(ratios)],
                    "parley_cpu_ms_per_request_median": statistics.median(
                        r["parley"]["server_cpu_ms_per_request"] for r in rounds
                    ),
                    "floor_cpu_ms_per_request_median": statistics.median(
                        r["floor"]["server_cpu_ms_per_request"] for r in rounds
                    ),
                }
            )
        )
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
