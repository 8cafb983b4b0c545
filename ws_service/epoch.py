"""Has Redis lost its data since we last looked?

A restart without persistence, a failover to an empty replica or a FLUSHALL silently
drops every ``ws:user:<id>`` registration and every user's event log. Redis's own
``run_id`` changes on any restart, with or without data loss, so it cannot tell them
apart; a marker key can: ``keys.REDIS_EPOCH`` holds ``"<ms>-<random>"``, made with
SET NX by the first instance that finds it missing. A different or missing value means
the data we knew is gone. ``<ms>`` (Redis's clock) is since when Redis holds its data:
event ids older than that whose entries are gone were lost with the old data.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from ulid import ULID

from shared import keys


class RedisEpoch:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self.value: str | None = None

    @property
    def since_ms(self) -> int | None:
        """Since when (Redis clock, ms) Redis holds its data; None before the first check."""
        return None if self.value is None else int(self.value.partition("-")[0])

    async def check(self) -> bool:
        """Adopt the current epoch (making it if missing); True if it differs from the
        one adopted before, i.e. Redis lost its data since. Raises RedisError."""
        stored = await self._redis.get(keys.REDIS_EPOCH)
        current = None if stored is None else str(stored)
        if current is None:
            seconds, micros = await self._redis.time()
            fresh = f"{seconds * 1000 + micros // 1000}-{ULID()}"
            # Whoever sets it first wins (SET NX GET answers the winner's value, or None
            # when ours was set); everyone adopts the winner's value.
            won = await self._redis.set(keys.REDIS_EPOCH, fresh, nx=True, get=True)
            current = str(won) if won is not None else fresh
        lost = self.value is not None and current != self.value
        self.value = current
        return lost
