"""backend_service + ai_service + result_receiver over real sockets, Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import json

import httpx
from prometheus_client import REGISTRY
from ulid import ULID

from shared import keys
from shared.http import USER_ID_HEADER
from tests.fixtures.pipeline import EXAMPLE_JOB, Services, result_body, task_row
from tests.utils.settings import SIGNED


async def test_miss_enqueues_job_with_spec_fields(services: Services) -> None:
    answer = await services.submit("user-1", "The Eiffel Tower is in Paris.")
    assert answer.status_code == 202
    task_id = answer.json()["taskId"]
    assert answer.json() == {"taskId": task_id, "queued": True}
    (job,) = await services.jobs()
    assert {
        "taskId",
        "userId",
        "payload",
        "textHash",
        "summaryHash",
        "job_token",
        "callback_url",
    } <= set(job)
    assert job["taskId"] == task_id and job["userId"] == "user-1"
    assert job["callback_url"].endswith("/ai-callback")
    row = await task_row(services.database_url, task_id)
    assert row["status"] == "queued" and row["user_id"] == "user-1"
    assert row["job_token_hash"] != job["job_token"]  # only the hash is stored


async def test_callback_stores_caches_and_notifies(services: Services) -> None:
    task_id = (await services.submit("user-1", "Water boils at 100 C at sea level.")).json()[
        "taskId"
    ]
    (job,) = await services.jobs()
    await services.redis.hset(keys.ws_user("user-1"), "sock-1", "inst-a")
    pubsub = services.redis.pubsub()
    await pubsub.subscribe(keys.ws_instance_channel("inst-a"))
    await pubsub.get_message(timeout=1)  # subscribe confirmation

    accepted = await services.callback(result_body(job))
    assert accepted.status_code == 200 and accepted.json()["duplicate"] is False
    row = await task_row(services.database_url, task_id)
    assert (row["status"], row["mark"], row["confidence"]) == ("done", "Correct", 87)
    assert (
        await services.redis.exists(
            keys.cache_result(job["textHash"]), keys.cache_result(job["summaryHash"])
        )
        == 2
    )
    message = None
    for _ in range(20):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message:
            break
    assert message is not None
    pushed = json.loads(message["data"])
    assert pushed["userId"] == "user-1"
    assert pushed["event"] == {
        "type": "result",
        "taskId": task_id,
        "mark": "Correct",
        "reason": "Matches a well-established fact.",
        "confidence": 87,
        "claims": [],
        "method": None,
        "cached": False,
    }
    await pubsub.aclose()

    # same result delivered again: 200, nothing changes
    again = await services.callback(result_body(job))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    # a conflicting result is refused
    conflict = await services.callback(result_body(job, mark="Incorrect"))
    assert conflict.status_code == 409 and conflict.json()["errorCode"] == "RR-CONF-409"
    assert (await task_row(services.database_url, task_id))["mark"] == "Correct"


async def test_cache_hits_by_text_and_by_summary(services: Services) -> None:
    first = (await services.submit("user-1", "The Moon orbits the Earth.")).json()
    (job,) = await services.jobs()
    assert (await services.callback(result_body(job))).status_code == 200
    for user, text in (
        ("user-1", "The Moon orbits the Earth."),
        ("user-2", "  the moon ORBITS the earth  "),
        ("user-2", "<p>The **Moon** orbits the Earth!</p>"),
    ):
        hit = await services.submit(user, text)
        assert hit.status_code == 200, text
        body = hit.json()
        assert body["cached"] is True and body["taskId"] != first["taskId"]
        assert body["result"]["mark"] == "Correct"
    assert len(await services.jobs()) == 1  # no new job for any hit
    # the hit is a task of the user who asked, answered from cache
    seen = await services.backend.get(
        f"/internal/tasks/{body['taskId']}", headers={USER_ID_HEADER: "user-2"}
    )
    assert seen.json()["status"] == "done" and seen.json()["cached"] is True


async def test_task_of_another_user_is_404(services: Services) -> None:
    task_id = (await services.submit("user-1", "Some claim")).json()["taskId"]
    own = await services.backend.get(
        f"/internal/tasks/{task_id}", headers={USER_ID_HEADER: "user-1"}
    )
    assert own.status_code == 200 and own.json()["status"] == "queued"
    other = await services.backend.get(
        f"/internal/tasks/{task_id}", headers={USER_ID_HEADER: "user-2"}
    )
    assert other.status_code == 404 and other.json()["errorCode"] == "BE-TASK-404"


async def test_hostile_callbacks_change_nothing(services: Services) -> None:
    task_id = (await services.submit("user-1", "Paris is the capital of France.")).json()["taskId"]
    (job,) = await services.jobs()
    cases = {
        "forged": await services.callback(result_body(job), secret="wrong-secret"),
        "stale": await services.callback(result_body(job), timestamp=1_600_000_000),
        "wrong token": await services.callback(result_body(job, job_token="x" * 43)),
        "unknown task": await services.callback(result_body(job, taskId=str(ULID()))),
        "bad mark": await services.callback(result_body(job, mark="Maybe")),
        "bad confidence": await services.callback(result_body(job, confidence=101)),
    }
    expected = {
        "forged": (401, "RR-SIG-401"),
        "stale": (401, "RR-SIG-STALE"),
        "wrong token": (403, "RR-TOKEN-403"),
        "unknown task": (404, "RR-TASK-404"),
        "bad mark": (422, "RR-VAL-422"),
        "bad confidence": (422, "RR-VAL-422"),
    }
    for name, response in cases.items():
        assert (response.status_code, response.json()["errorCode"]) == expected[name], name
    row = await task_row(services.database_url, task_id)
    assert row["status"] == "queued" and row["mark"] is None

    ok = await services.callback(result_body(job), message_id="delivery-1")
    assert ok.status_code == 200
    replay = await services.callback(result_body(job), message_id="delivery-1")
    assert replay.status_code == 409 and replay.json()["errorCode"] == "RR-REPLAY-409"

    too_big = await services.receiver.post("/ai-callback", content=b"x" * (512 * 1024 + 1))
    assert too_big.status_code == 413


async def test_bad_submissions(services: Services) -> None:
    cases = [
        ({"text": "   "}, 400),
        ({"text": "a" * 20_001}, 413),
        ({"text": "a\x00b"}, 400),
        ({"text": "ok", "extra": 1}, 422),
        ({}, 422),
    ]
    for body, status in cases:
        answer = await services.backend.post(
            "/internal/verify", json=body, headers={USER_ID_HEADER: "u"}
        )
        assert answer.status_code == status, body
        assert answer.json()["errorCode"].startswith("BE-"), body
    no_user = await services.backend.post("/internal/verify", json={"text": "hi"})
    assert no_user.status_code == 422
    assert await services.jobs() == []


async def test_ai_service_refuses_outsiders(services: Services) -> None:
    async with httpx.AsyncClient(base_url=services.ai_url) as ai:
        for headers in ({}, {"x-internal-token": "test-internal-token-0123456789"}):
            refused = await ai.post("/internal/jobs", json=EXAMPLE_JOB, headers=headers)
            assert refused.status_code == 403 and refused.json()["errorCode"] == "SYS-AUTH-403"
        bad = await ai.post(
            "/internal/jobs",
            json={**EXAMPLE_JOB, "textHash": "nothex"},
            auth=SIGNED,
        )
        assert bad.status_code == 422 and bad.json()["errorCode"] == "AI-VAL-422"
        ok = await ai.post("/internal/jobs", json=EXAMPLE_JOB, auth=SIGNED)
        assert ok.status_code == 202
    assert [j["taskId"] for j in await services.jobs()] == ["t1"]


async def test_ai_service_takes_a_batch_of_jobs_each_with_its_own_trace(
    services: Services,
) -> None:
    traces = [f"00-{n:032x}-{n:016x}-01" for n in (1, 2)]
    batch = {
        "jobs": [
            {"job": {**EXAMPLE_JOB, "taskId": "t1"}, "traceparent": traces[0]},
            {"job": {**EXAMPLE_JOB, "taskId": "t2", "payload": "x" * 20_001}},
            {"job": {**EXAMPLE_JOB, "taskId": "t3"}, "traceparent": traces[1]},
        ]
    }
    async with httpx.AsyncClient(base_url=services.ai_url, auth=SIGNED) as ai:
        answer = await ai.post("/internal/jobs/batch", json=batch)
        assert answer.status_code == 202, answer.text
        first, too_long, third = answer.json()["results"]
        assert first["taskId"] == "t1" and third["taskId"] == "t3"
        # a job the queue cannot take is refused alone, in its place
        assert too_long == {
            "taskId": "t2",
            "errorCode": "AI-VAL-413",
            "message": "payload longer than 20000 characters",
        }
        bad_batches: list[dict[str, object]] = [
            {"jobs": []},
            {"jobs": [{"job": EXAMPLE_JOB, "traceparent": "nope"}]},
        ]
        for bad in bad_batches:
            refused = await ai.post("/internal/jobs/batch", json=bad)
            assert refused.status_code == 422 and refused.json()["errorCode"] == "AI-VAL-422"
    jobs = await services.jobs()
    assert [(j["taskId"], j.get("traceparent")) for j in jobs] == [
        ("t1", traces[0]),
        ("t3", traces[1]),
    ]
    entries = await services.redis.xrange(keys.JOB_STREAM) or []
    stream_ids = [entry_id for entry_id, _ in entries]
    assert stream_ids == [first["streamId"], third["streamId"]]


async def test_submits_that_arrive_together_each_get_their_job(services: Services) -> None:
    def requests_to_ai_service() -> float:
        # the backend runs in this process (tests/utils/servers.py): its own metric
        sample = REGISTRY.get_sample_value(
            "satyamark_upstream_request_duration_seconds_count",
            {"service": "backend_service", "upstream": "ai_service"},
        )
        return sample or 0.0

    before = requests_to_ai_service()
    texts = [f"The river number {n} flows into the sea." for n in range(40)]
    answers = await asyncio.gather(*(services.submit(f"user-{n}", t) for n, t in enumerate(texts)))
    assert [a.status_code for a in answers] == [202] * len(texts)
    # jobs handed over while a request was out went together in the next
    assert requests_to_ai_service() - before < len(texts)
    jobs = {job["taskId"]: job["payload"] for job in await services.jobs()}
    assert jobs == {a.json()["taskId"]: text for a, text in zip(answers, texts, strict=True)}
