"""Builds result_receiver: takes workers' signed results, records them once, and
relays their cache entries and user events through the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from shared.db import open_database
from shared.redis_client import create_redis
from shared.service import new_app

from .config import ReceiverSettings
from .deps import State
from .followers import InflightLead
from .outbox import OutboxRelay
from .routes import router
from .store import ResultStore


def create_app(settings: ReceiverSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as opened:
            pool = await open_database(settings)
            opened.push_async_callback(pool.close)
            client = create_redis(settings.redis_url, "result_receiver", socket_timeout=3.0)
            opened.push_async_callback(client.aclose)
            relay = OutboxRelay(
                pool,
                client,
                settings.cache_ttl_s,
                settings.cache_insufficient_ttl_s,
                batch=settings.outbox_batch,
            )
            relay.start(settings.outbox_interval_s)
            opened.push_async_callback(relay.stop)
            app.state.runtime = State(
                settings, client, pool, ResultStore(pool), InflightLead(client), relay
            )
            yield

    app = new_app(title="SatyaMark result_receiver", error_prefix="RR", lifespan=lifespan)
    app.include_router(router)
    return app
