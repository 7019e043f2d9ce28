"""The embedded default served by plain uvicorn (SQLite, no REDIS_URL, nothing else running) is
self-sufficient: its one ASGI process runs the periodic schedule, so a reply a platform
rate-limited is delivered later without a worker, beat or `make run`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
from django.conf import settings

from tests.fakes.meta import PAGE_ID
from tests.fakes.server import Reply
from tests.helpers import wait_for
from tests.live import ROOT, start_uvicorn, stop

pytestmark = pytest.mark.live

SEND = r"^/meta/v[0-9.]+/[^/]+/messages$"

# A Messenger account on the fake Graph API, a conversation whose 24-hour window is open, and an
# agent of the account's team with an API token.
SETUP = f"""
import json
from django.utils import timezone
from rest_framework.authtoken.models import Token
from tests.factories import (
    AccountFactory, ConversationFactory, IdentityFactory, TeamFactory, UserFactory
)
team = TeamFactory(name="Support")
account = AccountFactory(
    platform="messenger", external_id="{PAGE_ID}", credentials={{"page_access_token": "EAAG"}}
)
team.accounts.add(account)
agent = UserFactory(username="sam")
team.members.add(agent)
identity = IdentityFactory(account=account, platform_user_id="6912345678901234")
conversation = ConversationFactory(
    account=account, contact=identity.contact, identity=identity, last_inbound_at=timezone.now()
)
print(json.dumps({{"conversation": conversation.pk, "token": Token.objects.create(user=agent).key}}))
"""


def embedded_env(sqlite_path: str) -> dict[str, str]:
    """The embedded default (tests.embedded_settings: no DATABASE_URL, no REDIS_URL) on its own
    SQLite file, talking to the fake platform server."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PARLEY_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.embedded_settings",
        PARLEY_TEST_SQLITE=sqlite_path,
        PARLEY_TESTING="1",
        DEBUG="0",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        META_GRAPH_URL=settings.META_GRAPH_URL,
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_a_rate_limited_reply_is_retried_by_plain_uvicorn_on_the_embedded_default(
    tmp_path, fake_platforms
):
    env = embedded_env(str(tmp_path / "db.sqlite3"))
    manage(env, "migrate", "--noinput", "-v", "0")
    made = json.loads(manage(env, "shell", "-c", SETUP).splitlines()[-1])
    fake_platforms.script("POST", SEND, Reply(429, {}, headers={"Retry-After": "1"}))

    server = start_uvicorn(env, log_name="uvicorn-embedded")
    try:
        api = requests.Session()
        api.headers["Authorization"] = f"Token {made['token']}"
        messages_url = f"{server.url}/api/v1/conversations/{made['conversation']}/messages/"

        queued = api.post(messages_url, json={"text": "Your order ships today"}, timeout=10)

        assert queued.status_code == 201, queued.text
        # Refused once by the platform's rate limit, then sent again by the process itself.
        wait_for(lambda: len(fake_platforms.sent("POST", SEND)) >= 2, timeout=20)
        reply = wait_for(
            lambda: next(
                (
                    m
                    for m in api.get(messages_url, timeout=10).json()["results"]
                    if m["id"] == queued.json()["id"] and m["status"] == "sent"
                ),
                None,
            ),
            timeout=10,
        )
    finally:
        stop(server)
    assert reply["text"] == "Your order ships today"
    attempts = fake_platforms.sent("POST", SEND)
    assert len(attempts) == 2
    assert [a.json()["message"]["text"] for a in attempts] == ["Your order ships today"] * 2
