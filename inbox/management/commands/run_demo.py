"""`make run`: the demo organisation, the ASGI server (which runs the periodic tasks itself when
there is no broker), simulated customers."""

from __future__ import annotations

import secrets
import threading

import uvicorn
from django.core.management.base import BaseCommand

from chatbot import demo as chatbot_demo
from connectors.sandbox import simulator
from inbox.accounts import connect_account, create_or_update_user
from inbox.models import PlatformAccount, SavedReply

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
    chatbot_demo.seed(PlatformAccount.objects.get(pk=accounts[0][0]))
    return accounts


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
                # The lifespan starts the periodic schedule when there is no broker (parley.asgi).
                lifespan="on",
            )
        finally:
            stop.set()
