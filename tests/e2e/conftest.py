"""One stack of real processes shared by every end-to-end test module."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from ulid import ULID

from satyamark.devstack import Stack
from tests.e2e.stack import stack_options
from tests.fixtures.infra import own_key_prefix

VERIFY_BURST = 12


def running_stack(
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,
    pg_server_url: str,
    pooler: Callable[[str], str] | None = None,
) -> Iterator[Stack]:
    """The whole system on ``redis_url``, its own database and its own key prefix; the
    services reach the database through ``pooler(url)`` when given (a transaction
    pooler: migrations and the knowledge base load still go direct)."""
    root = tmp_path_factory.mktemp("stack")
    database = pg_server_url.rsplit("/", 1)[0] + f"/satyamark_e2e_{ULID().hex[-10:].lower()}"
    rules = {
        "verify": {"capacity": VERIFY_BURST, "refill_per_s": 0.2},
        # the API fuzzer registers and logs in hundreds of times from one address
        "auth": {"capacity": 10_000, "refill_per_s": 100},
        # ... with wrong passwords too, all from 127.0.0.1
        "login-fail": {"capacity": 10_000, "refill_per_s": 100},
        # one API key's own bucket (tests/e2e/test_api_keys.py)
        "tasks-key": {"capacity": 30, "refill_per_s": 0.5},
    }
    env = {
        "RATELIMIT_RULES": json.dumps(rules),
        # every process writes its spans here (tests/e2e/test_tracing.py)
        "SATYAMARK_TRACES_DIR": str(root / "traces"),
        # the tiny model is fast: report every start (tests/e2e/test_stages.py)
        "WORKER_PROGRESS_AFTER_S": "0",
        # webhooks retried within a second, endpoints disabled after 4 s of failures
        # (tests/e2e/test_webhooks.py)
        "RECEIVER_WEBHOOK_POLL_S": "0.2",
        "RECEIVER_WEBHOOK_RETRY_BASE_S": "0.2",
        "RECEIVER_WEBHOOK_RETRY_MAX_S": "1",
        "RECEIVER_WEBHOOK_DISABLE_AFTER_S": "4",
        "RECEIVER_WEBHOOK_TIMEOUT_S": "5",
    }
    if pooler is not None:
        env |= {
            "DATABASE_URL": pooler(database),
            "DATABASE_POOL_MODE": "transaction",
            "DATABASE_MIGRATION_URL": database,
        }
    with own_key_prefix(redis_url) as prefix:
        env["REDIS_KEY_PREFIX"] = prefix
        running = Stack(stack_options(root, redis_url, database, env)).start()
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="package")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: Any,
    pg_server_url: str,
    pg_template: str,
) -> Iterator[Stack]:
    yield from running_stack(tmp_path_factory, redis_server.url, pg_server_url)


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        yield client
