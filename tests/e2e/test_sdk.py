"""The Python SDK (``satyamark.client``) against the real running stack: only the public
API, the way a platform uses it."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
import redis
from standardwebhooks import Webhook
from ulid import ULID

from satyamark.client import AsyncSatyaMark, SatyaMark, SatyaMarkError, verify_webhook
from satyamark.devstack import Stack
from shared import keys

pytestmark = pytest.mark.e2e


def _account() -> tuple[str, str]:
    return f"sdk-{ULID().hex[-8:]}@example.com", "password-123"


async def test_a_platform_verifies_and_reads_its_tasks_with_a_key(stack: Stack) -> None:
    email, password = _account()
    async with await AsyncSatyaMark.login(
        stack.gateway_url, email, password, register=True
    ) as person:
        key = await person.api_keys.create("newsroom", scopes=["verify", "tasks:read"])
        assert [k.id for k in await person.api_keys.list()] == [key.id]

    seen: list[dict[str, object]] = []
    async with AsyncSatyaMark(stack.gateway_url, api_key=key.key) as platform:
        text = f"The SDK claim {ULID()} is true."
        outcome = await platform.verify(text, on_event=seen.append)
        assert outcome.status == "done" and outcome.result is not None and not outcome.cached
        assert outcome.result.mark in ("Correct", "Incorrect", "Insufficient", "Subjective")
        assert any(e.get("taskId") == outcome.taskId for e in seen)
        again = await platform.verify(text)
        assert again.cached and again.result is not None
        assert again.result.mark == outcome.result.mark

        listed = [task.taskId async for task in platform.tasks.iterate(page_size=1)]
        assert listed == [again.taskId, outcome.taskId]
        task = await platform.tasks.get(outcome.taskId)
        assert task.status == "done" and task.result == outcome.result
        with pytest.raises(SatyaMarkError) as finished:
            await platform.tasks.cancel(outcome.taskId)
        assert finished.value.status == 409 and finished.value.error_code == "BE-TASK-409"
        with pytest.raises(SatyaMarkError) as no_keys:
            await platform.api_keys.list()
        assert no_keys.value.error_code == "GW-SCOPE-403"

        # an idempotent retry gets the first task back
        retry_text = f"Retried {ULID()}."
        submitted = await platform.submit(retry_text, idempotency_key="retry-1")
        retried = await platform.submit(retry_text, idempotency_key="retry-1")
        assert retried.taskId == submitted.taskId
        assert (await platform.wait_for(submitted.taskId)).taskId == submitted.taskId


async def test_a_verdict_arrives_across_a_ws_service_restart(stack: Stack) -> None:
    """Both ws_service instances restart while the SDK waits: it reconnects, resumes
    after the last event it saw, and still gets the verdict."""
    email, password = _account()
    async with await AsyncSatyaMark.login(
        stack.gateway_url, email, password, register=True
    ) as client:
        switch = redis.Redis.from_url(stack.redis_url, decode_responses=True)
        async with client.stream() as events:
            # workers hold the job until the sockets are gone: the verdict comes after
            switch.hset(keys.WORKERS, mapping={"paused": "1"})
            try:
                await asyncio.sleep(1.5)  # past a worker's blocking read
                submitted = await client.submit(f"The restart claim {ULID()} is false.")
                for name in ("ws_service-1", "ws_service-2"):
                    await asyncio.to_thread(stack.restart, name)
            finally:
                switch.hset(keys.WORKERS, mapping={"paused": "0"})
                switch.close()
            seen: list[dict[str, object]] = []
            try:
                outcome = await client._outcome(events, submitted.taskId, 60, seen.append)
            except TimeoutError:
                raise AssertionError(
                    f"no verdict; saw {seen}, {events.reconnects} reconnects"
                ) from None
            assert events.reconnects >= 1
        assert outcome.taskId == submitted.taskId and outcome.status == "done"


def test_the_blocking_client_manages_webhooks_and_checks_their_signatures(
    stack: Stack,
) -> None:
    email, password = _account()
    with SatyaMark.login(stack.gateway_url, email, password, register=True) as client:
        hook = client.webhooks.create("http://127.0.0.1:9/hooks", events=["task.failed"])
        assert [h.id for h in client.webhooks.list()] == [hook.id]
        rotated = client.webhooks.rotate_secret(hook.id)
        assert rotated.secret != hook.secret
        assert client.webhooks.deliveries(hook.id).items == []
        client.webhooks.delete(hook.id)
        assert client.webhooks.list() == []
        page = client.tasks.list(limit=5)
        assert page.items == [] and page.nextCursor is None

    body = json.dumps({"type": "task.failed", "timestamp": "now", "data": {}}).encode()
    at = datetime.now(UTC)
    signature = Webhook(rotated.secret).sign("msg_1", at, body)
    headers = {
        "Webhook-Id": "msg_1",
        "Webhook-Timestamp": str(int(at.timestamp())),
        "Webhook-Signature": signature,
    }
    assert verify_webhook(body, headers, rotated.secret)["type"] == "task.failed"
    with pytest.raises(SatyaMarkError) as forged:
        verify_webhook(body + b" ", headers, rotated.secret)
    assert forged.value.error_code == "SDK-WEBHOOK-401"
    with SatyaMark(stack.gateway_url, api_key="sm_live_nope") as stranger:
        with pytest.raises(SatyaMarkError) as wrong:
            stranger.tasks.list()
    assert wrong.value.status == 401


def test_the_cli_verifies_with_a_key_and_watches_the_pushed_events(stack: Stack) -> None:
    email, password = _account()
    with SatyaMark.login(stack.gateway_url, email, password, register=True) as client:
        key = client.api_keys.create("cli").key
    env = {**os.environ, "SATYAMARK_URL": stack.gateway_url, "SATYAMARK_API_KEY": key}
    cli = [sys.executable, "-m", "satyamark.cli"]
    # From the start of the account's log: the verify below may finish before the watcher
    # has connected (both are fresh processes), and a replayed verdict counts as well.
    watch = subprocess.Popen(
        [*cli, "watch", "--last-event-id", "0-0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    output = watch.stdout
    assert output is not None
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:  # a thread: readline would block the deadline below
        for line in output:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        verified = subprocess.run(
            [*cli, "verify", f"The CLI claim {ULID()} is true.", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert verified.returncode == 0, verified.stderr
        outcome = json.loads(verified.stdout)
        assert outcome["status"] == "done" and outcome["result"]["mark"]
        while True:  # the watcher printed the same verdict as it was pushed
            event = json.loads(lines.get(timeout=30))
            if event.get("taskId") == outcome["taskId"] and event["type"] == "result":
                break
    finally:
        watch.terminate()
        watch.wait(10)
        reader.join(10)  # it ends at the pipe's end, before the pipe is closed
        output.close()
    refused = subprocess.run(
        [*cli, "verify", "x", "--api-key", "sm_live_bad"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "401" in refused.stderr
