"""One stack of real processes shared by every end-to-end test module."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import redis
from ulid import ULID

from satyamark.devstack import Stack, StackOptions
from tests.utils.tiny_models import build_tiny_encoder

VERIFY_BURST = 12


@pytest.fixture(scope="package")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: Any,
    pg_server_url: str,
    pg_template: str,
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("stack")
    model = build_tiny_encoder(root / "tiny-model")
    database = pg_server_url.rsplit("/", 1)[0] + f"/satyamark_e2e_{ULID().hex[-10:].lower()}"
    rules = {
        "verify": {"capacity": VERIFY_BURST, "refill_per_s": 0.2},
        # the API fuzzer registers and logs in hundreds of times from one address
        "auth": {"capacity": 10_000, "refill_per_s": 100},
        # ... with wrong passwords too, all from 127.0.0.1
        "login-fail": {"capacity": 10_000, "refill_per_s": 100},
    }
    options = StackOptions(
        data_dir=root / "data",
        redis_url=redis_server.url,
        database_url=database,
        workers=2,
        ws_instances=2,
        default_ports=False,
        worker_model=str(model),
        extra_env={"RATELIMIT_RULES": json.dumps(rules), "WORKER_BLOCK_MS": "1000"},
    )
    redis.Redis.from_url(redis_server.url).flushall()
    running = Stack(options).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        yield client
