"""Stream operations against a real Redis (no mocks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from shared import keys
from shared.redis_client import create_redis
from worker.queue import JobQueue


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    c = create_redis(redis_url, "worker-test")
    yield c
    await c.aclose()


async def _add(client: aioredis.Redis, n: int) -> list[str]:
    return [str(await client.xadd(keys.JOB_STREAM, {"n": str(i)})) for i in range(n)]


async def _pending(client: aioredis.Redis) -> dict[str, str]:
    """entry id -> owning consumer."""
    rows = await client.xpending_range(keys.JOB_STREAM, keys.WORKER_GROUP, "-", "+", 1000)
    return {str(row["message_id"]): str(row["consumer"]) for row in rows}


async def test_ensure_group_is_idempotent(client: aioredis.Redis) -> None:
    queue = JobQueue(client, "c1")
    await queue.ensure_group()
    await queue.ensure_group()  # BUSYGROUP tolerated
    groups = await client.xinfo_groups(keys.JOB_STREAM)
    assert [g["name"] for g in groups] == [keys.WORKER_GROUP]


async def test_entries_added_before_the_group_exist_are_delivered(client: aioredis.Redis) -> None:
    ids = await _add(client, 3)
    queue = JobQueue(client, "c1")
    await queue.ensure_group()
    got = await queue.read_new(10, block_ms=100)
    assert [e.id for e in got] == ids
    assert got[0].fields == {"n": "0"}


async def test_read_blocks_then_returns_empty(client: aioredis.Redis) -> None:
    queue = JobQueue(client, "c1")
    await queue.ensure_group()
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await queue.read_new(10, block_ms=200) == []
    assert loop.time() - start >= 0.15  # it waited server-side instead of polling


async def test_read_wakes_up_on_a_new_entry(client: aioredis.Redis) -> None:
    queue = JobQueue(client, "c1")
    await queue.ensure_group()
    reader = asyncio.create_task(queue.read_new(10, block_ms=5000))
    await asyncio.sleep(0.05)
    (entry_id,) = await _add(client, 1)
    got = await asyncio.wait_for(reader, 2)
    assert [e.id for e in got] == [entry_id]


async def test_two_consumers_split_entries_without_overlap(client: aioredis.Redis) -> None:
    a, b = JobQueue(client, "a"), JobQueue(client, "b")
    await a.ensure_group()
    ids = await _add(client, 20)
    got_a = await a.read_new(7, block_ms=100)
    got_b = await b.read_new(100, block_ms=100)
    seen_a, seen_b = {e.id for e in got_a}, {e.id for e in got_b}
    assert len(got_a) == 7
    assert not seen_a & seen_b
    assert seen_a | seen_b == set(ids)
    owners = await _pending(client)
    assert {i for i, c in owners.items() if c == "a"} == seen_a


async def test_own_pending_entries_are_read_again_after_a_restart(
    client: aioredis.Redis,
) -> None:
    first = JobQueue(client, "stable-name")
    await first.ensure_group()
    ids = await _add(client, 3)
    await first.read_new(10, block_ms=100)
    await first.ack(ids[0])
    again = JobQueue(client, "stable-name")  # same consumer name, new process
    assert [e.id for e in await again.read_own_pending(10)] == ids[1:]
    assert [e.id for e in await again.read_own_pending(10, after=ids[1])] == ids[2:]
    assert await again.read_new(10, block_ms=50) == []


async def test_ack_removes_from_pending(client: aioredis.Redis) -> None:
    queue = JobQueue(client, "c1")
    await queue.ensure_group()
    ids = await _add(client, 2)
    await queue.read_new(10, block_ms=100)
    assert await queue.ack(ids[0]) == 1
    assert set(await _pending(client)) == {ids[1]}
    assert await queue.ack() == 0


async def test_claim_stale_takes_over_only_idle_entries(client: aioredis.Redis) -> None:
    dead, alive = JobQueue(client, "dead"), JobQueue(client, "alive")
    await dead.ensure_group()
    ids = await _add(client, 5)
    await dead.read_new(10, block_ms=100)
    assert await alive.claim_stale(min_idle_ms=10_000, limit=10) == []
    await asyncio.sleep(0.15)
    got = await alive.claim_stale(min_idle_ms=100, limit=3)
    assert [e.id for e in got] == ids[:3]
    assert got[0].fields == {"n": "0"}
    owners = await _pending(client)
    assert [owners[i] for i in ids] == ["alive"] * 3 + ["dead"] * 2


async def test_claim_stale_pages_through_the_pending_list(client: aioredis.Redis) -> None:
    dead, alive = JobQueue(client, "dead"), JobQueue(client, "alive")
    await dead.ensure_group()
    ids = await _add(client, 30)
    await dead.read_new(100, block_ms=100)
    await asyncio.sleep(0.15)
    got = await alive.claim_stale(min_idle_ms=100, limit=100)
    assert [e.id for e in got] == ids


async def test_claim_stale_skips_deleted_entries(client: aioredis.Redis) -> None:
    dead, alive = JobQueue(client, "dead"), JobQueue(client, "alive")
    await dead.ensure_group()
    ids = await _add(client, 3)
    await dead.read_new(10, block_ms=100)
    await client.xdel(keys.JOB_STREAM, ids[1])
    await asyncio.sleep(0.15)
    got = await alive.claim_stale(min_idle_ms=100, limit=10)
    assert [e.id for e in got] == [ids[0], ids[2]]


async def test_refresh_lease_keeps_live_entries_from_being_claimed(
    client: aioredis.Redis,
) -> None:
    busy, other = JobQueue(client, "busy"), JobQueue(client, "other")
    await busy.ensure_group()
    ids = await _add(client, 2)
    await busy.read_new(10, block_ms=100)
    await asyncio.sleep(0.2)
    assert await busy.refresh_lease(ids[:1]) == {ids[0]}
    got = await other.claim_stale(min_idle_ms=150, limit=10)
    assert [e.id for e in got] == [ids[1]]  # only the entry we did not refresh


async def test_refresh_lease_never_takes_back_a_claimed_entry(client: aioredis.Redis) -> None:
    slow, rescuer = JobQueue(client, "slow"), JobQueue(client, "rescuer")
    await slow.ensure_group()
    (entry_id,) = await _add(client, 1)
    await slow.read_new(10, block_ms=100)
    await asyncio.sleep(0.15)
    await rescuer.claim_stale(min_idle_ms=100, limit=10)
    assert await slow.refresh_lease([entry_id]) == set()
    assert (await _pending(client))[entry_id] == "rescuer"
    assert await slow.refresh_lease([]) == set()


async def test_a_lost_group_is_created_again_by_either_read(client: aioredis.Redis) -> None:
    """Redis lost its data between a worker's start and its first reads (a restart
    without persistence): both reads recreate the group instead of failing."""
    queue = JobQueue(client, "c1")
    await queue.ensure_group()
    await client.delete(keys.JOB_STREAM)  # the stream and its group are gone
    assert await queue.read_own_pending(10) == []
    assert await client.xinfo_groups(keys.JOB_STREAM)
    await client.delete(keys.JOB_STREAM)
    assert await queue.read_new(10, block_ms=10) == []
    assert await client.xinfo_groups(keys.JOB_STREAM)
