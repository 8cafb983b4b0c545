"""A background round run every few seconds for the life of a service (sweeper, relay)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import asyncpg
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
_EXPECTED = (OSError, RedisError, asyncpg.PostgresError, asyncpg.InterfaceError)


class Periodic:
    """Runs ``round_`` every ``interval_s`` (±20 % jitter) until stopped; a failing round
    is logged and the next one runs as usual, so the service never dies of it."""

    def __init__(self, name: str, round_: Callable[[], Awaitable[object]]) -> None:
        self._name = name
        self._round = round_
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, interval_s: float) -> None:
        """Start the rounds; an interval of 0 or less leaves them off."""
        if interval_s > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(interval_s), name=self._name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self, interval_s: float) -> None:
        while True:
            # Jitter keeps instances started together from contending every round.
            await asyncio.sleep(interval_s * random.uniform(0.8, 1.2))
            try:
                await self._round()
            except Exception as exc:
                log.warning(
                    "%s round failed (%s); retrying next interval",
                    self._name,
                    exc,
                    exc_info=not isinstance(exc, OSError),
                )
