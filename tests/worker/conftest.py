"""Fixtures for worker tests: the tiny model, worker settings, a callback server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from aiohttp import web
from ulid import ULID

from satyamark.infra import free_port
from shared.knowledge import KB_PATH
from tests.utils.settings import CALLBACK_SECRET
from tests.utils.tiny_models import build_tiny_encoder
from worker.ai.encoder import SentenceEncoder
from worker.config import WorkerSettings
from worker.model import Judge, load_judge

from .helpers import CallbackServer


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-encoder"))


@pytest.fixture(scope="module")
def encoder(tiny_model_path: Path) -> SentenceEncoder:
    return SentenceEncoder(str(tiny_model_path), device=torch.device("cpu"))


@pytest.fixture(scope="session")
def offline_judge() -> Judge:
    """The judge as `make run` loads it: the bundled encoder and knowledge base."""
    return load_judge(WorkerSettings(knowledge_base=str(KB_PATH), device="cpu"))


@pytest.fixture(scope="session")
def tiny_judge(tiny_model_path: Path) -> Judge:
    return load_judge(
        WorkerSettings(model=str(tiny_model_path), device="cpu", knowledge_base="none")
    )


@pytest.fixture
def make_settings(redis_url: str) -> Callable[..., WorkerSettings]:
    def make(**overrides: Any) -> WorkerSettings:
        values: dict[str, Any] = {
            "env": "test",
            "redis_url": redis_url,
            "callback_secret": CALLBACK_SECRET,
            "device": "cpu",
            "knowledge_base": "none",
            "block_ms": 100,
            "batch_wait_ms": 5,
            "callback_backoff_s": 0.01,
            "drain_timeout_s": 10,
            "progress_after_s": 0,  # report every start (tests/worker/test_failures.py)
            "consumer": f"test-{ULID()}",
        }
        values.update(overrides)
        return WorkerSettings(**values)

    return make


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
