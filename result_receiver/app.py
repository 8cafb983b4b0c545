"""Builds result_receiver: takes workers' signed results, records them once, relays
their cache entries and user events through the outbox, and sends the webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from shared.service import new_app
from shared.stores import open_stores

from .config import ReceiverSettings
from .deps import State
from .followers import InflightLead
from .outbox import OutboxRelay
from .routes import router
from .store import ResultStore
from .webhook_dispatch import WebhookDispatcher


def create_app(settings: ReceiverSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as opened:
            pool, client = await open_stores(
                opened, settings, settings.redis_url, "result_receiver", redis_timeout_s=3.0
            )
            relay = OutboxRelay(
                pool,
                client,
                settings.cache_ttl_s,
                settings.cache_insufficient_ttl_s,
                batch=settings.outbox_batch,
            )
            relay.start(settings.outbox_interval_s)
            opened.push_async_callback(relay.stop)
            dispatcher = WebhookDispatcher(pool, settings.webhook_dispatch())
            dispatcher.start()
            opened.push_async_callback(dispatcher.stop)
            app.state.runtime = State(
                settings, client, pool, ResultStore(pool), InflightLead(client), relay
            )
            yield

    app = new_app(
        service="result_receiver",
        title="SatyaMark result_receiver",
        error_prefix="RR",
        lifespan=lifespan,
        metrics=settings.metrics_port != 0,
    )
    app.include_router(router)
    return app
