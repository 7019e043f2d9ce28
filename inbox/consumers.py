"""The agent's live socket: authenticate, join the groups of the accounts the user may see,
forward events. A client that missed events catches up over HTTP.

The client also says what its agent is doing — viewing or typing in a conversation — and sends a
heartbeat; those are relayed (after an access check) to the conversation's account group for
collision detection, and counted for presence (auto-assignment). No conversation data is written
here; presence is bookkeeping about the socket itself.
"""

from __future__ import annotations

import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox import assignment, engagement, presence
from inbox.access import account_group, user_group, visible_account_ids, visible_conversations
from inbox.live import channel_message, conversation_group
from inbox.live import presence as presence_payload

log = logging.getLogger(__name__)

PRESENCE_STATES = {"viewing", "typing", "left"}
# What one socket may send: the page sends a heartbeat and a "viewing" every few seconds and a
# "typing" at most every 2.5 s, so this is far above a person and far below a flood.
SOCKET_MESSAGES_PER_WINDOW = 60
SOCKET_RATE_WINDOW_SECONDS = 10.0
# A client frame is a small JSON object; anything longer is not from our page.
SOCKET_MAX_FRAME_CHARS = 1024
# Conversations whose access this socket remembers (an agent opens a few dozen in a day).
SOCKET_REMEMBERED_CONVERSATIONS = 256
# Closed for sending too much: the page reconnects after its back-off.
CLOSE_TOO_MANY_MESSAGES = 4429


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        self.viewing: int | None = None
        self.conversation_accounts: dict[int, int | None] = {}
        self.window_started = time.monotonic()
        self.messages_in_window = 0
        self.groups_joined = [account_group(pk) for pk in await self._account_ids(user)]
        self.groups_joined.append(user_group(user.pk))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self._came_online()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "user", None) is not None:
            if self.viewing:
                viewing = self.viewing
                await self._watch(None)
                await self._relay(viewing, "left")
            await database_sync_to_async(presence.disconnected)(self.user)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        """Every client frame: counted against the socket's rate, then decoded if it can be."""
        if not hasattr(self, "user"):
            return
        if self._over_rate():
            log.warning(
                "socket of user %s closed: over %s messages in %s s",
                self.user.pk,
                SOCKET_MESSAGES_PER_WINDOW,
                SOCKET_RATE_WINDOW_SECONDS,
            )
            await self.close(code=CLOSE_TOO_MANY_MESSAGES)
            return
        if not text_data or len(text_data) > SOCKET_MAX_FRAME_CHARS:
            log.info("socket of user %s: frame ignored (binary, empty or too long)", self.user.pk)
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            log.info("socket of user %s: frame ignored (not JSON)", self.user.pk)
            return
        await self.receive_json(content, **kwargs)

    def _over_rate(self) -> bool:
        now = time.monotonic()
        if now - self.window_started >= SOCKET_RATE_WINDOW_SECONDS:
            self.window_started, self.messages_in_window = now, 0
        self.messages_in_window += 1
        return self.messages_in_window > SOCKET_MESSAGES_PER_WINDOW

    async def receive_json(self, content, **kwargs) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "heartbeat":
            await database_sync_to_async(presence.heartbeat)(self.user)
            return
        if kind not in PRESENCE_STATES:
            return
        conversation = content.get("conversation")
        if not isinstance(conversation, int):
            return
        if await self._account_of(conversation) is None:
            return  # not a conversation this user may see: say nothing to anyone
        if kind == "left":
            if self.viewing == conversation:
                await self._relay(conversation, "left")
                await self._watch(None)
            return
        await self._watch(conversation)
        await self._relay(conversation, kind, hello=bool(content.get("hello")))
        if kind == "typing":
            # Where the account enables it, the customer sees that an agent is typing.
            await database_sync_to_async(engagement.agent_typing)(conversation)

    async def _watch(self, conversation: int | None) -> None:
        """Follow one conversation's presence group (one page, one open conversation)."""
        if self.viewing == conversation:
            return
        if self.viewing is not None:
            await self.channel_layer.group_discard(
                conversation_group(self.viewing), self.channel_name
            )
        self.viewing = conversation
        if conversation is not None:
            await self.channel_layer.group_add(conversation_group(conversation), self.channel_name)

    async def _relay(self, conversation: int, state: str, hello: bool = False) -> None:
        # Only to the sockets that have this conversation open (all of them passed the same
        # access check), not to everyone on the account.
        await self.channel_layer.group_send(
            conversation_group(conversation),
            channel_message([presence_payload(conversation, self.user, state=state, hello=hello)]),
        )

    async def inbox_event(self, message: dict) -> None:
        # Several events per message from a batch (``inbox.live.send_to_groups``).
        for payload in message["payloads"]:
            await self.send_json(payload)

    async def inbox_disconnect(self, message: dict) -> None:
        """Access was removed: close at once (the user's next request is refused too)."""
        await self.close(code=4403)

    async def _account_of(self, conversation: int) -> int | None:
        remembered = self.conversation_accounts
        if conversation not in remembered:
            if len(remembered) >= SOCKET_REMEMBERED_CONVERSATIONS:
                del remembered[next(iter(remembered))]  # the oldest: a socket's memory is bounded
            remembered[conversation] = await self._lookup_account(conversation)
        return remembered[conversation]

    @database_sync_to_async
    def _lookup_account(self, conversation: int) -> int | None:
        return (
            visible_conversations(self.user)
            .filter(pk=conversation)
            .values_list("account_id", flat=True)
            .first()
        )

    @database_sync_to_async
    def _account_ids(self, user) -> list[int]:
        return visible_account_ids(user)

    @database_sync_to_async
    def _came_online(self) -> None:
        if presence.connected(self.user):
            # New capacity: queued conversations of the agent's auto-assigning teams.
            assignment.fill_queues_for(self.user)
