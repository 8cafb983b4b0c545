"""The same text submitted while its job runs joins that job: one model run, every task
gets the outcome and its own push."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import redis.asyncio as aioredis

from shared import keys
from tests.fixtures.pipeline import Services, listen, result_body, task_row


async def _pushed(pubsub: aioredis.client.PubSub, want: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for _ in range(50):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message:
            events.append(json.loads(message["data"]))
        if len(events) >= want:
            break
    return events


async def test_concurrent_same_text_shares_one_job(services: Services) -> None:
    pubsub = await listen(services.redis, "u1", "u2", "u3")
    answers = await asyncio.gather(
        services.submit("u1", "The Nile is the longest river in Africa."),
        services.submit("u2", "the nile is the longest river in africa."),
        services.submit("u3", "The Nile is the longest river in Africa."),
    )
    assert [a.status_code for a in answers] == [202, 202, 202]
    task_ids = [a.json()["taskId"] for a in answers]
    (job,) = await services.jobs()  # one job for three tasks
    followers = [t for t in task_ids if t != job["taskId"]]
    for follower in followers:
        row = await task_row(services.database_url, follower)
        assert row["joined_task_id"] == job["taskId"] and row["job_token_hash"] is None

    assert (await services.callback(result_body(job))).status_code == 200
    for task_id in task_ids:
        row = await task_row(services.database_url, task_id)
        assert (row["status"], row["mark"], row["confidence"]) == ("done", "Correct", 87)
    events = await _pushed(pubsub, 3)
    assert sorted((e["userId"], e["event"]["taskId"]) for e in events) == sorted(
        zip(["u1", "u2", "u3"], task_ids, strict=True)
    )
    # the text is no longer in flight: the next submission is a cache hit
    assert not await services.redis.exists(keys.inflight_text(job["textHash"]))
    assert (await services.submit("u4", "The Nile is the longest river in Africa.")).json()[
        "cached"
    ]
    await pubsub.aclose()


async def test_failure_reaches_followers_too(services: Services) -> None:
    pubsub = await listen(services.redis, "u1", "u2")
    first = (await services.submit("u1", "An unverifiable claim")).json()["taskId"]
    second = (await services.submit("u2", "An unverifiable claim")).json()["taskId"]
    (job,) = await services.jobs()
    failure: dict[str, object] = {
        "taskId": job["taskId"],
        "job_token": job["job_token"],
        "status": "failed",
        "errorCode": "WK-MODEL-ERROR",
        "message": "the model failed",
    }
    assert (await services.callback(failure)).status_code == 200
    for task_id in (first, second):
        row = await task_row(services.database_url, task_id)
        assert (row["status"], row["error_code"]) == ("failed", "WK-MODEL-ERROR")
    events = await _pushed(pubsub, 2)
    assert {e["event"]["taskId"] for e in events} == {first, second}
    assert {e["event"]["type"] for e in events} == {"failed"}
    # a failure is not cached: the same text may be tried again, with a new job
    third = await services.submit("u1", "An unverifiable claim")
    assert third.status_code == 202
    assert len(await services.jobs()) == 2
    await pubsub.aclose()


async def test_text_whose_leader_finished_runs_its_own_job(services: Services) -> None:
    first = (await services.submit("u1", "Gold is a chemical element.")).json()["taskId"]
    (job,) = await services.jobs()
    assert (await services.callback(result_body(job))).status_code == 200
    assert (await task_row(services.database_url, first))["status"] == "done"
    # the leader is done but its lead survived (a crash between the two) and the cache
    # entry is gone: a new submission must not join a finished job
    await services.redis.set(keys.inflight_text(job["textHash"]), first)
    await services.redis.delete(
        keys.cache_result(job["textHash"]), keys.cache_result(job["summaryHash"])
    )
    again = await services.submit("u2", "Gold is a chemical element.")
    assert again.status_code == 202
    assert len(await services.jobs()) == 2  # joined nothing: ran its own job
    row = await task_row(services.database_url, again.json()["taskId"])
    assert row["joined_task_id"] is None and row["job_token_hash"] is not None
