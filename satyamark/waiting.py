"""What a patient start-up waits for: whether Redis and PostgreSQL answer (and why not),
interruptible pauses, and a status line every few seconds rather than every poll."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import asyncpg
import redis

from shared.db import UNAVAILABLE

REPORT_EVERY_S = 5.0


def reason(exc: BaseException) -> str:
    """Why a server did not answer, for a status line: "connection refused", say."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, OSError) and cause.errno:
            return os.strerror(cause.errno).lower()
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def redis_problem(url: str) -> str | None:
    """None when Redis answers a PING, else why not."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        return reason(exc)
    finally:
        client.close()
    return None


async def pg_problem(url: str) -> str | None:
    """None when the PostgreSQL server takes a connection, else why not (its
    ``postgres`` database: the one in ``url`` may not be made yet)."""
    admin = urlsplit(url)._replace(path="/postgres").geturl()
    try:
        conn = await asyncpg.connect(admin, timeout=3)
    except (*UNAVAILABLE, asyncpg.PostgresError) as exc:
        return reason(exc)
    await conn.close()
    return None


def never() -> bool:
    return False


def pause(seconds: float, should_stop: Callable[[], bool]) -> bool:
    """Sleep up to ``seconds``; False as soon as ``should_stop`` says so (Ctrl-C)."""
    end = time.monotonic() + seconds
    while not should_stop():
        left = end - time.monotonic()
        if left <= 0:
            return True
        time.sleep(min(left, 0.1))
    return False


class Waiting:
    """Says what start-up still waits for, every REPORT_EVERY_S rather than every poll."""

    def __init__(self) -> None:
        self._last = time.monotonic()

    def report(self, items: list[str]) -> None:
        now = time.monotonic()
        if items and now - self._last >= REPORT_EVERY_S:
            print(f"waiting for: {', '.join(items)}", flush=True)
            self._last = now
