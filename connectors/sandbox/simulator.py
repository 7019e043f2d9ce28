"""Simulated customers for the demo: realistic DMs posted through the signed sandbox webhook."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid

import requests

from connectors.sandbox.connector import SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)

CUSTOMERS = [
    ("c-1001", "Maya Thompson"),
    ("c-1002", "Lucas Oliveira"),
    ("c-1003", "Priya Raman"),
    ("c-1004", "Tom Becker"),
    ("c-1005", "Aisha Bello"),
    ("c-1006", "Kenji Watanabe"),
    ("c-1007", "Sofia Rossi"),
    ("c-1008", "Daniel Kim"),
    ("c-1009", "Emma Dubois"),
    ("c-1010", "Omar Haddad"),
    ("c-1011", "Hannah Novak"),
    ("c-1012", "Jake Morrison"),
]

MESSAGES = [
    "Hi! Where is my order #48213? It said 2-3 days and it's been a week.",
    "Hello, I ordered the linen shirt in M but received an L. How do I exchange it?",
    "Do you ship to Canada? And how much is shipping?",
    "My package shows delivered but it isn't here. Can you help?",
    "Is the black backpack coming back in stock anytime soon?",
    "I was charged twice for the same order 😕 order #47790",
    "Can I change the delivery address on order #48302? I just moved.",
    "What's your return policy for sale items?",
    "Honestly pretty disappointed, the zipper broke after two days.",
    "Hi! I run a lifestyle account (45k followers) and would love to collaborate. Who can I talk to?",
    "Do you have a discount code for first orders?",
    "The app keeps logging me out when I try to check out.",
    "Thanks so much, the gift arrived just in time for my sister's birthday! 🎉",
    "Are your candles vegan and cruelty-free?",
    "Hey, I'm a journalist writing about sustainable brands. Could I ask a few questions?",
    "How long does a refund usually take to show up on my card?",
    "Can I still cancel order #48411? I ordered the wrong size.",
    "Do you have a physical store in Berlin?",
    "Your customer service line has been busy all day, is anyone there?",
    "Is the gift card valid online and in store?",
    "I'd like to talk to a human please.",
    "The tracking link you sent doesn't work.",
    "Love the new autumn collection! When does the green coat drop?",
    "Can you send me an invoice with my company's VAT number?",
]

FOLLOW_UPS = [
    "Any update on this?",
    "Hello? Still waiting on an answer here.",
    "Thanks! That helps.",
    "Perfect, thank you!",
    "It's been a day, could someone please look at this?",
    "Here's a photo of the damage.",
]


def post_message(base_url: str, account_id: int, secret: str, sender: tuple[str, str], text: str):
    body = json.dumps(
        {
            "id": f"sim-{uuid.uuid4().hex}",
            "sender": {"id": sender[0], "name": sender[1]},
            "text": text,
            "timestamp": int(time.time() * 1000),
        }
    ).encode()
    return requests.post(
        f"{base_url}/webhooks/sandbox/{account_id}/",
        data=body,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)},
        timeout=10,
    )


def run_forever(
    base_url: str,
    accounts: list[tuple[int, str]],
    *,
    interval: float = 6.0,
    stop: threading.Event | None = None,
) -> None:
    """Post a customer message to a random account every ``interval`` seconds (jittered)."""
    stop = stop or threading.Event()
    rng = random.Random()
    written: dict[tuple[int, str], int] = {}
    while not stop.wait(rng.uniform(interval * 0.5, interval * 1.5)):
        account_id, secret = rng.choice(accounts)
        customer = rng.choice(CUSTOMERS)
        already = written.get((account_id, customer[0]), 0)
        text = rng.choice(FOLLOW_UPS) if already and rng.random() < 0.6 else rng.choice(MESSAGES)
        try:
            response = post_message(base_url, account_id, secret, customer, text)
            if response.status_code == 200:
                written[(account_id, customer[0])] = already + 1
            else:
                log.warning("simulator: webhook answered %s", response.status_code)
        except requests.RequestException as exc:
            log.warning("simulator: %s", exc)
