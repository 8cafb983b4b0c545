"""result_receiver's outbox: the outcome, its cache entry and its pushes never half-happen.

Real PostgreSQL and Redis, the real receiver app over a socket; tasks are inserted
straight into ``ai_results`` (the backend is not needed to hold a job token).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from pydantic import SecretStr
from ulid import ULID

from result_receiver.app import create_app
from result_receiver.config import ReceiverSettings
from result_receiver.deps import State
from result_receiver.followers import InflightLead
from result_receiver.outbox import OutboxRelay
from satyamark.infra import free_port
from shared import keys
from shared.result_cache import ResultCache
from shared.schemas import Mark, TextVerdict
from shared.signing import sign
from tests.fixtures.pipeline import listen
from tests.utils.redis import redis_client
from tests.utils.servers import running
from tests.utils.settings import CALLBACK_SECRET, common

TTL = 3600
METHOD = "Known claims found by sentence embedding; stance from a word-level check."


@dataclass
class Receiver:
    app: FastAPI
    http: httpx.AsyncClient
    db: asyncpg.Connection
    redis: aioredis.Redis

    async def task(self, user: str, *, leader: str | None = None) -> tuple[str, str]:
        """A queued task (a follower of ``leader`` when given): (taskId, job_token)."""
        task_id, token = str(ULID()), f"token-{ULID()}"
        text_hash = hashlib.sha256((leader or task_id).encode()).hexdigest()
        await self.db.execute(
            "INSERT INTO ai_results (id, user_id, text_hash, summary_hash, payload,"
            " job_token_hash, joined_task_id) VALUES ($1, $2, $3, $4, 'text', $5, $6)",
            task_id,
            user,
            text_hash,
            text_hash[::-1],
            None if leader else hashlib.sha256(token.encode()).hexdigest(),
            leader,
        )
        return task_id, token

    async def post(self, body: dict[str, object]) -> httpx.Response:
        raw = json.dumps(body).encode()
        headers = sign(CALLBACK_SECRET.encode(), str(ULID()), raw)
        return await self.http.post(
            "/ai-callback", content=raw, headers={**headers, "content-type": "application/json"}
        )

    async def outbox(self) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.db.fetch(
            "SELECT *, xmin::text AS xid FROM outbox ORDER BY id"
        )
        return rows

    async def hashes(self, task_id: str) -> tuple[str, str]:
        row = await self.db.fetchrow("SELECT * FROM ai_results WHERE id = $1", task_id)
        return row["text_hash"], row["summary_hash"]


def _result(task_id: str, token: str, **overrides: object) -> dict[str, object]:
    return {
        "taskId": task_id,
        "job_token": token,
        "mark": "Correct",
        "reason": "Matches a well-established fact.",
        "confidence": 87,
        **overrides,
    }


@pytest.fixture
async def receiver(redis_url: str, database_url: str) -> AsyncIterator[Receiver]:
    async with open_receiver(redis_url, database_url) as made:
        yield made


@asynccontextmanager
async def open_receiver(
    redis_url: str, database_url: str, *, interval_s: float = 0
) -> AsyncIterator[Receiver]:
    """The receiver app, serving; ``interval_s``: its background relay (0: off)."""
    settings = ReceiverSettings(
        **common(redis_url, database_url),
        callback_secret=SecretStr(CALLBACK_SECRET),
        outbox_interval_s=interval_s,
    )
    app = create_app(settings)
    db = await asyncpg.connect(database_url)
    client = redis_client(redis_url, decode_responses=True)
    try:
        async with running(app) as url, httpx.AsyncClient(base_url=url) as http:
            yield Receiver(app, http, db, client)
    finally:
        await client.aclose()
        await db.close()


async def _pushed(pubsub: aioredis.client.PubSub, wait_s: float = 1.0) -> list[dict[str, Any]]:
    """Every push that arrives within ``wait_s``."""
    found: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while loop.time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message:
            found.append(json.loads(message["data"]))
    return found


async def test_result_writes_outbox_rows_and_relays_them_at_once(receiver: Receiver) -> None:
    pubsub = await listen(receiver.redis, "u1")
    task_id, token = await receiver.task("u1")
    answer = await receiver.post(_result(task_id, token))
    assert answer.status_code == 200 and answer.json()["duplicate"] is False

    rows = await receiver.outbox()
    assert [(r["task_id"], r["kind"]) for r in rows] == [(task_id, "cache"), (task_id, "notify")]
    assert all(r["delivered_at"] is not None for r in rows)
    text_hash, summary_hash = await receiver.hashes(task_id)
    assert json.loads(rows[0]["payload"]) == {
        "text_hash": text_hash,
        "summary_hash": summary_hash,
        "verdict": {
            "mark": "Correct",
            "reason": "Matches a well-established fact.",
            "confidence": 87,
            "claims": [],
            "method": None,
        },
    }
    cached = await receiver.redis.mget(
        keys.cache_result(text_hash), keys.cache_result(summary_hash)
    )
    assert [json.loads(c)["mark"] for c in cached if c] == ["Correct", "Correct"]
    (push,) = await _pushed(pubsub)
    assert push["userId"] == "u1" and push["event"]["taskId"] == task_id
    assert push["event"]["type"] == "result" and push["event"]["cached"] is False

    # the same result again: 200, a duplicate, no new rows, no second push
    again = await receiver.post(_result(task_id, token))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    # a different one is refused and changes nothing
    conflict = await receiver.post(_result(task_id, token, mark="Incorrect"))
    assert conflict.status_code == 409 and conflict.json()["errorCode"] == "RR-CONF-409"
    assert len(await receiver.outbox()) == 2
    assert await _pushed(pubsub, 0.3) == []
    assert await receiver.redis.xlen(keys.user_events("u1")) == 1
    await pubsub.aclose()


async def test_outbox_rows_roll_back_with_the_update(receiver: Receiver) -> None:
    task_id, token = await receiver.task("u1")
    follower, _ = await receiver.task("u2", leader=task_id)
    await receiver.db.execute(
        "CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS"
        " $$BEGIN RAISE EXCEPTION 'outbox refused'; END$$;"
        " CREATE TRIGGER refuse BEFORE INSERT ON outbox"
        " FOR EACH ROW EXECUTE FUNCTION refuse_outbox()"
    )
    refused = await receiver.post(_result(task_id, token))
    # a failing statement is a bug, not an outage: 500 (the worker retries it anyway)
    assert refused.status_code == 500 and refused.json()["errorCode"] == "RR-INT-500"
    statuses = await receiver.db.fetch(
        "SELECT status FROM ai_results WHERE id = ANY($1::text[])", [task_id, follower]
    )
    assert [r["status"] for r in statuses] == ["queued", "queued"]
    assert await receiver.outbox() == []

    await receiver.db.execute("DROP TRIGGER refuse ON outbox")
    retried = await receiver.post(_result(task_id, token))
    assert retried.status_code == 200 and retried.json()["duplicate"] is False
    assert [r["kind"] for r in await receiver.outbox()] == ["cache", "notify", "notify"]


async def test_crash_after_commit_is_repaired_by_the_relay(receiver: Receiver) -> None:
    live: State = receiver.app.state.runtime
    # The receiver loses Redis right after the replay check: the relay and the lead
    # release point at a closed port (as if the process died after the commit).
    dead = redis_client(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    receiver.app.state.runtime = replace(
        live, relay=OutboxRelay(live.pool, dead, TTL, TTL), inflight=InflightLead(dead)
    )
    pubsub = await listen(receiver.redis, "u1", "u2")
    task_id, token = await receiver.task("u1")
    follower, _ = await receiver.task("u2", leader=task_id)
    try:
        answer = await receiver.post(_result(task_id, token, method=METHOD))
    finally:
        receiver.app.state.runtime = live
        await dead.aclose()
    assert answer.status_code == 200 and answer.json()["duplicate"] is False

    rows = await receiver.outbox()
    assert [(r["task_id"], r["kind"]) for r in rows] == [
        (task_id, "cache"),
        (task_id, "notify"),
        (follower, "notify"),
    ]
    assert all(r["delivered_at"] is None for r in rows)
    # written by the very transaction that stored the result
    task_xid = await receiver.db.fetchval(
        "SELECT xmin::text FROM ai_results WHERE id = $1", task_id
    )
    assert {r["xid"] for r in rows} == {task_xid}
    assert json.loads(rows[0]["payload"])["verdict"]["method"] == METHOD
    assert [json.loads(r["payload"])["event"]["method"] for r in rows[1:]] == [METHOD] * 2
    text_hash, summary_hash = await receiver.hashes(task_id)
    assert await receiver.redis.exists(keys.cache_result(text_hash)) == 0
    assert await _pushed(pubsub, 0.3) == []

    relay = OutboxRelay(live.pool, receiver.redis, TTL, TTL)
    assert await relay.relay_once(min_age_s=0) == 3
    assert await relay.relay_once(min_age_s=0) == 0  # exactly once
    assert all(r["delivered_at"] is not None for r in await receiver.outbox())
    assert (
        await receiver.redis.exists(keys.cache_result(text_hash), keys.cache_result(summary_hash))
        == 2
    )
    for digest in (text_hash, summary_hash):
        cached = await receiver.redis.get(keys.cache_result(digest))
        assert cached is not None and json.loads(cached)["method"] == METHOD
    pushes = await _pushed(pubsub)
    assert sorted((p["userId"], p["event"]["taskId"]) for p in pushes) == sorted(
        [("u1", task_id), ("u2", follower)]
    )
    assert [p["event"]["method"] for p in pushes] == [METHOD] * 2
    await pubsub.aclose()


async def test_rows_written_before_claims_and_method_existed_still_relay(
    receiver: Receiver,
) -> None:
    pubsub = await listen(receiver.redis, "u1")
    task_id, _ = await receiver.task("u1")
    text_hash, summary_hash = await receiver.hashes(task_id)
    verdict = {"mark": "Correct", "reason": "Old row.", "confidence": 80}
    event = {"type": "result", "taskId": task_id, **verdict, "cached": False}
    await receiver.db.execute(
        "INSERT INTO outbox (task_id, kind, payload) VALUES"
        " ($1, 'cache', $2::jsonb), ($1, 'notify', $3::jsonb)",
        task_id,
        json.dumps({"text_hash": text_hash, "summary_hash": summary_hash, "verdict": verdict}),
        json.dumps({"user_id": "u1", "event": event}),
    )
    relay = OutboxRelay(receiver.app.state.runtime.pool, receiver.redis, TTL, TTL)
    assert await relay.relay_once(min_age_s=0) == 2
    cache = ResultCache(receiver.redis, TTL, TTL)
    assert await cache.lookup(text_hash, summary_hash) == TextVerdict(
        mark=Mark.CORRECT, reason="Old row.", confidence=80, claims=[], method=None
    )
    (push,) = await _pushed(pubsub)
    assert push["event"] == event  # pushed as written: no method, which reads as null
    await pubsub.aclose()


async def test_the_relay_delivers_after_redis_forgot_its_scripts(receiver: Receiver) -> None:
    """Rows go to Redis in one pipeline; a Redis that lost its scripts (a restart) is
    taught them again, not left to answer NOSCRIPT forever."""
    pubsub = await listen(receiver.redis, "u1", "u2")
    leader, token = await receiver.task("u1")
    follower, _ = await receiver.task("u2", leader=leader)
    text_hash, _ = await receiver.hashes(leader)
    await receiver.redis.set(keys.inflight_text(text_hash), leader)
    await receiver.redis.script_flush()
    answer = await receiver.post(_result(leader, token, method=METHOD))
    assert answer.status_code == 200 and answer.json()["duplicate"] is False
    assert all(r["delivered_at"] is not None for r in await receiver.outbox())
    assert await receiver.redis.exists(keys.inflight_text(text_hash)) == 0  # the lead ended
    pushes = await _pushed(pubsub)
    assert sorted((p["userId"], p["event"]["taskId"]) for p in pushes) == sorted(
        [("u1", leader), ("u2", follower)]
    )
    await pubsub.aclose()


async def test_failure_and_followers_go_through_the_outbox(receiver: Receiver) -> None:
    pubsub = await listen(receiver.redis, "u1", "u2", "u3")
    task_id, token = await receiver.task("u1")
    followers = [(await receiver.task(user, leader=task_id))[0] for user in ("u2", "u3")]
    failure: dict[str, object] = {
        "taskId": task_id,
        "job_token": token,
        "status": "failed",
        "errorCode": "WK-MODEL-ERROR",
        "message": "the model failed",
    }
    assert (await receiver.post(failure)).status_code == 200
    rows = await receiver.outbox()
    # a failure is pushed, never cached
    assert sorted((r["task_id"], r["kind"]) for r in rows) == sorted(
        (t, "notify") for t in [task_id, *followers]
    )
    assert all(r["delivered_at"] is not None for r in rows)
    events = [json.loads(r["payload"]) for r in rows]
    assert {e["event"]["type"] for e in events} == {"failed"}
    pushes = await _pushed(pubsub)
    assert sorted(p["event"]["taskId"] for p in pushes) == sorted([task_id, *followers])

    # a follower that joined late gets its own row on the repeat; nobody else does
    late, _ = await receiver.task("u4", leader=task_id)
    again = await receiver.post(failure)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    new_rows = (await receiver.outbox())[len(rows) :]
    assert [(r["task_id"], r["kind"]) for r in new_rows] == [(late, "notify")]
    assert (await receiver.post(failure)).json()["duplicate"] is True
    assert len(await receiver.outbox()) == len(rows) + 1
    await pubsub.aclose()
