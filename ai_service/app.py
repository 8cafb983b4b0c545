from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from redis.exceptions import RedisError

from shared.errors import PayloadTooLarge, UpstreamUnavailable
from shared.redis_client import create_redis
from shared.schemas import Job, Strict
from shared.service import new_app
from shared.service_auth import ServiceAuth

from .config import AiSettings
from .queue import JobQueue


class Enqueued(Strict):
    taskId: str
    streamId: str


def create_app(settings: AiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = create_redis(settings.redis_url, "ai_service", socket_timeout=3.0)
        app.state.queue = JobQueue(client)
        app.state.nonce_redis = client
        try:
            yield
        finally:
            await client.aclose()

    app = new_app(title="SatyaMark ai_service", error_prefix="AI", lifespan=lifespan)
    check_internal = ServiceAuth.from_settings(settings)

    @app.post("/internal/jobs", status_code=202, dependencies=[Depends(check_internal)])
    async def enqueue(job: Job, request: Request) -> Enqueued:
        if len(job.payload) > settings.max_payload_chars:
            raise PayloadTooLarge(
                f"payload longer than {settings.max_payload_chars} characters",
                code="AI-VAL-413",
            )
        queue: JobQueue = request.app.state.queue
        try:
            if await queue.backlog() >= settings.max_backlog:
                raise UpstreamUnavailable(
                    f"the job queue is full ({settings.max_backlog} jobs waiting), retry later",
                    code="AI-BUSY-503",
                    headers={"Retry-After": str(settings.busy_retry_after_s)},
                )
            stream_id = await queue.enqueue(job)
        except RedisError as exc:
            raise UpstreamUnavailable("job queue unavailable", code="AI-DEP-503") from exc
        return Enqueued(taskId=job.taskId, streamId=stream_id)

    return app
