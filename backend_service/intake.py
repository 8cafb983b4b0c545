"""The intake switch: while an operator has paused it, new cache misses are refused with
503 ``BE-PAUSED-503`` (cache hits and task reads still work).

The state lives in Redis, not in a process, so every backend instance follows it; each
reads it at most once a second (``CHECK_EVERY_S``), so a pause or resume takes effect
everywhere within that.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from shared import keys
from shared.errors import UpstreamUnavailable

CHECK_EVERY_S = 1.0
RETRY_AFTER_S = 30


class IntakePaused(
    UpstreamUnavailable,
    code="BE-PAUSED-503",
    message="SatyaMark is not taking new texts right now; retry later",
): ...


@dataclass(frozen=True, slots=True)
class IntakeState:
    paused: bool
    reason: str | None = None
    by: str | None = None
    at: str | None = None

    def public(self) -> dict[str, object]:
        return {"paused": self.paused, "reason": self.reason, "by": self.by, "at": self.at}


class Intake:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._known: IntakeState = IntakeState(paused=False)
        self._read_at = float("-inf")

    async def state(self) -> IntakeState:
        raw = await self._redis.hgetall(keys.INTAKE)
        fields = {str(k): str(v) for k, v in raw.items()}  # a decoding client: all str
        return IntakeState(
            paused=fields.get("paused") == "1",
            reason=fields.get("reason") or None,
            by=fields.get("by") or None,
            at=fields.get("at") or None,
        )

    async def set(self, paused: bool, reason: str | None, by: str) -> IntakeState:
        state = IntakeState(paused, reason, by, datetime.now(UTC).isoformat(timespec="seconds"))
        await self._redis.hset(
            keys.INTAKE,
            mapping={
                "paused": "1" if paused else "0",
                "reason": reason or "",
                "by": by,
                "at": state.at or "",
            },
        )
        self._known, self._read_at = state, time.monotonic()
        return state

    async def ensure_open(self) -> None:
        """Raise ``IntakePaused`` while paused. Redis unreachable: the last known state
        holds (the submit fails on Redis anyway if it stays down)."""
        now = time.monotonic()
        if now - self._read_at >= CHECK_EVERY_S:
            try:
                self._known = await self.state()
            except RedisError:
                pass
            self._read_at = now
        if self._known.paused:
            why = f": {self._known.reason}" if self._known.reason else ""
            raise IntakePaused(
                f"SatyaMark is not taking new texts right now{why}; retry later",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
