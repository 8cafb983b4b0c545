"""Builds ai_service: the internal API that puts validated jobs on the job stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from shared.redis_client import create_redis
from shared.service import new_app
from shared.service_auth import ServiceAuth, nonces_in

from .config import AiSettings
from .deps import State
from .queue import JobQueue
from .routes import internal


def create_app(settings: AiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = create_redis(settings.redis_url, "ai_service", socket_timeout=3.0)
        app.state.runtime = State(settings, client, JobQueue(client))
        try:
            yield
        finally:
            await client.aclose()

    app = new_app(
        service="ai_service",
        title="SatyaMark ai_service",
        error_prefix="AI",
        lifespan=lifespan,
        metrics=settings.metrics_port != 0,
    )
    check_internal = ServiceAuth.from_settings(settings, nonces_in(State))
    app.include_router(internal, dependencies=[Depends(check_internal)])
    return app
