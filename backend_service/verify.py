"""The submit path: hash, cache, task row, enqueue (spec, "Backend Service")."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import asyncpg
import httpx
from redis.exceptions import RedisError
from ulid import ULID

from shared.errors import SatyaError, UpstreamUnavailable
from shared.hashing import summary_hash, text_hash
from shared.http import call_upstream
from shared.result_cache import ResultCache
from shared.schemas import Job, Verdict

from .tasks import NewTask, TaskRepository


@dataclass(frozen=True, slots=True)
class Submitted:
    task_id: str
    cached: Verdict | None


class Verifier:
    def __init__(
        self,
        tasks: TaskRepository,
        cache: ResultCache,
        ai_client: httpx.AsyncClient,
        callback_url: str,
    ) -> None:
        self._tasks = tasks
        self._cache = cache
        self._ai = ai_client
        self._callback_url = callback_url

    async def submit(self, user_id: str, text: str) -> Submitted:
        task = NewTask(
            task_id=str(ULID()),
            user_id=user_id,
            text_hash=text_hash(text),
            summary_hash=summary_hash(text),
            payload=text,
        )
        try:
            hit = await self._cache.lookup(task.text_hash, task.summary_hash)
        except RedisError as exc:
            raise UpstreamUnavailable("cache unavailable", code="BE-DEP-503") from exc
        try:
            if hit is not None:
                await self._tasks.create_cached(task, hit)
                return Submitted(task.task_id, hit)
            job_token = secrets.token_urlsafe(32)
            token_hash = hashlib.sha256(job_token.encode()).hexdigest()
            await self._tasks.create_queued(task, token_hash)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise UpstreamUnavailable("database unavailable", code="BE-DEP-503") from exc
        await self._enqueue(task, job_token)
        return Submitted(task.task_id, None)

    async def _enqueue(self, task: NewTask, job_token: str) -> None:
        job = Job(
            taskId=task.task_id,
            userId=task.user_id,
            payload=task.payload,
            textHash=task.text_hash,
            summaryHash=task.summary_hash,
            job_token=job_token,
            callback_url=self._callback_url,
        )
        try:
            response = await call_upstream(
                self._ai,
                "POST",
                "/internal/jobs",
                service="ai_service",
                content=job.model_dump_json(),
                headers={"content-type": "application/json"},
            )
            if response.status_code == 503 and "retry-after" in response.headers:
                raise UpstreamUnavailable(
                    "too many texts are waiting for verification, retry later",
                    code="BE-BUSY-503",
                    headers={"Retry-After": response.headers["retry-after"]},
                )
            if response.status_code != 202:
                raise UpstreamUnavailable(
                    f"ai_service refused the job ({response.status_code})", code="BE-AI-503"
                )
        except SatyaError as exc:
            # The row must not stay 'queued' for a job that never reached the stream.
            await self._tasks.mark_failed(task.task_id, exc.error_code, exc.message)
            raise
