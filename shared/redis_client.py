"""The one place Redis clients are made: name, timeouts and retries set once."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def create_redis(
    url: str,
    process_name: str,
    *,
    socket_timeout: float | None = 5.0,
    max_connections: int = 64,
) -> aioredis.Redis:
    """A client for ``url`` (``redis://`` or ``rediss://``) named after the process.

    ``socket_timeout=None`` is for connections that block on purpose (XREADGROUP BLOCK,
    pub/sub listeners); everything else fails fast so callers can answer 503.
    """
    # A blocking pool: past max_connections callers wait for a free connection
    # instead of failing (the plain pool raises MaxConnectionsError under load).
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        timeout=socket_timeout or 10.0,
        client_name=f"satyamark-{process_name}",
        decode_responses=True,
        socket_connect_timeout=3.0,
        socket_timeout=socket_timeout,
        health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        max_connections=max_connections,
    )
    # from_pool: closing the client closes the pool too.
    return aioredis.Redis.from_pool(pool)


def load_script(client: aioredis.Redis, path: Path) -> AsyncScript:
    """Register a Lua script (EVALSHA with automatic reload on NOSCRIPT)."""
    return client.register_script(path.read_text(encoding="utf-8"))
