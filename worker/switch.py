"""The workers' switch: an operator can stop every worker from reading new jobs (they
finish what they hold) and let them read again (``POST /v1/admin/workers``).

The state is one Redis hash (``keys.WORKERS``), read before each blocking read; a
paused worker looks again every ``PAUSED_POLL_S``, so a resume is picked up within that.
A worker that cannot read the switch keeps working: Redis trouble shows elsewhere.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from shared import keys

log = logging.getLogger(__name__)

PAUSED_POLL_S = 0.5


async def paused(redis: aioredis.Redis) -> bool:
    try:
        return bool(await redis.hget(keys.WORKERS, "paused") == "1")
    except RedisError:
        return False


async def wait_while_paused(redis: aioredis.Redis, stopping: asyncio.Event) -> None:
    """Return once the workers' switch is on (at once when it is), or on stop."""
    if not await paused(redis):
        return
    log.info("workers paused by an operator: reading no new jobs")
    while not stopping.is_set() and await paused(redis):
        try:
            async with asyncio.timeout(PAUSED_POLL_S):
                await stopping.wait()
        except TimeoutError:
            pass
    log.info("workers resumed: reading new jobs again")
