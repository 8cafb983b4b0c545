"""Builds result_receiver: takes workers' signed results, records them once, relays
their cache entries and user events through the outbox, and sends the webhooks."""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import FastAPI

from shared.runtime import started
from shared.service import service_app
from shared.stores import open_stores

from .config import ReceiverSettings
from .deps import State
from .followers import InflightLead
from .outbox import OutboxRelay
from .routes import router
from .store import ResultStore
from .webhook_dispatch import WebhookDispatcher


def create_app(settings: ReceiverSettings) -> FastAPI:
    async def open_state(opened: AsyncExitStack) -> State:
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
        started(opened, relay, settings.outbox_interval_s)
        dispatcher = WebhookDispatcher(pool, settings.webhook_dispatch())
        dispatcher.start()
        opened.push_async_callback(dispatcher.stop)
        return State(
            redis=client,
            pool=pool,
            settings=settings,
            store=ResultStore(pool),
            inflight=InflightLead(client),
            relay=relay,
        )

    return service_app(settings, "result_receiver", "RR", open_state, routers=[router])
