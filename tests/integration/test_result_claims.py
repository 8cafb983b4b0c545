"""Per-claim verdicts and the method travel with the result: row, push, task API, cache
and cache hits.

The public side goes through the real gateway (with auth and ratelimit), so every answer
is also checked against the response models the OpenAPI publishes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from gateway.routes import VerifyCached
from shared import keys
from shared.hashing import text_hash
from shared.schemas import MAX_CLAIMS, MAX_METHOD_CHARS, ClaimVerdict, TaskPublic
from tests.fixtures.pipeline import Services, listen, result_body, task_row
from tests.integration.auth_helpers import public_gateway

TEXT = "The Eiffel Tower is in Paris. It was finished in 1920."

# As a worker sends them: unset fields left out (the worker posts exclude_none).
CLAIMS: list[dict[str, Any]] = [
    {
        "text": "The Eiffel Tower is in Paris.",
        "mark": "Correct",
        "reason": "Entailed by a known fact.",
        "confidence": 93,
        "stance": "entails",
        "evidence": {
            "claim": "The Eiffel Tower stands in Paris, France.",
            "verdict": "true",
            "explanation": "It was built on the Champ de Mars in 1889.",
            "sourceUrl": "https://en.wikipedia.org/wiki/Eiffel_Tower",
            "sourceName": "Wikipedia",
            "similarity": 0.9137,
        },
    },
    {
        "text": "It was finished in 1920.",
        "mark": "Insufficient",
        "reason": "No known fact is close enough.",
        "confidence": 41,
    },
]
# As every reader gets them: every field present.
EXPECTED = [ClaimVerdict.model_validate(c).model_dump(mode="json") for c in CLAIMS]
METHOD = (
    "Known claims found by sentence embedding (all-MiniLM-L6-v2); stance from a "
    "word-level check, as no NLI model is configured."
)


@asynccontextmanager
async def _public_api(services: Services, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway (with auth_service and ratelimit_service) in front of ``services``."""
    backend = str(services.backend.base_url)
    async with (
        public_gateway(services.database_url, redis_url, backend) as (url, _),
        httpx.AsyncClient(base_url=url) as api,
    ):
        yield api


async def _register(api: httpx.AsyncClient, name: str) -> tuple[dict[str, str], str]:
    """(bearer headers, userId)"""
    creds = {"email": f"{name}@example.com", "password": "a long enough password"}
    answer = await api.post("/v1/auth/register", json=creds)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return {"Authorization": f"Bearer {body['access_token']}"}, body["userId"]


async def _pushed(pubsub: aioredis.client.PubSub, want: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(5):
        while len(events) < want:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message:
                events.append(json.loads(message["data"]))
    return events


async def _task(api: httpx.AsyncClient, bearer: dict[str, str], task_id: str) -> TaskPublic:
    answer = await api.get(f"/v1/tasks/{task_id}", headers=bearer)
    assert answer.status_code == 200, answer.text
    return TaskPublic.model_validate(answer.json())


async def test_claims_and_method_reach_rows_pushes_tasks_cache_and_hits(
    services: Services, redis_url: str
) -> None:
    async with _public_api(services, redis_url) as api:
        alice, alice_id = await _register(api, "alice")
        bob, bob_id = await _register(api, "bob")
        pubsub = await listen(services.redis, alice_id, bob_id)
        leader = await api.post("/v1/verify", json={"text": TEXT}, headers=alice)
        follower = await api.post("/v1/verify", json={"text": TEXT}, headers=bob)
        assert (leader.status_code, follower.status_code) == (202, 202)
        leader_id, follower_id = leader.json()["taskId"], follower.json()["taskId"]
        (job,) = await services.jobs()  # bob's task joined alice's job
        assert job["taskId"] == leader_id

        body = result_body(job, mark="Incorrect", claims=CLAIMS, method=METHOD)
        stored = await services.callback(body)
        assert stored.status_code == 200 and stored.json()["duplicate"] is False

        # PostgreSQL: the leader's row and its follower's
        for task_id in (leader_id, follower_id):
            row = await task_row(services.database_url, task_id)
            assert row["status"] == "done" and json.loads(row["claims"]) == EXPECTED
            assert row["method"] == METHOD
        # the pushes, one per task, each with the claims and the method
        events = await _pushed(pubsub, 2)
        await pubsub.aclose()
        assert sorted((e["userId"], e["event"]["taskId"]) for e in events) == sorted(
            [(alice_id, leader_id), (bob_id, follower_id)]
        )
        for event in events:
            assert event["event"]["type"] == "result" and event["event"]["claims"] == EXPECTED
            assert event["event"]["method"] == METHOD
        # the task API, for each owner
        for bearer, task_id in ((alice, leader_id), (bob, follower_id)):
            task = await _task(api, bearer, task_id)
            assert task.result is not None and task.result.mark == "Incorrect"
            assert [c.model_dump(mode="json") for c in task.result.claims] == EXPECTED
            assert task.result.method == METHOD
        # both cache entries
        for digest in (job["textHash"], job["summaryHash"]):
            cached = await services.redis.get(keys.cache_result(digest))
            assert cached is not None and json.loads(cached)["claims"] == EXPECTED
            assert json.loads(cached)["method"] == METHOD

        # a cosmetically different text is a cache hit, answered with the claims and the
        # method of the verdict it was cached from
        hit = await api.post("/v1/verify", json={"text": f"<b>{TEXT.lower()}</b>"}, headers=bob)
        assert hit.status_code == 200, hit.text
        answer = VerifyCached.model_validate(hit.json())
        assert [c.model_dump(mode="json") for c in answer.result.claims] == EXPECTED
        assert hit.json()["result"]["claims"] == EXPECTED
        assert answer.result.method == hit.json()["result"]["method"] == METHOD
        row = await task_row(services.database_url, answer.taskId)
        assert row["cached"] and json.loads(row["claims"]) == EXPECTED
        assert row["method"] == METHOD
        task = await _task(api, bob, answer.taskId)
        assert task.cached and task.result is not None
        assert [c.model_dump(mode="json") for c in task.result.claims] == EXPECTED
        assert task.result.method == METHOD
        assert len(await services.jobs()) == 1  # no job for the hit


async def test_tasks_without_claims_or_method_answer_an_empty_list_and_null(
    services: Services, redis_url: str
) -> None:
    async with _public_api(services, redis_url) as api:
        bearer, _ = await _register(api, "carol")
        queued = (await api.post("/v1/verify", json={"text": "No claims."}, headers=bearer)).json()
        assert (await _task(api, bearer, queued["taskId"])).result is None
        (job,) = await services.jobs()
        assert (await services.callback(result_body(job))).status_code == 200
        row = await task_row(services.database_url, queued["taskId"])
        assert json.loads(row["claims"]) == [] and row["method"] is None
        task = await _task(api, bearer, queued["taskId"])
        assert task.result is not None and task.result.claims == []
        assert task.result.method is None
        raw = await api.get(f"/v1/tasks/{queued['taskId']}", headers=bearer)
        assert raw.json()["result"]["method"] is None  # present, as null

        # a row finished before claims existed (NULL) reads as no claims
        conn = await asyncpg.connect(services.database_url)
        try:
            await conn.execute("UPDATE ai_results SET claims = NULL")
        finally:
            await conn.close()
        task = await _task(api, bearer, queued["taskId"])
        assert task.result is not None and task.result.claims == []

        # a cache entry written before claims (and the method) existed is a hit without
        old = {"mark": "Correct", "reason": "Old entry.", "confidence": 70}
        await services.redis.set(keys.cache_result(text_hash("Old entry.")), json.dumps(old))
        hit = await api.post("/v1/verify", json={"text": "Old entry."}, headers=bearer)
        assert hit.status_code == 200
        assert hit.json()["result"] == {**old, "claims": [], "method": None}
        row = await task_row(services.database_url, hit.json()["taskId"])
        assert json.loads(row["claims"]) == [] and row["method"] is None
        # nor is one written with claims but before the method existed
        older = {**old, "reason": "Older entry.", "claims": CLAIMS}
        await services.redis.set(keys.cache_result(text_hash("Older entry.")), json.dumps(older))
        hit = await api.post("/v1/verify", json={"text": "Older entry."}, headers=bearer)
        assert hit.status_code == 200
        assert hit.json()["result"] == {**older, "claims": EXPECTED, "method": None}


async def test_repeats_compare_the_claims_and_method_too(services: Services) -> None:
    task_id = (await services.submit("u1", TEXT)).json()["taskId"]
    (job,) = await services.jobs()
    body = result_body(job, claims=CLAIMS, method=METHOD)
    assert (await services.callback(body)).json()["duplicate"] is False

    # the same outcome again, however it is spelled: 200, nothing changes
    spelled_out = result_body(job, claims=EXPECTED, method=METHOD)  # nulls explicit
    reordered = {k: body[k] for k in reversed(body)}
    for same in (body, spelled_out, reordered):
        again = await services.callback(same)
        assert again.status_code == 200 and again.json()["duplicate"] is True

    # the same task verdict with different claims is a different outcome
    changed = [{**CLAIMS[0], "confidence": 92}, CLAIMS[1]]
    for claims in ([], CLAIMS[::-1], CLAIMS[:1], changed):
        conflict = await services.callback(result_body(job, claims=claims, method=METHOD))
        assert conflict.status_code == 409, claims
        assert conflict.json()["errorCode"] == "RR-CONF-409"
    # ... and so is the same verdict with another method, or none
    for method in (None, METHOD + " ", "Another method."):
        conflict = await services.callback(result_body(job, claims=CLAIMS, method=method))
        assert conflict.status_code == 409, method
        assert conflict.json()["errorCode"] == "RR-CONF-409"
    row = await task_row(services.database_url, task_id)
    assert json.loads(row["claims"]) == EXPECTED and row["method"] == METHOD


def _largest_claim(i: int) -> dict[str, Any]:
    return {
        "text": f"{i:04d}" + "t" * 1996,
        "mark": "Correct",
        "reason": "r" * 2000,
        "confidence": 100,
        "stance": "contradicts",
        "evidence": {
            "claim": "c" * 1000,
            "verdict": "false",
            "explanation": "e" * 2000,
            "sourceUrl": "https://example.org/" + "u" * 2028,
            "sourceName": "n" * 200,
            "similarity": -0.123456789012345,
        },
    }


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("claims", [CLAIMS[1]] * (MAX_CLAIMS + 1), "too many"),
        ("claims", [{**CLAIMS[1], "mark": "Maybe"}], "bad mark"),
        ("claims", [{**CLAIMS[1], "text": ""}], "empty text"),
        ("claims", [{**CLAIMS[1], "extra": 1}], "unknown field"),
        (
            "claims",
            [{**CLAIMS[0], "evidence": {**CLAIMS[0]["evidence"], "similarity": 2}}],
            "similarity",
        ),
        ("method", "", "empty"),
        ("method", "m" * (MAX_METHOD_CHARS + 1), "too long"),
        ("method", ["a list"], "not text"),
    ],
)
async def test_invalid_claims_and_methods_are_refused(
    services: Services, field: str, value: object, why: str
) -> None:
    task_id = (await services.submit("u1", TEXT)).json()["taskId"]
    (job,) = await services.jobs()
    refused = await services.callback(result_body(job, **{field: value}))
    assert refused.status_code == 422, why
    assert refused.json()["errorCode"] == "RR-VAL-422"
    row = await task_row(services.database_url, task_id)
    assert row["status"] == "queued" and row[field] is None


async def test_the_largest_valid_result_is_accepted(services: Services) -> None:
    task_id = (await services.submit("u1", TEXT)).json()["taskId"]
    (job,) = await services.jobs()
    claims = [_largest_claim(i) for i in range(MAX_CLAIMS)]
    body = result_body(job, claims=claims, reason="r" * 2000, method="m" * MAX_METHOD_CHARS)
    assert len(json.dumps(body)) > 300_000
    accepted = await services.callback(body)
    assert accepted.status_code == 200, accepted.text
    row = await task_row(services.database_url, task_id)
    assert json.loads(row["claims"]) == claims and row["method"] == "m" * MAX_METHOD_CHARS
