"""The README's pictures of the workspace, taken in Chromium against seeded demo data:

    .venv/bin/python scripts/screenshots.py [--database-url URL] [--out docs/screenshots]

writes workspace-desktop.png and conversation-desktop.png (1440×900) and workspace-phone.png
and conversation-phone.png (390×844), then the conversation in every language of
settings.LANGUAGES, chosen with the top-bar switch as an agent would: conversation-<code>.png
(1440×900; Arabic right to left). It needs PostgreSQL and Debian's Chromium, like
`make test`; the database (default ``parley_screenshots`` on 127.0.0.1) is dropped and made
afresh each run, so its name must contain "screenshots". Redis is not used: the server runs
its in-process live layer and tasks.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/parley_screenshots"
AGENT = ("agent", "parley-agent")
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "screenshots" not in name:
        sys.exit(f"refusing to drop {name!r}: the database's name must contain 'screenshots'")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def seed() -> int:
    """A support team's morning: two brands on four platforms, two customers called Kenji
    Watanabe. Returns the conversation to photograph."""
    from django.utils import timezone

    from inbox.accounts import create_or_update_user
    from inbox.models import Label, Message, Note, PlatformAccount, Team
    from tests.factories import ContactFactory, ConversationFactory, MessageFactory

    agent, _ = create_or_update_user(
        username=AGENT[0], role="agent", password=AGENT[1], teams=["Support"], full_name="Sam Agent"
    )
    jo, _ = create_or_update_user(
        username="jo", role="agent", password=AGENT[1], teams=["Support"], full_name="Jo Rivera"
    )
    team = Team.objects.get(name="Support")
    accounts = {}
    for key, platform, name in (
        ("north-fb", "messenger", "Northwind Outfitters"),
        ("north-ig", "instagram", "Northwind Outfitters"),
        ("kestrel-ig", "instagram", "Kestrel Coffee"),
        ("kestrel-x", "x", "Kestrel Coffee"),
        ("north-li", "linkedin", "Northwind Outfitters"),
    ):
        accounts[key] = PlatformAccount.objects.create(
            platform=platform, name=name, external_id=key, credentials={"token": "demo"}
        )
        team.accounts.add(accounts[key])
    vip = Label.objects.create(name="vip", color="#7c3aed")
    refund = Label.objects.create(name="refund", color="#dc2626")
    now = timezone.now()
    rows = [
        # account, name, last message, minutes ago, waiting, assignee, priority, labels
        (
            "north-fb",
            "Kenji Watanabe",
            "Do you ship the trail jacket to Osaka?",
            3,
            True,
            None,
            1,
            [],
        ),
        (
            "kestrel-ig",
            "Kenji Watanabe",
            "Is the Yirgacheffe roast back in stock?",
            7,
            True,
            agent,
            1,
            [vip],
        ),
        (
            "north-ig",
            "Priya Raman",
            "The zip on my parka broke after a week",
            14,
            True,
            agent,
            3,
            [refund],
        ),
        (
            "kestrel-x",
            "Lucas Moreau",
            "Loved the cold brew at your Lyon café!",
            26,
            False,
            None,
            1,
            [],
        ),
        ("north-fb", "Amara Okafor", "Can I swap size M for L?", 41, True, jo, 2, []),
        ("north-li", "Tom Becker", "Partnership for our hiking club?", 75, True, None, 1, []),
        ("kestrel-ig", "Sofia Rossi", "Thanks, the grinder arrived!", 130, False, agent, 1, [vip]),
        ("north-ig", "Ines Duarte", "Where is order #4412?", 190, True, jo, 2, [refund]),
        ("kestrel-x", "Ravi Kumar", "Do you have oat milk?", 260, False, None, 1, []),
    ]
    photographed = None
    for key, name, text, minutes, waiting, assignee, priority, labels in rows:
        at = now - timedelta(minutes=minutes)
        conversation = ConversationFactory(
            account=accounts[key],
            contact=ContactFactory(name=name, created_at=now - timedelta(days=200)),
            assignee=assignee,
            priority=priority,
            last_message_preview=text,
            last_activity_at=at,
            last_message_at=at,
            last_inbound_at=at,
            waiting_since=at if waiting else None,
        )
        conversation.labels.set(labels)
        MessageFactory(
            conversation=conversation,
            text=text,
            sent_at=at,
            created_at=at,
            sender_identity=conversation.participants.first(),
        )
        if key == "kestrel-ig" and name == "Kenji Watanabe":
            photographed = conversation
    # The conversation in the pictures: a short exchange, a note, the customer's question.
    thread = [
        (95, "in", "Hi! I bought the Yirgacheffe beans last month and loved them."),
        (94, "out", "Hi Kenji, thank you! It's one of our favourites too."),
        (93, "in", "Will it be back soon? The shop says sold out."),
        (60, "note", "Roastery says the next batch ships Thursday."),
        (7, "in", "Is the Yirgacheffe roast back in stock?"),
    ]
    photographed.messages.all().delete()
    for minutes, kind, text in thread:
        at = now - timedelta(minutes=minutes)
        if kind == "note":
            Note.objects.create(conversation=photographed, author=jo, text=text, created_at=at)
        elif kind == "in":
            MessageFactory(
                conversation=photographed,
                text=text,
                sent_at=at,
                created_at=at,
                sender_identity=photographed.participants.first(),
            )
        else:
            MessageFactory(
                conversation=photographed,
                text=text,
                sent_at=at,
                created_at=at,
                direction=Message.Direction.OUTBOUND,
                sender_kind=Message.SenderKind.AGENT,
                status=Message.Status.READ,
                author=agent,
            )
    return photographed.pk


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    import requests

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "parley.asgi:application", "--port", str(port)]
        + ["--host", "127.0.0.1", "--log-level", "warning", "--lifespan", "off"],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{url}/login/", timeout=1).status_code == 200:
                return process, url
        except requests.RequestException:
            time.sleep(0.1)
    process.terminate()
    sys.exit("the server did not start")


def photograph(url: str, conversation: int, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.live import CHROMIUM, CHROMIUM_ARGS

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size, options in (("desktop", DESKTOP), ("phone", PHONE)):
            context = browser.new_context(**options)
            page = context.new_page()
            page.goto(f"{url}/login/")
            page.fill("input[name=username]", AGENT[0])
            page.fill("input[name=password]", AGENT[1])
            page.click("button[type=submit]")
            page.wait_for_selector("#live-status[data-state=live]")
            page.screenshot(path=str(out / f"workspace-{size}.png"))
            page.goto(f"{url}/conversations/{conversation}/")
            page.wait_for_selector("#live-status[data-state=live]")
            page.screenshot(path=str(out / f"conversation-{size}.png"))
            context.close()
        photograph_languages(browser, url, conversation, out)
        browser.close()


def photograph_languages(browser, url: str, conversation: int, out: Path) -> None:
    """The conversation in each language, switched with the top bar's language menu."""
    from django.conf import settings

    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", AGENT[0])
    page.fill("input[name=password]", AGENT[1])
    page.click("button[type=submit]")
    page.wait_for_selector("#live-status[data-state=live]")
    for code, _name in settings.LANGUAGES:
        page.goto(f"{url}/conversations/{conversation}/")
        with page.expect_navigation():
            page.select_option("#language-switch select", code)
        page.wait_for_selector("#live-status[data-state=live]")
        page.screenshot(path=str(out / f"conversation-{code}.png"))
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=args.database_url,
        DATABASE_POOL="0",
        SECRET_KEY="screenshots-only",  # noqa: S106 - a throwaway database
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="parley.settings",
    )
    os.environ.clear()
    os.environ.update(env)
    recreate_database(args.database_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    conversation = seed()
    process, url = serve(env)
    try:
        photograph(url, conversation, args.out)
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
