"""`make run`: the demo organisation, the ASGI server, simulated customers, periodic tasks."""

from __future__ import annotations

import logging
import secrets
import threading
import time

import uvicorn
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from connectors.sandbox import simulator
from inbox.accounts import connect_account, create_or_update_user
from inbox.models import PlatformAccount, SavedReply
from parley.celery import PERIODIC_TASKS

log = logging.getLogger(__name__)

DEMO_USERS = [
    ("admin", "admin", "parley-admin", "Alex Admin"),
    ("manager", "manager", "parley-manager", "Morgan Manager"),
    ("agent", "agent", "parley-agent", "Sam Agent"),
]
DEMO_ACCOUNTS = [("demo-shop", "Acme Shop"), ("demo-studio", "Acme Studio")]
DEMO_SAVED_REPLIES = [
    (
        "thanks",
        "Thanks for writing",
        "Hi {{contact.first_name}}, thanks for reaching out! "
        "I'm {{agent.first_name}} and I'll look into this right away.",
    ),
    (
        "tracking",
        "Order tracking",
        "Hi {{contact.first_name}}, you can follow your order at "
        "https://example.com/track — I've also asked the carrier for an update.",
    ),
]


def seed_demo() -> list[tuple[int, str]]:
    """The demo organisation (idempotent): users, a team, two sandbox accounts."""
    for username, role, password, name in DEMO_USERS:
        create_or_update_user(
            username=username, role=role, password=password, teams=["Support"], full_name=name
        )
    accounts = []
    for external_id, name in DEMO_ACCOUNTS:
        existing = PlatformAccount.objects.filter(
            platform="sandbox", external_id=external_id
        ).first()
        secret = (existing.credentials.get("secret") if existing else None) or secrets.token_hex(16)
        account, _ = connect_account(
            platform="sandbox",
            external_id=external_id,
            name=name,
            settings={"secret": secret},
            teams=["Support"],
        )
        accounts.append((account.pk, secret))
    for shortcut, title, text in DEMO_SAVED_REPLIES:
        SavedReply.objects.get_or_create(shortcut=shortcut, defaults={"title": title, "text": text})
    from chatbot import demo as chatbot_demo

    chatbot_demo.seed(PlatformAccount.objects.get(pk=accounts[0][0]))
    return accounts


def run_periodic_tasks(stop: threading.Event) -> None:
    """The embedded default has no Celery beat: run the same schedule in a thread."""
    next_run = {name: time.monotonic() + seconds for name, (_, seconds) in PERIODIC_TASKS.items()}
    while not stop.wait(1.0):
        now = time.monotonic()
        for name, (path, seconds) in PERIODIC_TASKS.items():
            if now >= next_run[name]:
                next_run[name] = now + seconds
                try:
                    import_string(path)()
                except Exception:
                    log.exception("periodic task %s failed", name)


class Command(BaseCommand):
    help = "Start Parley with the demo organisation and simulated customers."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--interval", type=float, default=6.0, help="seconds between DMs")
        parser.add_argument("--no-simulator", action="store_true")

    def handle(self, *args, **options):
        accounts = seed_demo()
        base_url = f"http://{options['host']}:{options['port']}"
        self.stdout.write(
            self.style.SUCCESS(f"\nParley is starting at {base_url}/\n")
            + "Demo logins:\n"
            + "".join(f"  {role:<8} {u} / {p}\n" for u, role, p, _ in DEMO_USERS)
            + "Simulated customers write to the two sandbox accounts every few seconds.\n"
            + "Press Ctrl+C to stop.\n"
        )
        stop = threading.Event()
        threading.Thread(target=run_periodic_tasks, args=(stop,), daemon=True).start()
        if not options["no_simulator"]:
            threading.Thread(
                target=simulator.run_forever,
                args=(base_url, accounts),
                kwargs={"interval": options["interval"], "stop": stop},
                daemon=True,
            ).start()
        try:
            uvicorn.run(
                "parley.asgi:application",
                host=options["host"],
                port=options["port"],
                log_level="warning",
                lifespan="off",
            )
        finally:
            stop.set()
