"""ai_service refuses new jobs while the backlog is over its limit; nothing is trimmed."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import asyncpg
import httpx

from ai_service.app import create_app as create_ai
from ai_service.config import AiSettings
from backend_service.app import create_app as create_backend
from backend_service.config import BackendSettings
from shared import keys
from shared.http import USER_ID_HEADER
from tests.utils.redis import redis_client
from tests.utils.servers import running
from tests.utils.settings import SIGNED, common


async def test_full_queue_answers_503_with_retry_after(redis_url: str, database_url: str) -> None:
    base = common(redis_url, database_url)
    client = redis_client(redis_url, decode_responses=True)
    async with AsyncExitStack() as stack:
        ai_url = await stack.enter_async_context(
            running(create_ai(AiSettings(**base, max_backlog=3, busy_retry_after_s=7)))
        )
        backend_url = await stack.enter_async_context(
            running(
                create_backend(
                    BackendSettings(**base, ai_url=ai_url, receiver_url="http://127.0.0.1:9")
                )
            )
        )
        http = await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=backend_url,
                headers={USER_ID_HEADER: "u1"},
                auth=SIGNED,
            )
        )

        async def submit(text: str) -> httpx.Response:
            return await http.post("/internal/verify", json={"text": text})

        assert [(await submit(f"claim {i}")).status_code for i in range(3)] == [202] * 3
        refused = await submit("one too many")
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "7"
        assert refused.json()["errorCode"] == "BE-BUSY-503"
        assert await client.xlen(keys.JOB_STREAM) == 3  # nothing trimmed, nothing added

        # a worker takes the jobs but has not finished: still a backlog
        await client.xgroup_create(keys.JOB_STREAM, keys.WORKER_GROUP, id="0")
        taken = await client.xreadgroup(keys.WORKER_GROUP, "w1", {keys.JOB_STREAM: ">"})
        await asyncio.sleep(0.3)
        assert (await submit("still busy")).status_code == 503
        # ...and once it acknowledges them, new jobs are accepted again
        ids = [entry_id for _, entries in taken for entry_id, _ in entries]  # type: ignore[union-attr,str-unpack]
        await client.xack(keys.JOB_STREAM, keys.WORKER_GROUP, *ids)
        await asyncio.sleep(0.3)
        assert (await submit("accepted again")).status_code == 202

    conn = await asyncpg.connect(database_url)
    statuses = await conn.fetch("SELECT status, error_code FROM ai_results ORDER BY created_at")
    await conn.close()
    await client.aclose()
    assert [r["status"] for r in statuses].count("failed") == 2
    assert {r["error_code"] for r in statuses if r["status"] == "failed"} == {"BE-BUSY-503"}
