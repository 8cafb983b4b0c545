"""Builds the WebSocket service app."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from fastapi import FastAPI

from shared import keys
from shared.clients.auth import AuthClient, follow_revocations
from shared.http import open_internal
from shared.notify import EventLog
from shared.redis_client import create_redis
from shared.runtime import closing, in_background
from shared.service import service_app
from shared.service_auth import Keyring

from .auth import SocketUnauthorized
from .config import WsSettings
from .connection import CLOSE_GOING_AWAY
from .deps import Runtime
from .epoch import RedisEpoch
from .heap import HeapSettler
from .hub import Hub
from .listener import run_listener
from .ops_feed import push_queue_view
from .recovery import Recovery
from .routes import router

log = logging.getLogger(__name__)

_SUBSCRIBE_TIMEOUT_S = 10.0


def create_app(settings: WsSettings) -> FastAPI:
    async def open_state(opened: AsyncExitStack) -> Runtime:
        redis = closing(opened, create_redis(settings.redis_url, "ws_service"))
        # The listener blocks on its connection by design, so no socket timeout there.
        pubsub_redis = closing(
            opened,
            create_redis(
                settings.redis_url, "ws_service-pubsub", socket_timeout=None, max_connections=3
            ),
        )
        keyring = Keyring.from_settings(settings)
        to_auth, to_backend = ("ws_service", "auth_service"), ("ws_service", "backend_service")
        http = open_internal(
            opened, keyring, settings.auth_url, to_auth, timeout=settings.auth_call_timeout_s
        )
        auth = AuthClient(http, rejected=SocketUnauthorized, unavailable_code="WS-DEP-503")
        backend = open_internal(
            opened, keyring, settings.backend_url, to_backend, timeout=settings.ops_push_interval_s
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
        in_background(
            opened, run_listener(pubsub_redis, channel, hub, subscribed, recovery.reconnected)
        )
        # A socket opened with an API key closes as soon as the key is revoked.
        in_background(opened, follow_revocations(pubsub_redis, hub.shut_key))
        in_background(opened, push_queue_view(hub, backend, settings.ops_push_interval_s))
        in_background(opened, hub.watch_stuck_writes(min(1.0, settings.send_timeout_s / 4)))
        in_background(opened, HeapSettler(hub.__len__, lambda: hub.closed_total).run())
        # Accept no socket before events for it can reach us.
        async with asyncio.timeout(_SUBSCRIBE_TIMEOUT_S):
            await subscribed.wait()
            await epoch.check()
        in_background(opened, recovery.run(), name="ws-recovery")
        runtime = Runtime(
            redis=redis, settings=settings, hub=hub, auth=auth, events=events, epoch=epoch
        )
        opened.push_async_callback(_say_goodbye, runtime)
        log.info("ws_service instance %s listening on %s", settings.instance_id, channel)
        return runtime

    return service_app(
        settings,
        "ws_service",
        "WS",
        open_state,
        title="SatyaMark WebSocket service",
        routers=[router],
    )


async def close_sockets(app: FastAPI) -> None:
    """Close every socket with 1001 and unregister it (shutdown; safe to call twice)."""
    runtime: Runtime | None = getattr(app.state, "runtime", None)
    if runtime is not None:
        await _say_goodbye(runtime)


async def _say_goodbye(runtime: Runtime) -> None:
    await runtime.hub.close_all(
        CLOSE_GOING_AWAY, "server shutting down", runtime.settings.shutdown_close_timeout_s
    )
