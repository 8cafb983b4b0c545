"""Cancelling a task through the public API, on the real stack: the task fails as
TASK-CANCELLED, its owner is told once, a worker skips the job, and another user's task
that joined the same job still gets its verdict."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
import redis
from ulid import ULID

from satyamark.devstack import Stack
from shared import keys
from tests.e2e.test_pipeline import _bearer, _drain, _register, _socket

pytestmark = pytest.mark.e2e


@pytest.fixture
def workers_paused(stack: Stack) -> Iterator[redis.Redis]:
    """Workers read no new jobs until the test resumes them (or ends)."""
    client = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    client.hset(keys.WORKERS, mapping={"paused": "1"})
    time.sleep(1.5)  # past the blocking read a worker may be in (WORKER_BLOCK_MS)
    try:
        yield client
    finally:
        client.hset(keys.WORKERS, mapping={"paused": "0"})
        client.close()


def _worker_logs(stack: Stack) -> str:
    return "".join(
        (stack.logs / f"{name}.log").read_text(errors="replace")
        for name in stack.components
        if name.startswith("worker-")
    )


async def test_a_cancelled_task_fails_once_and_its_job_is_skipped(
    stack: Stack, api: httpx.AsyncClient, workers_paused: redis.Redis
) -> None:
    user = await _register(api, "canceller")
    token = user["access_token"]
    ws = await _socket(stack, token)
    try:
        text = f"The cancelled claim {ULID()} is true."
        submitted = await api.post("/v1/verify", json={"text": text}, headers=_bearer(token))
        assert submitted.status_code == 202, submitted.text
        task_id = submitted.json()["taskId"]

        cancelled = await api.delete(f"/v1/tasks/{task_id}", headers=_bearer(token))
        assert cancelled.status_code == 200, cancelled.text
        body = cancelled.json()
        assert body["status"] == "failed" and body["error"]["errorCode"] == "TASK-CANCELLED"
        again = await api.delete(f"/v1/tasks/{task_id}", headers=_bearer(token))
        assert again.status_code == 200 and again.json()["status"] == "failed"

        workers_paused.hset(keys.WORKERS, mapping={"paused": "0"})
        deadline = time.monotonic() + 30
        while f"task {task_id}: cancelled by its owner, skipped" not in _worker_logs(stack):
            assert time.monotonic() < deadline, "no worker skipped the cancelled job"
            await asyncio.sleep(0.2)
        events = await _drain(ws, 2, wait_s=3)
    finally:
        await ws.close()
    assert [(e["type"], e["errorCode"]) for e in events] == [("failed", "TASK-CANCELLED")]
    task = (await api.get(f"/v1/tasks/{task_id}", headers=_bearer(token))).json()
    assert task["error"]["errorCode"] == "TASK-CANCELLED" and task["result"] is None
    pending = workers_paused.xpending(keys.JOB_STREAM, keys.WORKER_GROUP)
    assert pending["pending"] == 0


async def test_only_unfinished_own_tasks_can_be_cancelled(api: httpx.AsyncClient) -> None:
    user, other = await _register(api, "finisher"), await _register(api, "stranger")
    token = user["access_token"]
    done = await api.post(
        "/v1/verify", json={"text": f"Finished claim {ULID()}."}, headers=_bearer(token)
    )
    task_id = done.json()["taskId"]
    deadline = time.monotonic() + 60
    while (await api.get(f"/v1/tasks/{task_id}", headers=_bearer(token))).json()[
        "status"
    ] == "queued":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    finished = await api.delete(f"/v1/tasks/{task_id}", headers=_bearer(token))
    assert finished.status_code == 409 and finished.json()["errorCode"] == "BE-TASK-409"
    theirs = await api.delete(f"/v1/tasks/{task_id}", headers=_bearer(other["access_token"]))
    assert theirs.status_code == 404
    missing = await api.delete(f"/v1/tasks/{ULID()}", headers=_bearer(token))
    assert missing.status_code == 404 and missing.json()["errorCode"] == "BE-TASK-404"
    assert (await api.delete(f"/v1/tasks/{task_id}")).status_code == 401


async def test_a_task_that_joined_a_cancelled_one_still_gets_its_verdict(
    stack: Stack, api: httpx.AsyncClient, workers_paused: redis.Redis
) -> None:
    alice, bob = await _register(api, "leader"), await _register(api, "joiner")
    text = f"The shared claim {ULID()} is false."
    led = await api.post("/v1/verify", json={"text": text}, headers=_bearer(alice["access_token"]))
    joined = await api.post("/v1/verify", json={"text": text}, headers=_bearer(bob["access_token"]))
    assert led.status_code == joined.status_code == 202
    bob_task = joined.json()["taskId"]
    stages = (await api.get(f"/v1/tasks/{bob_task}", headers=_bearer(bob["access_token"]))).json()
    assert "joined" in [s["stage"] for s in stages["stages"]]

    bob_ws = await _socket(stack, bob["access_token"])
    try:
        cancelled = await api.delete(
            f"/v1/tasks/{led.json()['taskId']}", headers=_bearer(alice["access_token"])
        )
        assert cancelled.status_code == 200
        workers_paused.hset(keys.WORKERS, mapping={"paused": "0"})
        events = await _drain(bob_ws, 1, wait_s=60)
    finally:
        await bob_ws.close()
    assert [(e["type"], e["taskId"]) for e in events] == [("result", bob_task)]
    task = (await api.get(f"/v1/tasks/{bob_task}", headers=_bearer(bob["access_token"]))).json()
    assert task["status"] == "done" and task["result"]["mark"]
