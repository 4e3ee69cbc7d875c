from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from calldeck.desk.notify import desk_group


class DeskConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Pushes "changed" to an agent's desk; the page then fetches its panel over htmx."""

    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = desk_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def desk_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"event": "changed"})
