from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from auth_service.app import create_app as create_auth_app
from auth_service.config import AuthSettings
from tests.utils.redis import redis_client
from ws_service.app import create_app as create_ws_app
from ws_service.config import WsSettings

from .servers import Running, running

WsFactory = Callable[..., Awaitable[Running]]


@pytest.fixture
async def auth_url(database_url: str, redis_url: str) -> AsyncIterator[str]:
    settings = AuthSettings(
        database_url=database_url, redis_url=redis_url, db_pool_min=1, db_pool_max=4
    )
    async with running(create_auth_app(settings)) as server:
        yield server.http_url


@pytest.fixture
async def ws_instance(redis_url: str, auth_url: str) -> AsyncIterator[WsFactory]:
    """Starts ws_service instances against the test Redis and auth_service."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Running:
            server_class = overrides.pop("server_class", None)
            options = {"redis_url": redis_url, "auth_url": auth_url, "port": 0, **overrides}
            settings = WsSettings(**options)
            kwargs = {"server_class": server_class} if server_class else {}
            return await stack.enter_async_context(running(create_ws_app(settings), **kwargs))

        yield start


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = redis_client(redis_url, decode_responses=True)
    yield client
    await client.aclose()
