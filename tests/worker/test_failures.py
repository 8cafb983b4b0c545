"""Failed attempts, retries and the DLQ: the worker against the real result_receiver."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from result_receiver.app import create_app
from result_receiver.config import ReceiverSettings
from shared import keys
from shared.schemas import Job, Verdict
from tests.utils.redis import redis_client
from tests.utils.servers import running as serving
from tests.utils.settings import CALLBACK_SECRET, common
from worker.config import WorkerSettings
from worker.model import Judge

from .helpers import dlq_entries, enqueue, eventually, make_job, pending_count, running

Settings = Callable[..., WorkerSettings]


class ScriptedJudge:
    """Raises for the first ``failures`` calls (forever if None), then delegates."""

    def __init__(self, inner: Judge, failures: int | None, error: Exception) -> None:
        self.inner, self.failures, self.error = inner, failures, error
        self.name = "scripted"
        self.calls = 0

    def judge(self, texts: list[str]) -> Sequence[Verdict]:
        self.calls += 1
        if self.failures is None or self.calls <= self.failures:
            raise type(self.error)(*self.error.args)
        return self.inner.judge(texts)


@dataclass
class Env:
    url: str
    database_url: str
    redis: aioredis.Redis

    async def add_task(self, job: Job) -> None:
        conn = await asyncpg.connect(self.database_url)
        try:
            await conn.execute(
                "INSERT INTO ai_results (id, user_id, text_hash, summary_hash, payload,"
                " job_token_hash) VALUES ($1, $2, $3, $4, $5, $6)",
                job.taskId, job.userId, job.textHash, job.summaryHash,
                job.payload.replace("\x00", ""),  # PostgreSQL text cannot hold NUL
                hashlib.sha256(job.job_token.encode()).hexdigest(),
            )  # fmt: skip
        finally:
            await conn.close()

    async def row(self, task_id: str) -> dict[str, Any]:
        conn = await asyncpg.connect(self.database_url)
        try:
            row = await conn.fetchrow("SELECT * FROM ai_results WHERE id = $1", task_id)
            assert row is not None
            return dict(row)
        finally:
            await conn.close()


@pytest.fixture
async def env(redis_url: str, database_url: str) -> AsyncIterator[Env]:
    receiver = ReceiverSettings(
        **common(redis_url, database_url),
        callback_secret=SecretStr(CALLBACK_SECRET),
        run_migrations=False,
    )
    client = redis_client(redis_url, decode_responses=True)
    async with serving(create_app(receiver)) as base:
        yield Env(f"{base}/ai-callback", database_url, client)
    await client.aclose()


async def _final_event(
    pubsub: Any, timeout_s: float = 5
) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """The first final event published, and the (stage, attempt) of the progress
    events before it."""
    progress: list[tuple[str, int]] = []
    for _ in range(int(timeout_s / 0.1)):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if not message:
            continue
        published = dict(json.loads(message["data"]))
        if published["event"]["type"] != "progress":
            return published, progress
        progress.append((published["event"]["stage"], published["event"]["attempt"]))
    raise AssertionError("no final event published")


async def test_a_judge_that_always_fails_ends_in_the_dlq_and_the_user_is_told(
    make_settings: Settings, tiny_judge: Judge, env: Env
) -> None:
    job = make_job("The Earth orbits the Sun.", env.url, userId="user-dlq")
    await env.add_task(job)
    await env.redis.hset(keys.ws_user("user-dlq"), "sock-1", "inst-a")
    pubsub = env.redis.pubsub()
    await pubsub.subscribe(keys.ws_instance_channel("inst-a"))
    judge = ScriptedJudge(tiny_judge, None, RuntimeError("CUDA error: device-side assert"))
    settings = make_settings(max_attempts=3, retry_backoff_s=0.02)
    (entry_id,) = await enqueue(settings, [job])
    async with running(settings, judge) as worker:

        async def failed() -> bool:
            return bool((await env.row(job.taskId))["status"] == "failed") and worker.in_flight == 0

        await eventually(failed)
        event, progress = await _final_event(pubsub)
    await pubsub.aclose()
    assert judge.calls == 3  # one model call per attempt, no more
    # the user saw it start and retry (reports are best effort, so some may trail)
    assert ("started", 1) in progress
    assert set(progress) <= {
        ("started", 1),
        ("retried", 1),
        ("started", 2),
        ("retried", 2),
        ("started", 3),
    }
    row = await env.row(job.taskId)
    assert row["error_code"] == "WK-MODEL-ERROR" and "3 times" in row["error_message"]
    event.pop("eventId", None)  # added by the notifier (stream replay), not ours to check
    assert event == {
        "userId": "user-dlq",
        "event": {
            "type": "failed",
            "taskId": job.taskId,
            "errorCode": "WK-MODEL-ERROR",
            "message": row["error_message"],
        },
    }
    (dead,) = await dlq_entries(settings)
    assert dead["sourceId"] == entry_id and dead["taskId"] == job.taskId
    assert dead["payload"] == job.payload and dead["job_token"] == job.job_token
    assert dead["lastError"] == "RuntimeError: CUDA error: device-side assert"
    assert dead["failureCallback"] == "accepted" and dead["deliveries"] == "3"
    attempts = json.loads(dead["attempts"])
    # The attempt numbers are Redis' delivery counter: 1 (XREADGROUP), 2, 3 (XCLAIM).
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert {a["errorCode"] for a in attempts} == {"WK-MODEL-ERROR"}
    assert await pending_count(settings) == 0
    assert await env.redis.xlen(keys.JOB_STREAM) == 0  # XDEL'd, not only acked
    assert await env.redis.exists(keys.job_attempts(entry_id)) == 0


async def test_a_judge_that_fails_twice_then_succeeds_is_done(
    make_settings: Settings, tiny_judge: Judge, env: Env
) -> None:
    job = make_job("Paris is the capital of France.", env.url)
    await env.add_task(job)
    judge = ScriptedJudge(tiny_judge, 2, torch_oom())
    settings = make_settings(max_attempts=3, retry_backoff_s=0.02)
    (entry_id,) = await enqueue(settings, [job])
    async with running(settings, judge):

        async def done() -> bool:
            return bool((await env.row(job.taskId))["status"] == "done")

        await eventually(done)
        await eventually(lambda: _no_pending(settings))
    assert judge.calls == 3
    assert await dlq_entries(settings) == []
    assert await env.redis.exists(keys.job_attempts(entry_id)) == 0


async def _no_pending(settings: WorkerSettings) -> bool:
    return await pending_count(settings) == 0


def torch_oom() -> Exception:
    import torch

    return torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


async def test_delivery_counter_comes_from_redis(
    make_settings: Settings, tiny_judge: Judge, env: Env
) -> None:
    """Deliveries a crashed worker already used count: one failure is then the last."""
    job = make_job("Water boils at 100 degrees Celsius.", env.url)
    await env.add_task(job)
    settings = make_settings(max_attempts=3, retry_backoff_s=0.02, lease_ms=200)
    (entry_id,) = await enqueue(settings, [job])
    # Two earlier deliveries to a worker that died each time (no field says so).
    await env.redis.xgroup_create(keys.JOB_STREAM, keys.WORKER_GROUP, id="0")
    await env.redis.xreadgroup(keys.WORKER_GROUP, "dead-1", {keys.JOB_STREAM: ">"})
    await env.redis.xclaim(keys.JOB_STREAM, keys.WORKER_GROUP, "dead-2", 0, [entry_id])
    judge = ScriptedJudge(tiny_judge, None, RuntimeError("boom"))
    async with running(settings, judge):

        async def failed() -> bool:
            return bool((await env.row(job.taskId))["status"] == "failed")

        await eventually(failed)
    assert judge.calls == 1  # delivery 3 of 3 (its XAUTOCLAIM): no retry left
    (dead,) = await dlq_entries(settings)
    assert dead["deliveries"] == "3"
    assert [a["attempt"] for a in json.loads(dead["attempts"])] == [3]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("   \n\t ", "WK-INPUT-EMPTY"),
        ("", "WK-INPUT-EMPTY"),
        ("claim " * 50, "WK-INPUT-TOO-LONG"),
        ("bin\x00ary \x01 data", "WK-INPUT-BINARY"),
    ],
)
async def test_bad_input_fails_at_once_without_the_model(
    make_settings: Settings, tiny_judge: Judge, env: Env, text: str, code: str
) -> None:
    job = make_job(text or " ", env.url)  # a Job cannot be empty; its stream entry can
    await env.add_task(job)
    judge = ScriptedJudge(tiny_judge, 0, RuntimeError("unused"))
    settings = make_settings(max_text_chars=100, retry_backoff_s=0.02)
    await enqueue(settings, [job], payload=text)
    async with running(settings, judge):

        async def failed() -> bool:
            return bool((await env.row(job.taskId))["status"] == "failed")

        await eventually(failed)
        await eventually(lambda: _no_pending(settings))
        await asyncio.sleep(0.1)
    assert judge.calls == 0
    row = await env.row(job.taskId)
    assert row["error_code"] == code and row["error_message"]
    assert await dlq_entries(settings) == []  # answered, so acked: not dead-lettered


async def test_receiver_down_keeps_the_entry_pending_not_dead_lettered(
    make_settings: Settings, tiny_judge: Judge, env: Env
) -> None:
    job = make_job("The Moon orbits the Earth.", "http://127.0.0.1:9/ai-callback")
    settings = make_settings(max_attempts=1, callback_attempts=2)
    await enqueue(settings, [job])
    async with running(settings, tiny_judge) as worker:
        await eventually(lambda: _settled(worker))
        await asyncio.sleep(0.2)
        assert await pending_count(settings) == 1
    assert await dlq_entries(settings) == []


async def _settled(worker: Any) -> bool:
    # Pending first: the entry is pending before it is in flight, never the other way.
    return await pending_count(worker.settings) == 1 and worker.in_flight == 0
