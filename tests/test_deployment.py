"""The production shape: settings that must be given, one ASGI process serving everything with
DEBUG=0 after collectstatic, and a valid compose file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
import yaml
from celery import Celery
from django.db import connection

from tests.live import ROOT, _free_port, process_env

pytestmark = pytest.mark.live


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PARLEY_"))}
    env.update(PYTHONUNBUFFERED="1", DJANGO_SETTINGS_MODULE="parley.settings", **extra)
    return env


def django_setup(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secret_key():
    env = production_env(DATABASE_URL="postgres://nobody@127.0.0.1:5432/none", ALLOWED_HOSTS="x")
    env.pop("SECRET_KEY", None)
    result = django_setup(env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    env = production_env(DATABASE_URL="postgres://nobody@127.0.0.1:5432/none", SECRET_KEY="k" * 50)
    env.pop("ALLOWED_HOSTS", None)
    result = django_setup(env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


# Two webhooks' messages to two contacts, ingested in one batch on the embedded database.
EMBEDDED_INGEST = """
import json
from inbox import ingest
from inbox.models import Conversation, PlatformAccount, WebhookEvent
account = PlatformAccount.objects.create(platform="sandbox", name="S", external_id="s")
for n, (sender, text) in enumerate([("ada", "It's 100% broken"), ("bo", "Ünïcödé?")]):
    body = {"id": f"m{n}", "sender": {"id": sender}, "text": text, "timestamp": 1700000000000 + n}
    WebhookEvent.objects.create(
        source="sandbox", account=account, body=json.dumps(body).encode(), signature_valid=True
    )
ingest.process_waiting()
print(json.dumps(sorted(Conversation.objects.values_list("last_message_preview", "status"))))
"""


def test_the_embedded_default_migrates_a_fresh_sqlite_database_and_ingests(tmp_path):
    """`make run` starts on SQLite: every migration must apply there as on PostgreSQL, and the
    ingest pass's set-wise statements must run there too."""
    env = production_env(PARLEY_TEST_SQLITE=str(tmp_path / "db.sqlite3"))
    env["DJANGO_SETTINGS_MODULE"] = "tests.embedded_settings"
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    migrated = manage("migrate", "--noinput", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    assert (tmp_path / "db.sqlite3").stat().st_size > 0
    ingested = manage("shell", "-c", EMBEDDED_INGEST)
    assert ingested.returncode == 0, ingested.stderr[-3000:]
    assert json.loads(ingested.stdout.splitlines()[-1]) == [
        ["It's 100% broken", "open"],
        ["Ünïcödé?", "open"],
    ]


def test_one_asgi_process_serves_pages_static_api_and_webhooks(transactional_db, tmp_path):
    live = process_env()
    env = production_env(
        DATABASE_URL=live["DATABASE_URL"],
        REDIS_URL=live["REDIS_URL"],
        SECRET_KEY="a-production-secret-key-for-this-test-only-0123456789",
        ALLOWED_HOSTS="127.0.0.1",
        DEBUG="0",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collect.returncode == 0, collect.stderr
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "parley.asgi:application",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                login = requests.get(f"{url}/login/", timeout=1)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert login.status_code == 200
        # Static files come from the app itself, hashed by the manifest.
        css = next(Path(tmp_path / "static" / "css").glob("parley.*.css")).name
        assert f"/static/css/{css}" in login.text
        assert requests.get(f"{url}/static/css/{css}", timeout=5).status_code == 200
        assert requests.get(f"{url}/api/v1/conversations/", timeout=5).status_code == 401
        assert (
            requests.post(f"{url}/webhooks/sandbox/999999/", data=b"{}", timeout=5).status_code
            == 404
        )
        assert requests.get(f"{url}/", timeout=5, allow_redirects=False).status_code == 302
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_prefork_worker_keeps_its_database_connections_between_tasks(transactional_db):
    """The compose file's worker: prefork, psycopg's pool. Celery's Django fixup closed the
    connections and the pool after every task (celery/celery#10554): new PostgreSQL sessions for
    every task, 200 a second in a webhook burst."""
    live = process_env()
    # Queues of its own: the session's test worker must not take these tasks.
    broker = live["REDIS_URL"].rsplit("/", 1)[0] + "/14"
    redis.Redis.from_url(broker).flushdb()
    env = production_env(
        DATABASE_URL=live["DATABASE_URL"],
        REDIS_URL=broker,
        SECRET_KEY="a-production-secret-key-for-this-test-only-0123456789",
        ALLOWED_HOSTS="127.0.0.1",
        DEBUG="0",
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "parley", "worker", "-P", "prefork", "-c", "2"]
        + ["-Q", "default", "-l", "warning", "--without-gossip", "--without-mingle"]
        + ["--without-heartbeat", "-n", f"prefork-{os.getpid()}@%h"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    probe = Celery("probe", broker=broker, backend=broker)

    def run_tasks(count: int) -> None:
        for _ in range(count):
            probe.send_task("inbox.tasks.reopen_snoozed_conversations", queue="default").get(
                timeout=30
            )

    def sessions() -> int:
        time.sleep(1.5)  # backends report their statistics within a second
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    try:
        run_tasks(6)  # each child process has its connections
        before = sessions()
        run_tasks(40)
        opened = sessions() - before
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        probe.close()
        redis.Redis.from_url(broker).flushdb()
    assert opened <= 2, f"{opened} database sessions opened for 40 tasks"


def test_compose_file_is_valid_and_complete():
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            "docker-compose.yml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "db", "redis"} <= set(services)
    for name in services:
        assert "healthcheck" in services[name], f"{name} has no health check"
    environment = compose["x-parley"]["environment"]
    for setting in (
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "META_GRAPH_URL",
        "META_APP_SECRET",
        "META_VERIFY_TOKEN",
        "X_API_URL",
        "X_CONSUMER_SECRET",
        "LINKEDIN_API_URL",
    ):
        assert setting in environment


def test_every_queue_has_a_worker_and_ingestion_one_of_its_own(settings):
    """Each kind of work on its own queue is only worth it if a worker takes it: ingestion on a
    worker of its own, so an inbound message never waits behind the listeners it starts."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    consumed: dict[str, set[str]] = {}
    for name, service in services.items():
        words = str(service.get("command", "")).split()
        if "worker" in words and "celery" in words:
            consumed[name] = set(words[words.index("-Q") + 1].split(","))
    assert set(settings.CELERY_WORKER_QUEUES.split(",")) <= set().union(*consumed.values())
    assert [queues for queues in consumed.values() if "ingest" in queues] == [{"ingest"}]
