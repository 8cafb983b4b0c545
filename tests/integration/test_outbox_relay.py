"""The outbox relay: parallel relays share rows without delivering one twice, and the
receiver's background relay rides out a Redis outage."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from result_receiver.outbox import OutboxRelay
from satyamark.infra import RedisServer
from shared import events, keys
from tests.integration.test_outbox import Receiver, open_receiver
from tests.utils.redis import redis_client

TTL = 3600


@pytest.fixture
async def receiver(redis_url: str, database_url: str) -> AsyncIterator[Receiver]:
    async with open_receiver(redis_url, database_url) as made:
        yield made


async def test_parallel_relays_never_deliver_a_row_twice(
    receiver: Receiver, redis_url: str, database_url: str
) -> None:
    task_id, _ = await receiver.task("u1")
    # One taskId per row: a task's final event is logged once however often it is sent,
    # so only distinct tasks show in the log whether a row went out twice.
    await receiver.db.execute(
        "INSERT INTO outbox (task_id, kind, payload)"
        " SELECT $1, 'notify', jsonb_build_object('user_id', 'u1', 'event',"
        " jsonb_build_object('type', 'result', 'taskId', $1::text || '-' || n, 'n', n))"
        " FROM generate_series(1, 60) AS n",
        task_id,
    )
    pools = [await asyncpg.create_pool(database_url, min_size=1, max_size=2) for _ in range(2)]
    clients = [redis_client(redis_url, decode_responses=True) for _ in range(2)]
    try:
        relays = [
            OutboxRelay(pool, client, TTL, TTL, batch=7)
            for pool, client in zip(pools, clients, strict=True)
        ]
        counts = await asyncio.gather(*(r.relay_once(min_age_s=0) for r in relays))
    finally:
        for client in clients:
            await client.aclose()
        for pool in pools:
            await pool.close()
    assert sum(counts) == 60
    assert await receiver.redis.xlen(keys.user_events("u1")) == 60
    logged: Any = await receiver.redis.xrange(keys.user_events("u1"))
    assert len({json.loads(fields["event"])["n"] for _, fields in logged}) == 60
    assert await receiver.db.fetchval("SELECT count(*) FROM outbox WHERE delivered_at IS NULL") == 0


async def test_a_row_relayed_again_after_a_crash_is_not_pushed_again(
    receiver: Receiver,
) -> None:
    task_id, _ = await receiver.task("u1")
    failed = events.FailedEvent(taskId=task_id, errorCode="E-1", message="m")
    event = failed.model_dump(mode="json")
    async with receiver.db.transaction():
        (written,) = await events.write(receiver.db, [events.notify_entry(task_id, "u1", failed)])
    row = written.id
    await receiver.redis.hset(keys.ws_user("u1"), "sock-1", "inst-a")
    pubsub = receiver.redis.pubsub()
    await pubsub.subscribe(keys.ws_instance_channel("inst-a"))
    await pubsub.get_message(timeout=1)
    relay = OutboxRelay(receiver.app.state.runtime.pool, receiver.redis, TTL, TTL)
    assert await relay.relay_once(min_age_s=0) == 1
    # The relay died after Redis took the event and before its mark committed.
    await receiver.db.execute("UPDATE outbox SET delivered_at = NULL WHERE id = $1", row)

    assert await relay.relay_once(min_age_s=0) == 1
    assert await receiver.db.fetchval("SELECT delivered_at FROM outbox WHERE id = $1", row)
    logged: Any = await receiver.redis.xrange(keys.user_events("u1"))
    assert [json.loads(fields["event"]) for _, fields in logged] == [event]
    pushes = []
    while message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5):
        pushes.append(json.loads(message["data"]))
    assert pushes == [{"userId": "u1", "eventId": logged[0][0], "event": event}]
    await pubsub.aclose()


async def test_background_relay_outlives_a_redis_outage(tmp_path: Path, database_url: str) -> None:
    server = RedisServer(tmp_path / "redis", appendonly=False).start()
    try:
        async with open_receiver(server.url, database_url, interval_s=0.1) as receiver:
            task_id, _ = await receiver.task("u1")
            verdict = {"mark": "Correct", "reason": "r", "confidence": 50}
            payload = {"text_hash": "a" * 64, "summary_hash": "b" * 64, "verdict": verdict}
            await receiver.db.execute(
                "INSERT INTO outbox (task_id, kind, payload) VALUES ($1, 'cache', $2::jsonb)",
                task_id,
                json.dumps(payload),
            )
            await receiver.redis.aclose()
            server.stop()
            await asyncio.sleep(2.0)  # several failed rounds, each logged
            assert receiver.app.state.runtime.relay.running
            assert await receiver.db.fetchval("SELECT delivered_at FROM outbox") is None

            server.start()  # Redis is back, on the same port
            client = redis_client(server.url, decode_responses=True)
            try:
                for _ in range(100):
                    if await receiver.db.fetchval("SELECT delivered_at FROM outbox"):
                        break
                    await asyncio.sleep(0.1)
                assert await receiver.db.fetchval("SELECT delivered_at FROM outbox") is not None
                cached = await client.get(keys.cache_result("a" * 64))
                assert cached is not None and json.loads(cached)["mark"] == "Correct"
            finally:
                await client.aclose()
    finally:
        server.stop()


async def test_prune_forgets_only_rows_delivered_before_the_keep_time(
    receiver: Receiver,
) -> None:
    task_id, _ = await receiver.task("u1")
    payload = '{"user_id": "u1", "event": {"type": "progress"}}'
    for age in ("8 days", "6 days", None):  # delivered that long ago, or not at all
        delivered = "NULL" if age is None else f"now() - interval '{age}'"
        await receiver.db.execute(
            "INSERT INTO outbox (task_id, kind, payload, delivered_at)"
            f" VALUES ($1, 'notify', $2::jsonb, {delivered})",
            task_id,
            payload,
        )
    relay = OutboxRelay(
        receiver.app.state.runtime.pool, receiver.redis, TTL, TTL, keep_s=7 * 24 * 3600
    )
    assert await relay.prune() == 1
    left = await receiver.db.fetch("SELECT delivered_at IS NULL AS pending FROM outbox")
    assert sorted(row["pending"] for row in left) == [False, True]
    # An index finds the old rows: the prune runs every relay round over a week of rows.
    async with receiver.db.transaction():
        await receiver.db.execute("SET LOCAL enable_seqscan = off")
        lines = await receiver.db.fetch(
            "EXPLAIN (FORMAT TEXT) SELECT id FROM outbox"
            " WHERE delivered_at < now() - make_interval(secs => 604800) LIMIT 1000"
        )
    plan = "\n".join(line[0] for line in lines)
    assert "outbox_delivered" in plan, plan
