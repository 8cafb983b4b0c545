"""Builds the WebSocket service app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from shared import keys
from shared.clients.auth import AuthClient, follow_revocations
from shared.http import create_http_client
from shared.notify import EventLog
from shared.redis_client import create_redis
from shared.service import new_app
from shared.service_auth import Keyring

from .auth import SocketUnauthorized
from .config import WsSettings
from .connection import CLOSE_GOING_AWAY
from .deps import Runtime
from .epoch import RedisEpoch
from .hub import Hub
from .listener import run_listener
from .ops_feed import push_queue_view
from .recovery import Recovery
from .routes import router

log = logging.getLogger(__name__)

_SUBSCRIBE_TIMEOUT_S = 10.0


def create_app(settings: WsSettings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = create_redis(settings.redis_url, "ws_service")
        # The listener blocks on its connection by design, so no socket timeout there.
        pubsub_redis = create_redis(
            settings.redis_url, "ws_service-pubsub", socket_timeout=None, max_connections=3
        )
        http = create_http_client(
            settings.auth_url,
            keyring=Keyring.from_settings(settings),
            timeout=settings.auth_call_timeout_s,
            timed_as=("ws_service", "auth_service"),
        )
        auth = AuthClient(http, rejected=SocketUnauthorized, unavailable_code="WS-DEP-503")
        backend = create_http_client(
            settings.backend_url,
            keyring=Keyring.from_settings(settings),
            timeout=settings.ops_push_interval_s,
            timed_as=("ws_service", "backend_service"),
        )
        hub = Hub(redis, settings.instance_id, settings.registration_ttl_s)
        events, epoch = EventLog(redis), RedisEpoch(redis)
        recovery = Recovery(
            hub,
            events,
            epoch,
            refresh_interval_s=settings.registration_ttl_s / 3,
            epoch_check_interval_s=settings.epoch_check_interval_s,
            replay_max_events=settings.replay_max_events,
        )
        subscribed = asyncio.Event()
        channel = keys.ws_instance_channel(settings.instance_id)
        tasks = [
            asyncio.create_task(
                run_listener(pubsub_redis, channel, hub, subscribed, recovery.reconnected)
            ),
            # A socket opened with an API key closes as soon as the key is revoked.
            asyncio.create_task(follow_revocations(pubsub_redis, hub.shut_key)),
            asyncio.create_task(push_queue_view(hub, backend, settings.ops_push_interval_s)),
        ]
        try:
            # Accept no socket before events for it can reach us.
            async with asyncio.timeout(_SUBSCRIBE_TIMEOUT_S):
                await subscribed.wait()
                await epoch.check()
            tasks.append(asyncio.create_task(recovery.run(), name="ws-recovery"))
            app.state.runtime = Runtime(settings, hub, auth, events, epoch, redis)
            log.info("ws_service instance %s listening on %s", settings.instance_id, channel)
            yield
        finally:
            await close_sockets(app)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await http.aclose()
            await backend.aclose()
            await pubsub_redis.aclose()
            await redis.aclose()

    app = new_app(
        service="ws_service",
        title="SatyaMark WebSocket service",
        error_prefix="WS",
        lifespan=lifespan,
        metrics=settings.metrics_port != 0,
    )
    app.include_router(router)
    return app


async def close_sockets(app: FastAPI) -> None:
    """Close every socket with 1001 and unregister it (shutdown; safe to call twice)."""
    runtime: Runtime | None = getattr(app.state, "runtime", None)
    if runtime is not None:
        await runtime.hub.close_all(
            CLOSE_GOING_AWAY, "server shutting down", runtime.settings.shutdown_close_timeout_s
        )
