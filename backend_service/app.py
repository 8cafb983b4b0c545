"""Builds backend_service: hashes and caches texts, owns task rows, enqueues jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import Depends, FastAPI

from shared.http import create_http_client
from shared.periodic import Periodic
from shared.result_cache import ResultCache
from shared.service import new_app
from shared.service_auth import ServiceAuth, nonces_in
from shared.stores import open_stores

from .admin import admin
from .config import BackendSettings
from .deps import State
from .idempotency import IdempotencyKeys
from .intake import Intake
from .routes import internal
from .sweeper import Sweeper
from .tasks import TaskRepository
from .verify import Verifier
from .webhooks import router as webhooks


def create_app(settings: BackendSettings) -> FastAPI:
    check_internal = ServiceAuth.from_settings(settings, nonces_in(State))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as opened:
            pool, client = await open_stores(
                opened, settings, settings.redis_url, "backend", redis_timeout_s=3.0
            )
            ai_client = create_http_client(
                settings.ai_url,
                keyring=check_internal.keyring,
                timed_as=("backend_service", "ai_service"),
            )
            opened.push_async_callback(ai_client.aclose)
            tasks = TaskRepository(pool)
            intake = Intake(client)
            verifier = Verifier(
                tasks,
                ResultCache(client, settings.cache_ttl_s, settings.cache_insufficient_ttl_s),
                ai_client,
                settings.callback_url,
                redis=client,
                intake=intake,
                inflight_ttl_s=settings.inflight_ttl_s,
            )
            sweeper = Sweeper(
                pool,
                client,
                ai_client,
                callback_url=settings.callback_url,
                older_than_s=settings.sweep_after_s,
                inflight_ttl_s=settings.inflight_ttl_s,
                batch=settings.sweep_batch,
            )
            sweeper.start(settings.sweep_interval_s)
            opened.push_async_callback(sweeper.stop)
            idempotency = IdempotencyKeys(pool)
            purge = Periodic("idempotency-purge", idempotency.purge_expired)
            purge.start(3600)
            opened.push_async_callback(purge.stop)
            app.state.runtime = State(
                settings, client, pool, tasks, verifier, sweeper, intake, ai_client, idempotency
            )
            yield

    app = new_app(
        service="backend_service",
        title="SatyaMark backend_service",
        error_prefix="BE",
        lifespan=lifespan,
        metrics=settings.metrics_port != 0,
    )
    app.include_router(internal, dependencies=[Depends(check_internal)])
    app.include_router(admin, dependencies=[Depends(check_internal)])
    app.include_router(webhooks, dependencies=[Depends(check_internal)])
    return app
