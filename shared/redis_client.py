"""The one place Redis clients are made: name, timeouts and retries set once.

With ``REDIS_CLUSTER=1`` (``shared.keys.CLUSTER``) they are redis-py's cluster clients,
for ``REDIS_URL`` naming any node: they route each command by its key's slot, split
pipelines by slot, and offer the same commands, scripts, MULTI and pub/sub we use, so
the rest of the tree keeps the ``Redis`` type (tests/integration/test_redis_cluster.py
runs the pipeline on a real cluster).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import redis
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from . import keys


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
    options: dict[str, Any] = {
        "client_name": f"satyamark-{process_name}",
        "decode_responses": True,
        "socket_connect_timeout": 3.0,
        "socket_timeout": socket_timeout,
        "health_check_interval": 15,
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        "max_connections": max_connections,
    }
    if keys.CLUSTER:
        cluster = RedisCluster.from_url(url, **options)
        return cast(aioredis.Redis, cluster)  # same command surface; see the docstring
    # A blocking pool: past max_connections callers wait for a free connection
    # instead of failing (the plain pool raises MaxConnectionsError under load).
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        timeout=socket_timeout or 10.0,
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        **options,
    )
    # from_pool: closing the client closes the pool too.
    return aioredis.Redis.from_pool(pool)


def create_sync_redis(url: str, timeout_s: float) -> redis.Redis:
    """A blocking client (for Prometheus collectors, which run in a thread)."""
    options: dict[str, Any] = {
        "decode_responses": True, "socket_connect_timeout": timeout_s, "socket_timeout": timeout_s
    }  # fmt: skip
    if keys.CLUSTER:
        return cast(redis.Redis, redis.RedisCluster.from_url(url, **options))
    return redis.Redis.from_url(url, **options)


def load_script(client: aioredis.Redis, path: Path) -> AsyncScript:
    """Register a Lua script (EVALSHA with automatic reload on NOSCRIPT)."""
    return client.register_script(path.read_text(encoding="utf-8"))


def queue_script(
    pipe: Pipeline, script: AsyncScript, keys: Sequence[str], args: Sequence[Any]
) -> None:
    """Add one call of ``script`` to ``pipe`` by its SHA alone, without the SCRIPT EXISTS
    round trip redis-py makes before every pipeline holding a registered script. A Redis
    that does not know the script (restarted; a cluster node it never ran on) answers
    that call with NoScriptError (``execute(raise_on_error=False)``): make the call
    alone then (``await script(...)``), which loads it."""
    pipe.evalsha(script.sha, len(keys), *keys, *args)


async def get_many(client: aioredis.Redis, names: Sequence[str]) -> list[Any]:
    """GET of several keys in one round trip. Not MGET: the keys may lie in different
    Redis Cluster slots, and a pipeline of GETs is split by slot where MGET is refused."""
    if not names:
        return []
    async with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.get(name)
        return list(await pipe.execute())
