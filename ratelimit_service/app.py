"""Builds ratelimit_service: token buckets in Redis behind one internal route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from shared.redis_client import create_redis
from shared.service import new_app
from shared.service_auth import ServiceAuth, nonces_in

from .buckets import TokenBuckets
from .config import RateLimitSettings
from .deps import State
from .routes import internal


def create_app(settings: RateLimitSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = create_redis(settings.redis_url, "ratelimit", socket_timeout=2.0)
        app.state.runtime = State(settings, client, TokenBuckets(client))
        try:
            yield
        finally:
            await client.aclose()

    app = new_app(
        service="ratelimit_service",
        title="SatyaMark ratelimit_service",
        error_prefix="RL",
        lifespan=lifespan,
        metrics=settings.metrics_port != 0,
    )
    check_internal = ServiceAuth.from_settings(settings, nonces_in(State))
    app.include_router(internal, dependencies=[Depends(check_internal)])
    return app
