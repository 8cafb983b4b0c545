"""Fixtures for worker tests: the tiny model, a recording callback server, jobs."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from ulid import ULID

from satyamark.infra import free_port
from shared.schemas import CallbackResult, Job
from shared.signing import SignatureError, verify
from tests.utils.settings import CALLBACK_SECRET
from tests.utils.tiny_models import build_tiny_encoder
from worker.config import WorkerSettings
from worker.model import Judge, load_judge


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-encoder"))


@pytest.fixture(scope="session")
def tiny_judge(tiny_model_path: Path) -> Judge:
    return load_judge(WorkerSettings(model=str(tiny_model_path), device="cpu"))


@pytest.fixture
def make_settings(redis_url: str) -> Callable[..., WorkerSettings]:
    def make(**overrides: Any) -> WorkerSettings:
        values: dict[str, Any] = {
            "env": "test",
            "redis_url": redis_url,
            "callback_secret": CALLBACK_SECRET,
            "device": "cpu",
            "block_ms": 100,
            "batch_wait_ms": 5,
            "callback_backoff_s": 0.01,
            "drain_timeout_s": 10,
            "consumer": f"test-{ULID()}",
        }
        values.update(overrides)
        return WorkerSettings(**values)

    return make


@dataclass
class CallbackServer:
    """An HTTP receiver that checks signatures; ``statuses`` scripts its answers."""

    url: str = ""
    received: list[CallbackResult] = field(default_factory=list)
    delivery_ids: list[str] = field(default_factory=list)
    bad_signatures: int = 0
    statuses: list[int] = field(default_factory=list)  # popped per request; then 200

    def by_task(self) -> dict[str, CallbackResult]:
        return {r.taskId: r for r in self.received}

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            delivery = verify(CALLBACK_SECRET.encode(), dict(request.headers), body)
        except SignatureError:
            self.bad_signatures += 1
            return web.json_response({"errorCode": "RR-SIG-401"}, status=401)
        self.delivery_ids.append(delivery.message_id)
        status = self.statuses.pop(0) if self.statuses else 200
        if 200 <= status < 300:
            self.received.append(CallbackResult.model_validate_json(body))
        return web.json_response({"status": status}, status=status)


@pytest.fixture
async def callback_server() -> AsyncIterator[CallbackServer]:
    server = CallbackServer()
    app = web.Application()
    app.router.add_post("/ai-callback", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    server.url = f"http://127.0.0.1:{port}/ai-callback"
    yield server
    await runner.cleanup()


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
