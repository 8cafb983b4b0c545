from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import asyncpg
from fastapi import Depends, FastAPI, Header, Request
from pydantic import Field

from shared.db import open_database
from shared.errors import BadRequest, NotFound, UpstreamUnavailable
from shared.http import USER_ID_HEADER, create_http_client
from shared.redis_client import create_redis
from shared.responses import JsonResponse
from shared.result_cache import ResultCache
from shared.schemas import Strict
from shared.service import new_app
from shared.service_auth import ServiceAuth

from .config import BackendSettings
from .sweeper import Sweeper
from .tasks import TaskRepository
from .verify import Verifier


class VerifyRequest(Strict):
    text: str = Field(min_length=1)


UserId = Annotated[str, Header(alias=USER_ID_HEADER, min_length=1, max_length=64)]


def create_app(settings: BackendSettings) -> FastAPI:
    check_internal = ServiceAuth.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_database(settings)
        client = create_redis(settings.redis_url, "backend", socket_timeout=3.0)
        app.state.nonce_redis = client
        ai_client = create_http_client(settings.ai_url, keyring=check_internal.keyring)
        tasks = TaskRepository(pool)
        app.state.tasks = tasks
        app.state.verifier = Verifier(
            tasks,
            ResultCache(client, settings.cache_ttl_s, settings.cache_insufficient_ttl_s),
            ai_client,
            settings.callback_url,
            redis=client,
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
        app.state.sweeper = sweeper
        sweeper.start(settings.sweep_interval_s)
        try:
            yield
        finally:
            await sweeper.stop()
            await ai_client.aclose()
            await client.aclose()
            await pool.close()

    app = new_app(title="SatyaMark backend_service", error_prefix="BE", lifespan=lifespan)

    @app.post("/internal/verify", dependencies=[Depends(check_internal)])
    async def verify(body: VerifyRequest, user_id: UserId, request: Request) -> JsonResponse:
        text = body.text
        if not text.strip():
            raise BadRequest("text is empty", code="BE-VAL-400")
        if len(text) > settings.max_text_chars:
            raise BadRequest(
                f"text longer than {settings.max_text_chars} characters",
                code="BE-VAL-413",
                status=413,
            )
        if "\x00" in text:
            raise BadRequest("text contains NUL characters", code="BE-VAL-400")
        verifier: Verifier = request.app.state.verifier
        submitted = await verifier.submit(user_id, text)
        if submitted.cached is not None:
            result = submitted.cached.model_dump(mode="json")
            return JsonResponse({"taskId": submitted.task_id, "cached": True, "result": result})
        return JsonResponse({"taskId": submitted.task_id, "queued": True}, status_code=202)

    @app.get("/internal/tasks/{task_id}", dependencies=[Depends(check_internal)])
    async def get_task(task_id: str, user_id: UserId, request: Request) -> JsonResponse:
        if len(task_id) > 64:
            raise NotFound("no such task", code="BE-TASK-404")
        tasks: TaskRepository = request.app.state.tasks
        try:
            task = await tasks.get_for_user(task_id, user_id)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise UpstreamUnavailable("database unavailable", code="BE-DEP-503") from exc
        if task is None:
            raise NotFound("no such task", code="BE-TASK-404")
        return JsonResponse(task.model_dump(mode="json"))

    return app
