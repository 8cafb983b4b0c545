"""Server helpers the benchmarks share: is PostgreSQL there, drop a bench database,
stop what a benchmark started."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from ulid import ULID

from satyamark.infra import PostgresServer, RedisServer, port_answers

LOCAL_PG_SERVER = "postgresql://postgres@127.0.0.1:5432"


async def pg_answers(server_url: str) -> bool:
    """Whether the server at ``server_url`` (no database part) accepts a connection."""
    try:
        conn = await asyncpg.connect(server_url + "/postgres", timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


def bench_database(
    tmp: Path,
    prefix: str,
    log: Callable[[str], None],
    run: Callable[[Coroutine[Any, Any, bool]], bool] = asyncio.run,
) -> tuple[str, PostgresServer | None]:
    """A database for one benchmark run: a fresh one on the local server when it
    answers (drop it after), else a private server in ``tmp``. Returns its URL and the
    private server (None: the database is on the local server)."""
    if port_answers("127.0.0.1", 5432) and run(pg_answers(LOCAL_PG_SERVER)):
        name = f"{prefix}_{ULID().hex[:10].lower()}"
        log(f"PostgreSQL: local server, fresh database {name}")
        return f"{LOCAL_PG_SERVER}/{name}", None
    server = PostgresServer(tmp / "postgres").start()
    log("PostgreSQL: private server in the temp dir")
    return server.url, server


async def drop_database(database_url: str) -> None:
    """Drop the database of ``database_url``, even with sessions still connected."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    conn = await asyncpg.connect(parts._replace(path="/postgres").geturl(), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def stop_servers(
    redis_server: RedisServer | None,
    pg_server: PostgresServer | None,
    drop_url: str | None,
    log: Callable[[str], None],
    run: Callable[[Coroutine[Any, Any, None]], None] = asyncio.run,
) -> None:
    """Stop the private servers a benchmark started, and drop the database it made on a
    shared server (``drop_url``); a failed drop is logged, not raised."""
    if redis_server is not None:
        redis_server.stop()
    if pg_server is not None:
        pg_server.stop()
    if drop_url:
        try:
            run(asyncio.wait_for(drop_database(drop_url), 20))
        except Exception as exc:
            log(f"could not drop {drop_url}: {exc!r}")
