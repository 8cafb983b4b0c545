"""Handing a job to ai_service (``POST /internal/jobs``) and leading its text
(``inflight:<textHash>``): the submit path and the sweeper."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

import redis.asyncio as aioredis

from shared import keys, tracing
from shared.coalesce import Coalescer
from shared.errors import UpstreamUnavailable
from shared.http import InternalClient, call_upstream
from shared.schemas import Job
from shared.tasks import NewTask


def new_job_token() -> tuple[str, str]:
    """A fresh job_token and its SHA-256 hex (only the hash is stored)."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def job_of(task: NewTask, job_token: str, callback_url: str) -> Job:
    """The stream entry (the spec's fields) that asks a worker to judge ``task``."""
    return Job(
        taskId=task.task_id,
        userId=task.user_id,
        payload=task.payload,
        textHash=task.text_hash,
        summaryHash=task.summary_hash,
        job_token=job_token,
        callback_url=callback_url,
    )


class JobSender:
    """ai_service's job intake. The jobs handed over while a request is out go together
    in the next (``POST /internal/jobs/batch``, ``shared/coalesce.py``), each with the
    trace of the work that asked for it."""

    def __init__(self, http: InternalClient, *, max_batch: int = 64) -> None:
        self._http = http
        self._jobs: Coalescer[tuple[Job, str | None], None] = Coalescer(
            self._send, max_batch=max_batch, name="ai-jobs", timed_as=http.timed_as
        )

    async def enqueue(self, job: Job) -> None:
        """Put ``job`` on the stream; raises SatyaError subclasses when refused.

        ``BE-BUSY-503`` (with Retry-After) when ai_service applies backpressure,
        ``BE-AI-503`` for any other refusal, ``SYS-DEP-50x`` when it cannot be reached.
        """
        await self._jobs.call((job, tracing.current_traceparent()))

    async def _send(self, jobs: list[tuple[Job, str | None]]) -> Sequence[Exception | None]:
        response = await call_upstream(
            self._http,
            "POST",
            "/internal/jobs/batch",
            service="ai_service",
            json={"jobs": [{"job": job.model_dump(), "traceparent": tp} for job, tp in jobs]},
        )
        if response.status_code == 503 and "retry-after" in response.headers:
            raise UpstreamUnavailable(
                "too many texts are waiting for verification, retry later",
                code="BE-BUSY-503",
                headers={"Retry-After": response.headers["retry-after"]},
            )
        if response.status_code != 202:
            raise _refused(str(response.status_code))
        return [
            _refused(result["errorCode"]) if "errorCode" in result else None
            for result in response.json()["results"]
        ]

    async def aclose(self) -> None:
        await self._jobs.aclose()


def _refused(why: str) -> UpstreamUnavailable:
    return UpstreamUnavailable(f"ai_service refused the job ({why})", code="BE-AI-503")


async def enqueue_job(jobs: JobSender, task: NewTask, job_token: str, callback_url: str) -> None:
    """Put the job of ``task`` on the stream (``JobSender.enqueue``)."""
    await jobs.enqueue(job_of(task, job_token, callback_url))


async def take_lead(redis: aioredis.Redis, task: NewTask, ttl_s: int) -> str | None:
    """Make ``task`` the one whose job verifies its text, unless a task already is.

    One ``SET NX GET``: None when ``task`` took the lead, else the taskId that holds it
    (``task``'s own when it already led). Raises RedisError.
    """
    leader = await redis.set(
        keys.inflight_text(task.text_hash), task.task_id, nx=True, get=True, ex=ttl_s
    )
    return None if leader is None else str(leader)
