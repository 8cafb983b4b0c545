"""PostgreSQL helpers the benchmarks share: is a server there, drop a bench database."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg


async def pg_answers(server_url: str) -> bool:
    """Whether the server at ``server_url`` (no database part) accepts a connection."""
    try:
        conn = await asyncpg.connect(server_url + "/postgres", timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def drop_database(database_url: str) -> None:
    """Drop the database of ``database_url``, even with sessions still connected."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    conn = await asyncpg.connect(parts._replace(path="/postgres").geturl(), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
