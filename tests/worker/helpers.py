"""Helpers for worker tests: running a worker, enqueuing jobs, waiting for conditions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis

from shared import keys
from shared.redis_client import create_redis
from shared.schemas import Job, Verdict
from worker.config import WorkerSettings
from worker.model import Judge
from worker.runner import Worker

from .conftest import job_fields


class RecordingJudge:
    """Wraps a judge, remembering each batch; ``delay_s`` simulates a slow model."""

    def __init__(self, inner: Judge, delay_s: float = 0.0) -> None:
        self.inner = inner
        self.name = "recording"
        self.delay_s = delay_s
        self.batches: list[list[str]] = []

    def judge(self, texts: list[str]) -> list[Verdict]:
        self.batches.append(list(texts))
        time.sleep(self.delay_s)
        return self.inner.judge(texts)


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running(settings: WorkerSettings, judge: Judge) -> AsyncIterator[Worker]:
    async with Worker(settings, judge) as worker:
        task = asyncio.create_task(worker.run())
        try:
            yield worker
        finally:
            worker.stop()
            await asyncio.wait_for(task, 15)


async def redis_client(settings: WorkerSettings) -> aioredis.Redis:
    return create_redis(settings.redis_url, "worker-test")


async def enqueue(settings: WorkerSettings, jobs: list[Job], **extra: str) -> list[str]:
    client = await redis_client(settings)
    try:
        return [str(await client.xadd(keys.JOB_STREAM, job_fields(j, **extra))) for j in jobs]
    finally:
        await client.aclose()


async def pending_count(settings: WorkerSettings) -> int:
    client = await redis_client(settings)
    try:
        info: dict[str, Any] = await client.xpending(keys.JOB_STREAM, keys.WORKER_GROUP)
        return int(info["pending"])
    finally:
        await client.aclose()


async def is_true(value: bool) -> bool:
    return value
