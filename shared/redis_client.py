"""The one place Redis clients are made: name, timeouts and retries set once.

With ``REDIS_CLUSTER=1`` (``shared.keys.CLUSTER``) they are redis-py's cluster clients,
for ``REDIS_URL`` naming any node: they route each command by its key's slot, split
pipelines by slot, and offer the same commands, scripts, MULTI and pub/sub we use, so
the rest of the tree keeps the ``Redis`` type (tests/integration/test_redis_cluster.py
runs the pipeline on a real cluster).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

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


class _SendBoundInPlace(aioredis.Connection):
    """redis-py bounds every send by ``socket_timeout`` with ``asyncio.wait_for``, which
    on Python 3.11 runs the send as a task of its own: about 40 µs of CPU per command
    (measured: 20,000 SETs to a local Redis, 95–119 µs each without a timeout, 146–159
    with one), several commands per task in every service. ``asyncio.timeout`` bounds
    the same send in place; a send that times out or fails still drops the connection
    and raises redis-py's own errors, as the library's send does."""

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        timeout = self.socket_timeout
        if not timeout:
            await super().send_packed_command(command, check_health)
            return
        if not self.is_connected:
            await self.connect_check_health(check_health=False)
        if check_health:
            await self.check_health()  # type: ignore[no-untyped-call]
        if isinstance(command, str):
            command = command.encode()
        if isinstance(command, bytes):
            command = [command]
        try:
            async with asyncio.timeout(timeout):
                await self._send_packed_command(command)
        except TimeoutError as e:
            await self.disconnect(nowait=True)
            if e.errno is not None:  # ETIMEDOUT from the OS: the connection is dead
                raise RedisConnectionError(f"Error {e.errno} while writing to socket.") from e
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as e:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Error while writing to socket: {e}") from e
        except BaseException:
            await self.disconnect(nowait=True)
            raise


class _SslSendBoundInPlace(_SendBoundInPlace, aioredis.SSLConnection):
    """The same for ``rediss://``."""


_BOUND_IN_PLACE: dict[str, type[aioredis.Connection]] = {
    "redis": _SendBoundInPlace,
    "rediss": _SslSendBoundInPlace,
}


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
    bound_in_place = _BOUND_IN_PLACE.get(urlsplit(url).scheme)  # unix://: the library's
    if bound_in_place is not None:
        options["connection_class"] = bound_in_place
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
