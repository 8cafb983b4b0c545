"""A service's PostgreSQL pool and Redis client, opened together in its lifespan."""

from __future__ import annotations

from contextlib import AsyncExitStack

import asyncpg
import redis.asyncio as aioredis

from .config import DatabaseSettingsMixin
from .db import open_database
from .redis_client import create_redis
from .runtime import closing


async def open_stores(
    opened: AsyncExitStack,
    settings: DatabaseSettingsMixin,
    redis_url: str,
    process_name: str,
    *,
    redis_timeout_s: float,
) -> tuple[asyncpg.Pool, aioredis.Redis]:
    """Both stores, closed (Redis first) when ``opened`` closes."""
    pool = await open_database(settings)
    opened.push_async_callback(pool.close)
    return pool, closing(
        opened, create_redis(redis_url, process_name, socket_timeout=redis_timeout_s)
    )
