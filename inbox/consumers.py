"""The agent's live socket: authenticate, join the groups of the accounts the user may see,
forward events. No writes here; a client that missed events catches up over HTTP."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox.access import account_group, user_group, visible_account_ids


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = [account_group(pk) for pk in await self._account_ids(user)]
        self.groups_joined.append(user_group(user.pk))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def inbox_event(self, message: dict) -> None:
        await self.send_json(message["payload"])

    async def inbox_disconnect(self, message: dict) -> None:
        """Access was removed: close at once (the user's next request is refused too)."""
        await self.close(code=4403)

    @database_sync_to_async
    def _account_ids(self, user) -> list[int]:
        return visible_account_ids(user)
