"""The sweeper re-enqueues accepted tasks whose job Redis lost (real Redis, PG, services)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from prometheus_client import REGISTRY
from pydantic import SecretStr
from ulid import ULID

from ai_service.app import create_app as create_ai
from ai_service.config import AiSettings
from backend_service.app import create_app as create_backend
from backend_service.config import BackendSettings
from backend_service.sweeper import SWEEP_LOCK_ID, SweepReport
from result_receiver.app import create_app as create_receiver
from result_receiver.config import ReceiverSettings
from shared import keys
from shared.http import USER_ID_HEADER
from shared.signing import sign
from tests.utils.redis import redis_client
from tests.utils.servers import running
from tests.utils.settings import CALLBACK_SECRET, SIGNED, common


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Stack:
    backend_app: FastAPI
    backend: httpx.AsyncClient
    receiver: httpx.AsyncClient
    redis: aioredis.Redis
    db: asyncpg.Connection

    async def submit(self, user: str, text: str) -> str:
        answer = await self.backend.post(
            "/internal/verify", json={"text": text}, headers={USER_ID_HEADER: user}
        )
        assert answer.status_code == 202, answer.text
        return str(answer.json()["taskId"])

    async def sweep(self) -> SweepReport:
        return await self.backend_app.state.runtime.sweeper.sweep_once()  # type: ignore[no-any-return]

    async def jobs(self) -> list[dict[str, str]]:
        entries: Any = await self.redis.xrange(keys.JOB_STREAM)
        return [dict(fields) for _, fields in entries]

    async def age(self, *task_ids: str) -> None:
        await self.db.execute(
            "UPDATE ai_results SET created_at = now() - interval '1 hour',"
            " updated_at = now() - interval '1 hour' WHERE id = ANY($1::text[])",
            list(task_ids),
        )

    async def text_hash(self, task_id: str) -> str:
        query = "SELECT text_hash FROM ai_results WHERE id = $1"
        return str(await self.db.fetchval(query, task_id))

    async def lead(self, text_hash: str) -> tuple[str | None, int]:
        """Who leads the text (``inflight:<textHash>``) and the lead's TTL in seconds."""
        key = keys.inflight_text(text_hash)
        holder: Any = await self.redis.get(key)  # str: decode_responses
        return holder, await self.redis.ttl(key)

    async def token_hash(self, task_id: str) -> str:
        query = "SELECT job_token_hash FROM ai_results WHERE id = $1"
        return str(await self.db.fetchval(query, task_id))

    async def callback(self, job: dict[str, str]) -> httpx.Response:
        body = {"taskId": job["taskId"], "job_token": job["job_token"], "mark": "Correct",
                "reason": "Matches a well-established fact.", "confidence": 80}  # fmt: skip
        raw = json.dumps(body).encode()
        headers = sign(CALLBACK_SECRET.encode(), str(ULID()), raw)
        return await self.receiver.post(
            "/ai-callback", content=raw, headers={**headers, "content-type": "application/json"}
        )


@asynccontextmanager
async def _start(
    redis_url: str, database_url: str, ai_url: str | None = None, **backend: Any
) -> AsyncIterator[Stack]:
    base = common(redis_url, database_url)
    async with AsyncExitStack() as stack:
        if ai_url is None:
            ai_url = await stack.enter_async_context(running(create_ai(AiSettings(**base))))
        receiver_url = await stack.enter_async_context(
            running(
                create_receiver(
                    ReceiverSettings(**base, callback_secret=SecretStr(CALLBACK_SECRET))
                )
            )
        )
        settings = {"sweep_interval_s": 0, "sweep_after_s": 120, **backend}
        app = create_backend(
            BackendSettings(**base, ai_url=ai_url, receiver_url=receiver_url, **settings)
        )
        backend_url = await stack.enter_async_context(running(app))
        backend_client = await stack.enter_async_context(
            httpx.AsyncClient(base_url=backend_url, auth=SIGNED)
        )
        receiver = await stack.enter_async_context(httpx.AsyncClient(base_url=receiver_url))
        client = redis_client(redis_url, decode_responses=True)
        stack.push_async_callback(client.aclose)
        db = await asyncpg.connect(database_url)
        stack.push_async_callback(db.close)
        yield Stack(app, backend_client, receiver, client, db)


@pytest.fixture
async def services(redis_url: str, database_url: str) -> AsyncIterator[Stack]:
    async with _start(redis_url, database_url) as stack:
        yield stack


async def _insert(
    db: asyncpg.Connection,
    user: str,
    text: str,
    status: str,
    *,
    joined: str | None = None,
    outcome: tuple[str, str, int] | None = None,
    error: tuple[str, str] | None = None,
) -> str:
    """A task row written directly (leaders in a final state, followers), made old."""
    task_id = str(ULID())
    mark, reason, confidence = outcome or (None, None, None)
    error_code, error_message = error or (None, None)
    await db.execute(
        "INSERT INTO ai_results (id, user_id, text_hash, summary_hash, payload, status,"
        " job_token_hash, joined_task_id, mark, reason, confidence, error_code, error_message,"
        " created_at, updated_at, completed_at) VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8,"
        " $9, $10, $11, $12, now() - interval '1 hour', now() - interval '1 hour',"
        " CASE WHEN $5 = 'queued' THEN NULL ELSE now() - interval '1 hour' END)",
        task_id, user, _sha(text), text, status, None if joined else _sha(task_id), joined,
        mark, reason, confidence, error_code, error_message,
    )  # fmt: skip
    return task_id


def _settled(how: str) -> float:
    value = REGISTRY.get_sample_value("satyamark_sweeper_settled_total", {"how": how})
    return value or 0.0


async def _listen(redis: aioredis.Redis, user: str, instance: str) -> Any:
    await redis.hset(keys.ws_user(user), "sock-1", instance)
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.ws_instance_channel(instance))
    await pubsub.get_message(timeout=1)  # subscribe confirmation
    return pubsub


async def _events(pubsub: Any, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    # Pushed by result_receiver's outbox relay (a round every ~2 s), not by the sweep.
    for _ in range(100):
        if len(events) >= count:
            break
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message:
            events.append(json.loads(message["data"])["event"])
    return events


async def test_lost_jobs_are_requeued_with_new_tokens(services: Stack) -> None:
    ids = [await services.submit("u1", f"claim number {i}") for i in range(3)]
    lost_jobs = await services.jobs()
    old_hashes = {i: await services.token_hash(i) for i in ids}
    await services.age(*ids)
    await services.redis.flushall()  # Redis lost its memory

    report = await services.sweep()
    assert sorted(report.requeued) == sorted(ids)
    assert (report.candidates, report.in_stream, report.enqueue_error) == (3, 0, None)
    jobs = await services.jobs()
    assert sorted(j["taskId"] for j in jobs) == sorted(ids)
    for job in jobs:
        new_hash = await services.token_hash(job["taskId"])
        assert new_hash != old_hashes[job["taskId"]] and new_hash == _sha(job["job_token"])
        assert job["callback_url"].endswith("/ai-callback") and job["userId"] == "u1"

    # a zombie of a lost job is refused; the new job's result wins
    zombie = next(j for j in lost_jobs if j["taskId"] == ids[0])
    assert (await services.callback(zombie)).status_code == 403
    fresh = next(j for j in jobs if j["taskId"] == ids[0])
    assert (await services.callback(fresh)).status_code == 200
    assert await services.db.fetchval("SELECT status FROM ai_results WHERE id=$1", ids[0]) == "done"
    stages = json.loads(
        await services.db.fetchval("SELECT stages FROM ai_results WHERE id=$1", ids[0])
    )
    assert [(s["stage"], s.get("requeued")) for s in stages][:3] == [
        ("accepted", None), ("queued", None), ("queued", True),
    ]  # fmt: skip

    # the next sweep finds every job in the stream and enqueues nothing
    again = await services.sweep()
    assert again.requeued == [] and len(await services.jobs()) == 3


async def test_only_old_queued_leaders_missing_from_the_stream(services: Stack) -> None:
    kept = await services.submit("u1", "this job is still in the stream")
    lost = await services.submit("u1", "this job was lost")
    young = await services.submit("u1", "this task is young")
    done = await _insert(services.db, "u1", "done", "done", outcome=("Correct", "ok", 90))
    await services.age(kept, lost)
    entries: Any = await services.redis.xrange(keys.JOB_STREAM)
    gone = [eid for eid, fields in entries if fields["taskId"] in (lost, young)]
    await services.redis.xdel(keys.JOB_STREAM, *gone)
    hashes = {t: await services.token_hash(t) for t in (kept, young, done)}

    report = await services.sweep()
    assert (report.requeued, report.candidates, report.in_stream) == ([lost], 2, 1)
    assert sorted(j["taskId"] for j in await services.jobs()) == sorted([kept, lost])
    for task_id, token_hash in hashes.items():
        assert await services.token_hash(task_id) == token_hash


async def test_followers_are_never_requeued_and_orphans_get_the_outcome(
    services: Stack,
) -> None:
    leader_done = await _insert(
        services.db, "u1", "leader done", "done", outcome=("Incorrect", "It is not so.", 70)
    )
    claim = {"text": "It is so.", "mark": "Incorrect", "reason": "Contradicted.",
             "confidence": 70, "stance": None, "evidence": None}  # fmt: skip
    method = "Known claims found by sentence embedding."
    await services.db.execute(
        "UPDATE ai_results SET claims = $2::jsonb, method = $3 WHERE id = $1",
        leader_done,
        json.dumps([claim]),
        method,
    )
    leader_failed = await _insert(
        services.db, "u1", "leader failed", "failed", error=("WK-MODEL-OOM", "Out of memory.")
    )
    leader_queued = await services.submit("u1", "leader still queued")
    await services.age(leader_queued)
    follow_done = await _insert(services.db, "u2", "leader done", "queued", joined=leader_done)
    follow_failed = await _insert(services.db, "u2", "failed", "queued", joined=leader_failed)
    follow_queued = await _insert(services.db, "u2", "queued", "queued", joined=leader_queued)
    pubsub = await _listen(services.redis, "u2", "inst-a")

    report = await services.sweep()
    assert report.requeued == [] and report.in_stream == 1
    assert sorted(report.followers_finished) == sorted([follow_done, follow_failed])
    assert [j["taskId"] for j in await services.jobs()] == [leader_queued]
    query = "SELECT status, mark, confidence, error_code, cached FROM ai_results WHERE id = $1"
    assert tuple(await services.db.fetchrow(query, follow_done)) == (
        "done", "Incorrect", 70, None, False,
    )  # fmt: skip
    assert tuple(await services.db.fetchrow(query, follow_failed)) == (
        "failed", None, None, "WK-MODEL-OOM", False,
    )  # fmt: skip
    assert (await services.db.fetchrow(query, follow_queued))["status"] == "queued"
    claims = "SELECT claims, method FROM ai_results WHERE id = $1"
    done_row = await services.db.fetchrow(claims, follow_done)
    assert (json.loads(done_row["claims"]), done_row["method"]) == ([claim], method)
    assert tuple(await services.db.fetchrow(claims, follow_failed)) == (None, None)
    stages = "SELECT stages FROM ai_results WHERE id = $1"
    failed_stages = json.loads(await services.db.fetchval(stages, follow_failed))
    # (rows written by hand here: no stages before the sweeper's)
    assert [(s["stage"], s["errorCode"]) for s in failed_stages] == [("failed", "WK-MODEL-OOM")]
    events = {e["taskId"]: e for e in await _events(pubsub, 2)}
    await pubsub.aclose()
    assert events == {
        follow_failed: {"type": "failed", "taskId": follow_failed,
                        "errorCode": "WK-MODEL-OOM", "message": "Out of memory."},
        follow_done: {"type": "result", "taskId": follow_done, "mark": "Incorrect",
                      "reason": "It is not so.", "confidence": 70, "claims": [claim],
                      "method": method, "cached": False},
    }  # fmt: skip
    # done once: a second sweep finds nothing more to do
    again = await services.sweep()
    assert again.followers_finished == [] and again.requeued == []


async def test_concurrent_sweeps_do_not_double_enqueue(services: Stack) -> None:
    ids = [await services.submit("u1", f"concurrent claim {i}") for i in range(3)]
    await services.age(*ids)
    await services.redis.flushall()
    reports = await asyncio.gather(*(services.sweep() for _ in range(4)))
    assert sorted(t for r in reports for t in r.requeued) == sorted(ids)
    assert sorted(j["taskId"] for j in await services.jobs()) == sorted(ids)


async def test_a_sweep_in_another_instance_locks_this_one_out(services: Stack) -> None:
    task_id = await services.submit("u1", "locked out")
    await services.age(task_id)
    await services.redis.flushall()
    assert await services.db.fetchval("SELECT pg_try_advisory_lock($1)", SWEEP_LOCK_ID)
    try:
        report = await services.sweep()
    finally:
        await services.db.execute("SELECT pg_advisory_unlock($1)", SWEEP_LOCK_ID)
    assert report.locked_out and report.requeued == []
    assert await services.jobs() == []
    assert (await services.sweep()).requeued == [task_id]


async def test_a_requeued_leader_leads_its_text_again(redis_url: str, database_url: str) -> None:
    text = "Mount Everest is the highest mountain above sea level."
    async with _start(redis_url, database_url, inflight_ttl_s=777) as stack:
        leader = await stack.submit("u1", text)
        text_hash = await stack.text_hash(leader)
        await stack.age(leader)
        await stack.redis.flushall()  # the job and the lead are gone

        assert (await stack.sweep()).requeued == [leader]
        holder, ttl = await stack.lead(text_hash)
        assert holder == leader and 700 < ttl <= 777  # the backend's inflight_ttl_s
        # the same text again joins the re-enqueued job: no second model run
        follower = await stack.submit("u2", text)
        (job,) = await stack.jobs()
        assert job["taskId"] == leader
        query = "SELECT joined_task_id, job_token_hash FROM ai_results WHERE id = $1"
        assert tuple(await stack.db.fetchrow(query, follower)) == (leader, None)

        # the new job's outcome finishes both and releases the restored lead
        assert (await stack.callback(job)).status_code == 200
        statuses = "SELECT status FROM ai_results WHERE id = ANY($1::text[])"
        assert [r["status"] for r in await stack.db.fetch(statuses, [leader, follower])] == [
            "done", "done",
        ]  # fmt: skip
        assert await stack.lead(text_hash) == (None, -2)


async def test_a_surviving_lead_lasts_as_long_as_the_new_job(
    redis_url: str, database_url: str
) -> None:
    async with _start(redis_url, database_url, inflight_ttl_s=777) as stack:
        leader = await stack.submit("u1", "Only the job was lost, not the lead.")
        text_hash = await stack.text_hash(leader)
        await stack.age(leader)
        await stack.redis.delete(keys.JOB_STREAM)
        await stack.redis.expire(keys.inflight_text(text_hash), 5)

        assert (await stack.sweep()).requeued == [leader]
        holder, ttl = await stack.lead(text_hash)
        assert holder == leader and ttl > 700


async def test_a_lost_leader_joins_the_job_now_verifying_its_text(services: Stack) -> None:
    text = "The Pacific is the largest ocean on Earth."
    lost = await services.submit("u1", text)
    text_hash = await services.text_hash(lost)
    await services.age(lost)
    await services.redis.flushall()
    # joined the lost leader before Redis lost its job and its lead
    old_follower = await _insert(services.db, "u4", text, "queued", joined=lost)
    # after Redis came back, a new submission took the lead and runs its own job
    newcomer = await services.submit("u2", text)
    holder, ttl = await services.lead(text_hash)
    assert holder == newcomer and ttl > 0

    joined = _settled("joined")
    report = await services.sweep()
    assert (report.joined, report.requeued, report.from_cache) == ([lost], [], [])
    assert _settled("joined") == joined + 1
    # one model run for the text: the newcomer's job, which the lead still points at
    assert [j["taskId"] for j in await services.jobs()] == [newcomer]
    assert (await services.lead(text_hash))[0] == newcomer
    query = "SELECT joined_task_id, job_token_hash FROM ai_results WHERE id = $1"
    assert tuple(await services.db.fetchrow(query, lost)) == (newcomer, None)
    assert tuple(await services.db.fetchrow(query, old_follower)) == (newcomer, None)
    third = await services.submit("u3", text)
    assert (await services.db.fetchrow(query, third))["joined_task_id"] == newcomer

    # the newcomer's outcome finishes every one of them
    (job,) = await services.jobs()
    assert (await services.callback(job)).status_code == 200
    statuses = "SELECT id, status FROM ai_results WHERE id = ANY($1::text[])"
    rows = await services.db.fetch(statuses, [lost, old_follower, newcomer, third])
    assert {r["id"]: r["status"] for r in rows} == dict.fromkeys(
        [lost, old_follower, newcomer, third], "done"
    )
    assert (await services.sweep()).candidates == 0


async def test_a_lost_leader_takes_the_cached_verdict_of_its_text(services: Stack) -> None:
    """The backend died between a task's row and its job; its user, who got no answer,
    submitted the text again, and that task finished: the lost task takes the verdict
    instead of paying for a second model run."""
    text = "The Nile flows into the Mediterranean Sea."
    lost = await _insert(services.db, "u1", text, "queued")  # no job, no lead
    follower = await _insert(services.db, "u5", text, "queued", joined=lost)
    again = await services.submit("u1", text)
    text_hash = await services.text_hash(again)
    await services.db.execute(
        "UPDATE ai_results SET text_hash = $2, summary_hash = $2 WHERE id = ANY($1::text[])",
        [lost, follower],
        text_hash,
    )
    (job,) = await services.jobs()
    assert (await services.callback(job)).status_code == 200
    for _ in range(100):  # the receiver relays the cache entry just after answering
        if await services.redis.exists(keys.cache_result(text_hash)):
            break
        await asyncio.sleep(0.02)
    pubsub = await _listen(services.redis, "u1", "inst-a")

    settled = _settled("cache")
    report = await services.sweep()
    assert (report.from_cache, report.requeued, report.joined) == ([lost], [], [])
    assert _settled("cache") == settled + 1  # satyamark_sweeper_settled_total{how}
    assert [j["taskId"] for j in await services.jobs()] == [again]  # no job added
    query = "SELECT status, mark, reason, confidence, cached, job_token_hash FROM ai_results"
    expected = ("done", "Correct", "Matches a well-established fact.", 80, True)
    for task_id in (lost, follower):
        row = await services.db.fetchrow(query + " WHERE id = $1", task_id)
        assert tuple(row)[:5] == expected, task_id
    stages = json.loads(
        await services.db.fetchval("SELECT stages FROM ai_results WHERE id = $1", lost)
    )
    assert [(s["stage"], s.get("cached")) for s in stages] == [("done", True)]
    (event,) = await _events(pubsub, 1)
    await pubsub.aclose()
    assert (event["taskId"], event["mark"], event["cached"]) == (lost, "Correct", True)
    assert (await services.db.fetchval(query + " WHERE id = $1", again)) == "done"
    assert (await services.sweep()).candidates == 0


async def test_ai_service_down_keeps_the_task_for_the_next_sweep(
    redis_url: str, database_url: str
) -> None:
    async with _start(redis_url, database_url, ai_url="http://127.0.0.1:9") as stack:
        task_id = await _insert(stack.db, "u1", "nobody takes this", "queued")
        before = await stack.token_hash(task_id)
        report = await stack.sweep()
        assert report.requeued == [] and report.enqueue_error is not None
        # the token change rolled back: the row is as it was, still queued and old
        assert await stack.token_hash(task_id) == before
        assert await stack.db.fetchval("SELECT status FROM ai_results WHERE id=$1", task_id) == (
            "queued"
        )
        # the restored lead stays: the task is still a queued leader that joiners can follow
        assert (await stack.lead(_sha("nobody takes this")))[0] == task_id


async def test_the_backend_sweeps_periodically(redis_url: str, database_url: str) -> None:
    async with _start(redis_url, database_url, sweep_interval_s=0.1, sweep_after_s=0.3) as stack:
        task_id = await stack.submit("u1", "swept by the running backend")
        await stack.redis.flushall()
        for _ in range(100):
            jobs = await stack.jobs()
            if jobs:
                break
            await asyncio.sleep(0.05)
        assert [j["taskId"] for j in jobs] == [task_id]
