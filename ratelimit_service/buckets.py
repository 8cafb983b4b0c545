"""Token buckets in Redis, one Lua call per decision."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis

from shared import keys
from shared.redis_client import load_script

from .config import BucketRule

_SCRIPT = Path(__file__).with_name("lua") / "token_bucket.lua"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_ms: int

    def near_limit(self, soft_limit: float) -> bool:
        """Allowed, but with fewer than ``soft_limit`` tokens left."""
        return self.allowed and self.remaining < soft_limit


class TokenBuckets:
    def __init__(self, client: aioredis.Redis) -> None:
        self._script = load_script(client, _SCRIPT)

    async def take(
        self, endpoint: str, subject: str, rule: BucketRule, cost: int = 1, *, peek: bool = False
    ) -> Decision:
        """Spend ``cost`` tokens if there are that many; with ``peek`` only say whether
        there are, spending and storing nothing."""
        allowed, remaining, retry_ms = await self._script(
            keys=[keys.ratelimit_bucket(endpoint, subject)],
            args=[rule.capacity, rule.refill_per_s, cost, 1 if peek else 0],
        )
        return Decision(bool(allowed), rule.capacity, int(remaining), int(retry_ms))
