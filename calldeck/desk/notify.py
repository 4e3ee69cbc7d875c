"""Tell an agent's open desk pages that their state changed (sent after commit)."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def desk_group(agent_id: int) -> str:
    return f"desk.{agent_id}"


def notify_agent(agent_id: int) -> None:
    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(desk_group(agent_id), {"type": "desk.changed"})

    transaction.on_commit(send)
