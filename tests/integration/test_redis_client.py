"""The Redis client every service makes (shared/redis_client.py), against real servers."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from satyamark.infra import RedisServer
from shared.redis_client import create_redis


async def test_commands_go_through_the_connection_that_bounds_its_sends(redis_url: str) -> None:
    client = create_redis(redis_url, "test", socket_timeout=2.0)
    try:
        assert await client.set("bounded", "yes")
        assert await client.get("bounded") == "yes"
        assert client.connection_pool.connection_class.__name__ == "_SendBoundInPlace"
    finally:
        await client.aclose()


async def test_a_send_to_a_frozen_redis_times_out_and_the_client_recovers(
    tmp_path: Path,
) -> None:
    """A send that cannot finish (the server stopped reading, its socket buffers full)
    fails within its timeout with redis-py's TimeoutError, drops the connection, and
    the same client works once the server reads again."""
    server = RedisServer(tmp_path, appendonly=False).start()
    assert server.proc is not None
    client = create_redis(server.url, "test", socket_timeout=0.5)
    try:
        assert await client.ping()
        os.kill(server.proc.pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises((RedisTimeoutError, RedisConnectionError)):
            # 64 MiB: far more than the kernel buffers a stopped reader can take.
            await client.set("big", b"x" * (64 << 20))
        # The send's timeout, then the retries' reconnects (each bounded too).
        assert time.monotonic() - started < 6
        os.kill(server.proc.pid, signal.SIGCONT)
        assert await asyncio.wait_for(client.set("after", "1"), 10)
        assert await client.get("after") == "1"
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
        await client.aclose()
        server.stop()
