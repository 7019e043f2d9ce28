"""Socket limits through real websockets on uvicorn: a flooding socket is closed, and "typing"
reaches Messenger once per conversation however many sockets on however many server processes
are typing."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets

from inbox.consumers import SOCKET_MESSAGES_PER_WINDOW
from tests.connectors.meta import test_send
from tests.connectors.meta.conftest import PSID
from tests.helpers import run_async, wait_for
from tests.live import process_env, start_uvicorn, stop
from tests.test_live_stack import session_cookie

pytestmark = pytest.mark.live


def socket_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/ws/inbox/"


def headers(url: str, cookie: str) -> dict[str, str]:
    return {"Origin": url, "Cookie": f"sessionid={cookie}"}


@pytest.fixture
def second_server(live_server_process):
    """A second web process on the same database and Redis, as behind a load balancer."""
    live = start_uvicorn(process_env(), log_name="uvicorn-second")
    yield live
    stop(live)


def test_a_flooding_socket_is_closed_by_the_server(live_server_process, agent):
    url = live_server_process.url

    async def flood() -> int | None:
        async with websockets.connect(
            socket_url(url), additional_headers=headers(url, session_cookie(agent))
        ) as socket:
            try:
                for _ in range(SOCKET_MESSAGES_PER_WINDOW * 3):
                    await socket.send(json.dumps({"type": "heartbeat"}))
                await asyncio.wait_for(socket.recv(), 5)
            except websockets.exceptions.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        return None

    assert run_async(flood()) == 4429


def test_typing_on_two_server_processes_tells_messenger_once(
    live_server_process,
    second_server,
    celery_worker_process,
    agent,
    teammate,
    messenger_account,
    fake_platforms,
):
    messenger_account.options = {"typing_indicators": True}
    messenger_account.save()
    conversation = test_send._dm(messenger_account, PSID)
    typing = json.dumps({"type": "typing", "conversation": conversation.pk})

    async def type_on_both() -> None:
        sockets = [
            await websockets.connect(
                socket_url(server.url), additional_headers=headers(server.url, session_cookie(user))
            )
            for server, user in ((live_server_process, agent), (second_server, teammate))
        ]
        for _ in range(3):
            for socket in sockets:
                await socket.send(typing)
            await asyncio.sleep(0.2)
        for socket in sockets:
            await socket.close()

    run_async(type_on_both())

    wait_for(lambda: fake_platforms.sent("POST", r"/messages$"))
    time.sleep(1)  # time for a second, wrong, typing_on to arrive
    sent = fake_platforms.sent("POST", r"/messages$")
    assert [r.json()["sender_action"] for r in sent] == ["typing_on"]
