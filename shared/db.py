"""PostgreSQL pool factory and the versioned-SQL migration runner.

Migrations are ``shared/migrations/NNNN_name.sql`` files applied in order, each in its
own transaction, under an advisory lock so that services starting together do not race.
``python -m shared.db migrate`` applies them by hand; services apply them at start-up.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from pathlib import Path
from typing import Any, Literal

import asyncpg

from .config import DatabaseSettingsMixin

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Arbitrary constant shared by every process that migrates this database.
_MIGRATION_LOCK_ID = 0x5A7A_3A2C

log = logging.getLogger(__name__)

# The database is not serving (refused, reset or timed out; the connection closed under
# the query; shutting down, starting up): callers answer 503, not 500. A wrong query is
# none of these.
UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
)


PoolMode = Literal["session", "transaction"]


def _pooling(mode: PoolMode) -> dict[str, Any]:
    """Connection options for ``DATABASE_POOL_MODE``. Behind a transaction pooler each
    transaction (each statement outside one) may run on another server connection, so a
    statement prepared on one is unknown on the next: no prepared-statement cache.
    Nothing of ours keeps session state (locks are transaction-scoped)."""
    return {"statement_cache_size": 0} if mode == "transaction" else {}


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a pooled connection needs on release beyond asyncpg's own rollback of an
    open transaction: nothing. asyncpg's default sends ``pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL`` on every release, a round trip and most of PostgreSQL's
    CPU for a one-statement query; none of ours leaves locks, cursors, listeners or
    settings on the session (the migration lock is a single connection's, not a pool's)."""


async def create_pool(
    dsn: str, *, min_size: int = 2, max_size: int = 10, mode: PoolMode = "session"
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=10,
        timeout=5,
        server_settings={"application_name": "satyamark"},
        reset=_keep_session,
        **_pooling(mode),
    )
    assert pool is not None
    return pool


async def connect(dsn: str, *, mode: PoolMode = "session") -> asyncpg.Connection:
    """One connection (for a short job outside a service's pool)."""
    return await asyncpg.connect(dsn, timeout=10, **_pooling(mode))


def migration_files() -> list[tuple[int, Path]]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise RuntimeError(f"migration file name not understood: {path.name}")
        found.append((int(match.group(1)), path))
    return found


async def migrate(conn: asyncpg.Connection) -> list[int]:
    """Apply pending migrations; return the versions applied now."""
    applied_now: list[int] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_ID)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY,"
            " name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, path in migration_files():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text(encoding="utf-8"))
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    version,
                    path.name,
                )
            log.info("applied migration %s", path.name)
            applied_now.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK_ID)
    return applied_now


async def migrate_dsn(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


async def create_database_if_missing(dsn: str) -> None:
    """Create the database named in ``dsn`` (connecting to ``postgres`` to do so)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    name = parts.path.lstrip("/") or "postgres"
    admin = urlunsplit(parts._replace(path="/postgres"))
    conn = await asyncpg.connect(admin, timeout=10)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            quoted = '"' + name.replace('"', '""') + '"'
            try:
                await conn.execute(f"CREATE DATABASE {quoted}")
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await conn.close()


def main(argv: list[str]) -> int:
    import os

    if argv[:1] != ["migrate"]:
        print(
            "usage: python -m shared.db migrate  (uses DATABASE_MIGRATION_URL, else DATABASE_URL)",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    dsn = os.environ.get("DATABASE_MIGRATION_URL") or os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/satyamark"
    )
    asyncio.run(create_database_if_missing(dsn))
    applied = asyncio.run(migrate_dsn(dsn))
    print(f"applied {len(applied)} migration(s)" + (f": {applied}" if applied else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


async def open_database(settings: DatabaseSettingsMixin) -> asyncpg.Pool:
    """A service's pool, after applying migrations when the service is asked to."""
    if settings.run_migrations:
        await migrate_dsn(settings.migration_url)
    return await create_pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        mode=settings.database_pool_mode,
    )
