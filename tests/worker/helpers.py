"""Helpers for worker tests: running a worker, enqueuing jobs, waiting for conditions."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson
import redis.asyncio as aioredis
import torch
from aiohttp import web
from ulid import ULID

from shared import keys
from shared.redis_client import create_redis
from shared.schemas import CALLBACK_BODY, CallbackFailure, CallbackResult, Job, Verdict
from shared.signing import SignatureError, verify
from tests.utils.settings import CALLBACK_SECRET
from worker.config import WorkerSettings
from worker.model import Judge
from worker.queue import JobQueue
from worker.runner import Worker

Index = TypeVar("Index")


class Installed(Generic[Index]):
    """What a knowledge sync hands to the judge (``install``), and how many texts it had
    embedded (``run_model``), in how many model calls."""

    def __init__(self) -> None:
        self.index: Index | None = None
        self.embedded = 0
        self.calls = 0

    def install(self, index: Index) -> None:
        self.index = index

    async def run_model(self, fn: Callable[[], torch.Tensor]) -> torch.Tensor:
        vectors = fn()
        self.embedded += vectors.shape[0]
        self.calls += 1
        return vectors


class RecordingJudge:
    """Wraps a judge, remembering each batch; ``delay_s`` simulates a slow model."""

    def __init__(self, inner: Judge, delay_s: float = 0.0) -> None:
        self.inner = inner
        self.name = "recording"
        self.delay_s = delay_s
        self.batches: list[list[str]] = []
        self.runs: list[tuple[float, float]] = []  # (start, end), monotonic seconds

    def judge(self, texts: list[str]) -> Sequence[Verdict]:
        started = time.monotonic()
        self.batches.append(list(texts))
        time.sleep(self.delay_s)
        try:
            return self.inner.judge(texts)
        finally:
            self.runs.append((started, time.monotonic()))


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


async def left_by_a_dead_worker(settings: WorkerSettings, jobs: list[Job]) -> aioredis.Redis:
    """Enqueue ``jobs`` and have a consumer that then "crashes" receive them: they stay
    pending, idle, for a live worker to take over. Returns the client (close it)."""
    await enqueue(settings, jobs)
    client = await redis_client(settings)
    dead = JobQueue(client, "dead-worker")
    await dead.ensure_group()
    assert len(await dead.read_new(len(jobs) + 10, block_ms=100)) == len(jobs)
    return client


async def pending_count(settings: WorkerSettings) -> int:
    client = await redis_client(settings)
    try:
        info: dict[str, Any] = await client.xpending(keys.JOB_STREAM, keys.WORKER_GROUP)
        return int(info["pending"])
    finally:
        await client.aclose()


async def dlq_entries(settings: WorkerSettings) -> list[dict[str, str]]:
    client = await redis_client(settings)
    try:
        rows: Any = await client.xrange(keys.JOB_DLQ_STREAM)
        return [dict(fields) for _, fields in rows]
    finally:
        await client.aclose()


async def is_true(value: bool) -> bool:
    return value


@dataclass
class CallbackServer:
    """An HTTP receiver that checks signatures, like result_receiver: one result, or a
    JSON array answered item by item. ``statuses`` scripts whole answers (popped per
    request; then 200), ``refuse`` per-task ones; ``sizes`` counts results per POST."""

    url: str = ""
    received: list[CallbackResult] = field(default_factory=list)
    failures: list[CallbackFailure] = field(default_factory=list)
    delivery_ids: list[str] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    bad_signatures: int = 0
    statuses: list[int] = field(default_factory=list)
    refuse: dict[str, int] = field(default_factory=dict)
    batches_allowed: bool = True

    def by_task(self) -> dict[str, CallbackResult]:
        return {r.taskId: r for r in self.received}

    def _record(self, item: Any) -> int:
        parsed = CALLBACK_BODY.validate_python(item)
        status = self.refuse.get(parsed.taskId, 200)
        if status == 200:
            if isinstance(parsed, CallbackFailure):
                self.failures.append(parsed)
            else:
                self.received.append(parsed)
        return status

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            delivery = verify(CALLBACK_SECRET.encode(), dict(request.headers), body)
        except SignatureError:
            self.bad_signatures += 1
            return web.json_response({"errorCode": "RR-SIG-401"}, status=401)
        self.delivery_ids.append(delivery.message_id)
        status = self.statuses.pop(0) if self.statuses else 200
        payload = orjson.loads(body)
        batch = isinstance(payload, list)
        if batch and not self.batches_allowed:
            status = 422
        if not 200 <= status < 300:
            return web.json_response({"status": status}, status=status)
        self.sizes.append(len(payload) if batch else 1)
        if not batch:
            status = self._record(payload)
            return web.json_response({"status": status}, status=status)
        answers = [{"taskId": item["taskId"], "status": self._record(item)} for item in payload]
        return web.json_response({"results": answers})


def make_job(text: str, callback_url: str, **overrides: str) -> Job:
    digest = hashlib.sha256(text.encode()).hexdigest()
    values: dict[str, Any] = {
        "taskId": str(ULID()),
        "userId": "user-1",
        "payload": text,
        "textHash": digest,
        "summaryHash": digest,
        "job_token": f"tok-{ULID()}",
        "callback_url": callback_url,
    }
    values.update(overrides)
    return Job(**values)


def job_fields(job: Job, **extra: str) -> dict[Any, Any]:
    """A stream entry as ai_service writes it (all values strings, plus extras)."""
    return {k: str(v) for k, v in job.model_dump().items()} | extra
