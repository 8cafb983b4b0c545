"""Outbound webhooks through the public API, on the real stack, received by a real
local HTTP server and verified with the ``standardwebhooks`` library."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web
from standardwebhooks import Webhook
from ulid import ULID

from satyamark.devstack import Stack
from satyamark.infra import free_port
from tests.e2e.test_pipeline import _bearer, _register, _socket

pytestmark = pytest.mark.e2e


@dataclass
class Receiver:
    """A webhook endpoint: answers each POST with the next of ``statuses`` (then 200),
    after ``delay_s``; keeps what it got."""

    port: int
    statuses: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.got.append((dict(request.headers), body))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.got]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    endpoint = Receiver(free_port())
    await endpoint.start()
    try:
        yield endpoint
    finally:
        await endpoint.stop()


async def _until(check: Callable[[], bool], within_s: float = 30) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _hook(api: httpx.AsyncClient, token: str, url: str, **body: Any) -> dict[str, Any]:
    answer = await api.post("/v1/webhooks", json={"url": url, **body}, headers=_bearer(token))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def _submit(api: httpx.AsyncClient, token: str, text: str | None = None) -> str:
    text = text or f"The webhook claim {ULID()} is true."
    answer = await api.post("/v1/verify", json={"text": text}, headers=_bearer(token))
    assert answer.status_code in (200, 202), answer.text
    return str(answer.json()["taskId"])


def _verified(hook: dict[str, Any], headers: dict[str, str], body: bytes) -> Any:
    lowered = {k.lower(): v for k, v in headers.items()}
    return Webhook(hook["secret"]).verify(body, lowered)


async def test_outcomes_are_posted_signed_per_standard_webhooks(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    user = await _register(api, "hooked")
    token = user["access_token"]
    hook = await _hook(api, token, receiver.url)
    assert hook["secret"].startswith("whsec_") and hook["events"] == [
        "task.completed",
        "task.failed",
    ]
    done_id = await _submit(api, token)
    await _until(lambda: len(receiver.got) == 1)
    headers, body = receiver.got[0]
    payload = _verified(hook, headers, body)
    assert payload["type"] == "task.completed" and payload["timestamp"]
    assert payload["data"]["taskId"] == done_id and payload["data"]["status"] == "done"
    assert payload["data"]["result"]["mark"] in (
        "Correct",
        "Incorrect",
        "Insufficient",
        "Subjective",
    )

    listed = (await api.get("/v1/webhooks", headers=_bearer(token))).json()["items"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    page = (await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=_bearer(token))).json()
    assert page["items"][0]["id"] == headers["webhook-id"]
    assert page["items"][0]["status"] == "succeeded" and page["items"][0]["attempts"] == 1


async def test_a_cache_hit_and_a_failure_are_sent_too(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    first, second = await _register(api, "warm"), await _register(api, "hit")
    text = f"The cached webhook claim {ULID()} is true."
    warm_task = await _submit(api, first["access_token"], text)
    deadline = time.monotonic() + 60
    while (await api.get(f"/v1/tasks/{warm_task}", headers=_bearer(first["access_token"]))).json()[
        "status"
    ] == "queued":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    hook = await _hook(api, second["access_token"], receiver.url)
    hit = await api.post("/v1/verify", json={"text": text}, headers=_bearer(second["access_token"]))
    assert hit.status_code == 200 and hit.json()["cached"] is True
    await _until(lambda: len(receiver.got) == 1)
    payload = _verified(hook, *receiver.got[0])
    assert payload["data"] == {
        "taskId": hit.json()["taskId"],
        "status": "done",
        "cached": True,
        "result": payload["data"]["result"],
    }
    assert payload["data"]["result"]["mark"] == hit.json()["result"]["mark"]


async def test_failed_attempts_are_retried_under_the_same_webhook_id(
    stack: Stack, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    user = await _register(api, "flaky")
    token = user["access_token"]
    hook = await _hook(api, token, receiver.url, events=["task.completed"])
    receiver.statuses = [500, 503]
    await _submit(api, token)
    await _until(lambda: len(receiver.got) == 3)
    ids = {headers["webhook-id"] for headers, _ in receiver.got}
    assert len(ids) == 1
    for headers, body in receiver.got:
        _verified(hook, headers, body)
    page = (await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=_bearer(token))).json()
    delivery = page["items"][0]
    assert delivery["attempts"] == 3 and delivery["lastStatus"] == 200
    port = stack.components["result_receiver"].metrics_port
    async with httpx.AsyncClient() as scrape:
        metrics = (await scrape.get(f"http://127.0.0.1:{port}/metrics")).text
    assert 'satyamark_webhook_deliveries_total{outcome="retry"}' in metrics
    assert 'satyamark_webhook_deliveries_total{outcome="succeeded"}' in metrics

    # the endpoint goes down, then comes back: the delivery waits, then lands
    await receiver.stop()
    task_id = await _submit(api, token)
    await asyncio.sleep(1.0)
    page = (await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=_bearer(token))).json()
    waiting = page["items"][0]
    assert waiting["taskId"] == task_id and waiting["status"] == "pending"
    assert waiting["lastError"] and waiting["nextAttemptAt"]
    await receiver.start()
    await _until(lambda: len(receiver.got) == 4)
    assert receiver.got[3][0]["webhook-id"] == waiting["id"]
    assert _verified(hook, *receiver.got[3])["data"]["taskId"] == task_id


async def test_an_endpoint_failing_too_long_is_disabled_and_its_owner_told(
    stack: Stack, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    """RECEIVER_WEBHOOK_DISABLE_AFTER_S is 4 s here (24 h by default)."""
    user = await _register(api, "broken")
    token = user["access_token"]
    hook = await _hook(api, token, receiver.url)
    receiver.statuses = [500] * 1000
    ws = await _socket(stack, token)
    try:
        await _submit(api, token)
        deadline = time.monotonic() + 30
        told = None
        while told is None and time.monotonic() < deadline:
            event = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
            if event["type"] == "webhook.disabled":
                told = event
    finally:
        await ws.close()
    assert told is not None and told["webhookId"] == hook["id"]
    listed = (await api.get("/v1/webhooks", headers=_bearer(token))).json()["items"]
    assert listed[0]["disabledAt"] and listed[0]["disabledReason"]
    page = (await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=_bearer(token))).json()
    assert page["items"][0]["status"] == "failed"
    sent = len(receiver.got)
    await _submit(api, token)
    await asyncio.sleep(1.5)
    assert len(receiver.got) == sent  # nothing goes to a disabled endpoint


async def test_a_slow_endpoint_does_not_delay_anyone_else(api: httpx.AsyncClient) -> None:
    slow, fast = Receiver(free_port(), delay_s=4.0), Receiver(free_port())
    await slow.start()
    await fast.start()
    try:
        patient, hurried = await _register(api, "patient"), await _register(api, "hurried")
        await _hook(api, patient["access_token"], slow.url)
        await _hook(api, hurried["access_token"], fast.url)
        for _ in range(6):
            await _submit(api, patient["access_token"])
        await _until(lambda: len(slow.got) >= 4)  # the slow endpoint holds its 4 slots
        started = time.monotonic()
        await _submit(api, hurried["access_token"])
        await _until(lambda: len(fast.got) == 1, within_s=10)
        assert time.monotonic() - started < 3.0
        assert len(slow.got) == 4  # per endpoint, at most 4 at once
    finally:
        await slow.stop()
        await fast.stop()


async def test_managing_webhooks(api: httpx.AsyncClient, receiver: Receiver) -> None:
    user, other = await _register(api, "manager"), await _register(api, "nosy")
    token = user["access_token"]
    hook = await _hook(api, token, receiver.url)
    rotated = await api.post(f"/v1/webhooks/{hook['id']}/rotate-secret", headers=_bearer(token))
    assert rotated.status_code == 200 and rotated.json()["secret"] != hook["secret"]
    await _submit(api, token)
    await _until(lambda: len(receiver.got) == 1)
    _verified(rotated.json(), *receiver.got[0])  # signed with the new secret

    not_a_url = await api.post("/v1/webhooks", json={"url": "ftp://x/"}, headers=_bearer(token))
    assert not_a_url.status_code == 422  # refused by the schema (GW-VAL-422)
    for bad in ("http://10.1.2.3/hook", "http://169.254.169.254/latest", "http://[::]/x"):
        refused = await api.post("/v1/webhooks", json={"url": bad}, headers=_bearer(token))
        assert refused.status_code == 422 and refused.json()["errorCode"] == "BE-HOOK-422", bad
    wrong = await api.post(
        "/v1/webhooks", json={"url": receiver.url, "events": ["task.lost"]}, headers=_bearer(token)
    )
    assert wrong.status_code == 422
    theirs = await api.delete(f"/v1/webhooks/{hook['id']}", headers=_bearer(other["access_token"]))
    assert theirs.status_code == 404 and theirs.json()["errorCode"] == "BE-HOOK-404"
    key = (await api.post("/v1/api-keys", json={"name": "k"}, headers=_bearer(token))).json()
    with_key = await api.get("/v1/webhooks", headers=_bearer(key["key"]))
    assert with_key.status_code == 403
    assert (
        await api.delete(f"/v1/webhooks/{hook['id']}", headers=_bearer(token))
    ).status_code == 204
    assert (await api.get("/v1/webhooks", headers=_bearer(token))).json()["items"] == []
    await _submit(api, token)
    await asyncio.sleep(1.0)
    assert len(receiver.got) == 1  # deleted: nothing more is sent
