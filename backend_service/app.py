"""Builds backend_service: hashes and caches texts, owns task rows, enqueues jobs."""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import FastAPI

from shared.http import open_internal
from shared.periodic import Periodic
from shared.result_cache import ResultCache
from shared.runtime import started
from shared.service import service_app
from shared.service_auth import ServiceAuth, nonces_in
from shared.stores import open_stores

from .admin import admin
from .config import BackendSettings
from .deps import State
from .enqueue import JobSender
from .idempotency import IdempotencyKeys
from .intake import Intake
from .queued_stages import QueuedStages
from .routes import internal
from .sweeper import Sweeper
from .tasks import TaskRepository
from .verify import Verifier
from .webhooks import router as webhooks


def create_app(settings: BackendSettings) -> FastAPI:
    check_internal = ServiceAuth.from_settings(settings, nonces_in(State))

    async def open_state(opened: AsyncExitStack) -> State:
        pool, client = await open_stores(
            opened, settings, settings.redis_url, "backend", redis_timeout_s=3.0
        )
        jobs = JobSender(
            open_internal(
                opened, check_internal.keyring, settings.ai_url, ("backend_service", "ai_service")
            )
        )
        opened.push_async_callback(jobs.aclose)  # runs before its HTTP client closes
        tasks = TaskRepository(pool)
        intake = Intake(client)
        queued_stages = QueuedStages(pool)
        opened.push_async_callback(queued_stages.aclose)  # runs before the pool closes
        cache = ResultCache(client, settings.cache_ttl_s, settings.cache_insufficient_ttl_s)
        verifier = Verifier(
            tasks,
            cache,
            jobs,
            settings.callback_url,
            queued_stages,
            redis=client,
            intake=intake,
            inflight_ttl_s=settings.inflight_ttl_s,
        )
        sweeper = Sweeper(
            pool,
            client,
            jobs,
            cache,
            callback_url=settings.callback_url,
            older_than_s=settings.sweep_after_s,
            inflight_ttl_s=settings.inflight_ttl_s,
            batch=settings.sweep_batch,
        )
        started(opened, sweeper, settings.sweep_interval_s)
        idempotency = IdempotencyKeys(pool)
        started(opened, Periodic("idempotency-purge", idempotency.purge_expired), 3600)
        return State(
            redis=client,
            pool=pool,
            settings=settings,
            tasks=tasks,
            verifier=verifier,
            sweeper=sweeper,
            intake=intake,
            jobs=jobs,
            idempotency=idempotency,
        )

    return service_app(
        settings,
        "backend_service",
        "BE",
        open_state,
        internal=[internal, admin, webhooks],
        guard=check_internal,
    )
