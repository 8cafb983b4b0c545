"""Telling ws_service that a user has a new event, whichever instance holds the sockets.

``ws:user:<userId>`` maps each socket id to the ws_service instance that holds it; one
Lua script publishes the event once to each of those instances' channels.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from . import keys
from .redis_client import load_script

_SCRIPT = Path(__file__).with_name("lua") / "publish_user_event.lua"


class UserNotifier:
    def __init__(self, client: aioredis.Redis) -> None:
        self._script: AsyncScript = load_script(client, _SCRIPT)

    async def publish(self, user_id: str, event: dict[str, object]) -> int:
        """Publish ``event`` for ``user_id``; return how many instances got it."""
        message = orjson.dumps({"userId": user_id, "event": event}).decode()
        prefix = keys.ws_instance_channel("")
        sent = await self._script(keys=[keys.ws_user(user_id)], args=[prefix, message])
        return int(sent)
