"""Failure callbacks at the result receiver: signed like results, idempotent, no flip-flop."""

from __future__ import annotations

import json

from shared import keys
from tests.fixtures.pipeline import Services, job_ref, result_body, task_row


def _failure(job: dict[str, str], **overrides: object) -> dict[str, object]:
    return {
        **job_ref(job),
        "status": "failed",
        "errorCode": "WK-MODEL-OOM",
        "message": "The model ran out of memory on this text 5 times; giving up.",
        **overrides,
    }


async def test_failure_marks_the_task_failed_and_notifies(services: Services) -> None:
    task_id = (await services.submit("user-1", "A claim the model chokes on.")).json()["taskId"]
    (job,) = await services.jobs()
    await services.redis.hset(keys.ws_user("user-1"), "sock-1", "inst-a")
    pubsub = services.redis.pubsub()
    await pubsub.subscribe(keys.ws_instance_channel("inst-a"))
    await pubsub.get_message(timeout=1)

    first = await services.callback(_failure(job))
    assert first.status_code == 200 and first.json() == {"accepted": True, "duplicate": False}
    row = await task_row(services.database_url, task_id)
    assert (row["status"], row["error_code"], row["mark"]) == ("failed", "WK-MODEL-OOM", None)
    assert row["error_message"].startswith("The model ran out of memory")
    message = None
    for _ in range(20):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message:
            break
    await pubsub.aclose()
    assert message is not None
    event = json.loads(message["data"])["event"]
    event.pop("eventId", None)
    assert event == {
        "type": "failed",
        "taskId": task_id,
        "errorCode": "WK-MODEL-OOM",
        "message": "The model ran out of memory on this text 5 times; giving up.",
    }
    # nothing is cached for a failure: the next submission of the text runs again
    assert await services.redis.exists(keys.cache_result(job["textHash"])) == 0

    again = await services.callback(_failure(job, message="worded differently"))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    other = await services.callback(_failure(job, errorCode="WK-MODEL-ERROR"))
    assert other.status_code == 409 and other.json()["errorCode"] == "RR-CONF-409"
    late_result = await services.callback(result_body(job))
    assert late_result.status_code == 409
    row = await task_row(services.database_url, task_id)
    assert (row["status"], row["error_code"], row["mark"]) == ("failed", "WK-MODEL-OOM", None)


async def test_failure_for_a_done_task_is_a_conflict(services: Services) -> None:
    task_id = (await services.submit("user-1", "Water is wet.")).json()["taskId"]
    (job,) = await services.jobs()
    assert (await services.callback(result_body(job, status="done"))).status_code == 200
    refused = await services.callback(_failure(job))
    assert refused.status_code == 409 and refused.json()["errorCode"] == "RR-CONF-409"
    row = await task_row(services.database_url, task_id)
    assert (row["status"], row["mark"], row["error_code"]) == ("done", "Correct", None)


async def test_hostile_failures_change_nothing(services: Services) -> None:
    task_id = (await services.submit("user-1", "The sky is green.")).json()["taskId"]
    (job,) = await services.jobs()
    cases = {
        "forged": (await services.callback(_failure(job), secret="wrong-secret"), 401),
        "stale": (await services.callback(_failure(job), timestamp=1_600_000_000), 401),
        "wrong token": (await services.callback(_failure(job, job_token="x" * 43)), 403),
        "unknown task": (await services.callback(_failure(job, taskId="01UNKNOWN")), 404),
        "bad code": (await services.callback(_failure(job, errorCode="oops")), 422),
        "no message": (await services.callback(_failure(job, message="")), 422),
        "bad status": (await services.callback(result_body(job, status="maybe")), 422),
        "mixed": (await services.callback({**_failure(job), "mark": "Correct"}), 422),
    }
    for name, (response, status) in cases.items():
        assert response.status_code == status, name
    assert (await task_row(services.database_url, task_id))["status"] == "queued"
    ok = await services.callback(_failure(job), message_id="delivery-f1")
    assert ok.status_code == 200
    replay = await services.callback(_failure(job), message_id="delivery-f1")
    assert replay.status_code == 409 and replay.json()["errorCode"] == "RR-REPLAY-409"
