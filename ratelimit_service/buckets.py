"""Token buckets in Redis, one Lua call per decision (a batch of them in one round trip)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from shared import keys
from shared.redis_client import load_script, queue_script

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


@dataclass(frozen=True, slots=True)
class Take:
    """One decision asked for: spend (or, with ``peek``, look for) ``cost`` tokens."""

    endpoint: str
    subject: str
    rule: BucketRule
    cost: int = 1
    peek: bool = False

    def script_call(self) -> tuple[list[str], list[float]]:
        return (
            [keys.ratelimit_bucket(self.endpoint, self.subject)],
            [self.rule.capacity, self.rule.refill_per_s, self.cost, 1 if self.peek else 0],
        )

    def decision(self, reply: Sequence[int]) -> Decision:
        allowed, remaining, retry_ms = reply
        return Decision(bool(allowed), self.rule.capacity, int(remaining), int(retry_ms))


class TokenBuckets:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._script = load_script(client, _SCRIPT)

    async def take(
        self, endpoint: str, subject: str, rule: BucketRule, cost: int = 1, *, peek: bool = False
    ) -> Decision:
        """Spend ``cost`` tokens if there are that many; with ``peek`` only say whether
        there are, spending and storing nothing."""
        return await self.decide(Take(endpoint, subject, rule, cost, peek))

    async def decide(self, take: Take) -> Decision:
        bucket, args = take.script_call()
        return take.decision(await self._script(keys=bucket, args=args))

    async def take_many(self, takes: Sequence[Take]) -> list[Decision]:
        """Each ``take`` in order (the same bucket twice: the second sees the first), in
        one round trip. Raises RedisError."""
        async with self._client.pipeline(transaction=False) as pipe:
            for take in takes:
                queue_script(pipe, self._script, *take.script_call())
            replies = await pipe.execute(raise_on_error=False)
        decisions = []
        for take, reply in zip(takes, replies, strict=True):
            if isinstance(reply, NoScriptError):
                decisions.append(await self.decide(take))  # loads the script
            elif isinstance(reply, Exception):
                raise reply
            else:
                decisions.append(take.decision(reply))
        return decisions
