"""Dead letters through real parts: a real worker (with a model that fails) sends a job
to the DLQ; an operator lists it, replays it once the fault is gone (two replays at once
make one), and the user gets exactly one new final event; a discarded one fails its task
as OPS-DISCARDED and the user is told."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson

from shared import keys
from shared.http import USER_ID_HEADER
from tests.fixtures.pipeline import Services, insert_user, task_row
from worker.config import WorkerSettings
from worker.model import Judge

from .helpers import eventually, running
from .test_failures import ScriptedJudge


async def _events(services: Services, user: str) -> list[dict[str, Any]]:
    entries = await services.redis.xrange(keys.user_events(user))
    return [orjson.loads(fields["event"]) for _, fields in entries or [] if fields]


async def _dead_letter_one(
    services: Services, make_settings: Callable[..., WorkerSettings], judge: Judge, text: str
) -> tuple[str, str]:
    """Submit ``text`` as user "u-dlq" and let a failing worker dead-letter it."""
    task_id = (await services.submit("u-dlq", text)).json()["taskId"]
    failing = ScriptedJudge(judge, None, RuntimeError("CUDA error: device-side assert"))
    settings = make_settings(max_attempts=2, retry_backoff_s=0.02)
    async with running(settings, failing):

        async def failed() -> bool:
            return bool((await task_row(services.database_url, task_id))["status"] == "failed")

        await eventually(failed)
    entries = await services.redis.xrange(keys.JOB_DLQ_STREAM)
    entry_id = next(
        str(i) for i, fields in entries or [] if (fields or {}).get("taskId") == task_id
    )
    return task_id, entry_id


async def test_replay_after_the_fault_is_fixed_gives_one_result(
    services: Services, make_settings: Callable[..., WorkerSettings], tiny_judge: Judge
) -> None:
    admin = {USER_ID_HEADER: await insert_user(services.database_url, "admin")}
    task_id, entry_id = await _dead_letter_one(
        services, make_settings, tiny_judge, "The Nile is the longest river in Africa."
    )

    listed = (await services.backend.get("/internal/admin/dlq", headers=admin)).json()
    [item] = [i for i in listed["items"] if i["entryId"] == entry_id]
    assert item["taskId"] == task_id and item["errorCode"] == "WK-MODEL-ERROR"
    assert item["deliveries"] == 2 and [a["attempt"] for a in item["attempts"]] == [1, 2]
    shown = (await services.backend.get(f"/internal/admin/dlq/{entry_id}", headers=admin)).json()
    assert shown["job"]["payload"] == "The Nile is the longest river in Africa."
    assert "job_token" not in shown["job"] and "job_token" not in str(shown)

    # two operators at once: one replay
    answers = await asyncio.gather(
        *(
            services.backend.post(
                f"/internal/admin/dlq/{entry_id}/replay", json={"reason": "fixed"}, headers=admin
            )
            for _ in range(2)
        )
    )
    replays = [a.json() for a in answers]
    assert sorted(r["replayed"] for r in replays) == [False, True], replays
    assert (await task_row(services.database_url, task_id))["status"] == "queued"
    missing = await services.backend.get(f"/internal/admin/dlq/{entry_id}", headers=admin)
    assert missing.status_code == 404

    async with running(make_settings(), tiny_judge):

        async def done() -> bool:
            return bool((await task_row(services.database_url, task_id))["status"] == "done")

        await eventually(done)

    finals = [(e["type"], e.get("errorCode")) for e in await _events(services, "u-dlq")
              if e["type"] in ("result", "failed") and e["taskId"] == task_id]  # fmt: skip
    assert finals == [("failed", "WK-MODEL-ERROR"), ("result", None)], finals

    async def notified_again() -> bool:
        stages = orjson.loads((await task_row(services.database_url, task_id))["stages"])
        return [s["stage"] for s in stages][-2:] == ["done", "notified"]

    await eventually(notified_again)
    stages = orjson.loads((await task_row(services.database_url, task_id))["stages"])
    names = [s["stage"] for s in stages]
    assert names.count("notified") == 2 and names.index("replayed") < names.index("done")
    again = await services.backend.post(
        f"/internal/admin/dlq/{entry_id}/replay", json={}, headers=admin
    )
    assert again.json() == {"entryId": entry_id, "replayed": False, "why": "already handled"}


async def test_a_discard_fails_the_task_and_tells_the_user(
    services: Services, make_settings: Callable[..., WorkerSettings], tiny_judge: Judge
) -> None:
    admin_id = await insert_user(services.database_url, "admin")
    admin = {USER_ID_HEADER: admin_id}
    task_id, entry_id = await _dead_letter_one(
        services, make_settings, tiny_judge, "Lake Baikal is the deepest lake."
    )
    answer = await services.backend.delete(
        f"/internal/admin/dlq/{entry_id}", params={"reason": "bad input"}, headers=admin
    )
    assert answer.json() == {"entryId": entry_id, "discarded": True, "taskId": task_id}
    row = await task_row(services.database_url, task_id)
    assert (row["status"], row["error_code"]) == ("failed", "OPS-DISCARDED")

    async def told() -> bool:
        return any(e.get("errorCode") == "OPS-DISCARDED" for e in await _events(services, "u-dlq"))

    await eventually(told)  # through the outbox relay
    audit = (await services.backend.get("/internal/admin/audit", headers=admin)).json()
    discard = next(e for e in audit["items"] if e["action"] == "dlq.discard")
    assert discard["actor"] == admin_id and discard["target"] == f"dlq:{entry_id}"
    assert discard["reason"] == "bad input" and discard["before"]["taskId"] == task_id


async def test_a_failed_task_found_and_retried_gets_its_verdict(
    services: Services, make_settings: Callable[..., WorkerSettings], tiny_judge: Judge
) -> None:
    admin = {USER_ID_HEADER: await insert_user(services.database_url, "admin")}
    task_id, _ = await _dead_letter_one(
        services, make_settings, tiny_judge, "Mercury is the closest planet to the Sun."
    )
    found = await services.backend.get(
        "/internal/admin/tasks", params={"status": "failed", "user": "u-dlq"}, headers=admin
    )
    assert task_id in [t["taskId"] for t in found.json()["items"]]
    assert all(t["status"] == "failed" for t in found.json()["items"])
    retried = await services.backend.post(
        f"/internal/admin/tasks/{task_id}/retry", json={"reason": "model fixed"}, headers=admin
    )
    assert retried.json() == {"taskId": task_id, "retried": True}
    async with running(make_settings(), tiny_judge):

        async def done() -> bool:
            return bool((await task_row(services.database_url, task_id))["status"] == "done")

        await eventually(done)
    again = await services.backend.post(
        f"/internal/admin/tasks/{task_id}/retry", json={}, headers=admin
    )
    assert again.json() == {"taskId": task_id, "retried": False, "why": "not a failed task"}


async def test_dead_letters_replayed_and_discarded_by_filter(
    services: Services, make_settings: Callable[..., WorkerSettings], tiny_judge: Judge
) -> None:
    admin = {USER_ID_HEADER: await insert_user(services.database_url, "admin")}
    first, _ = await _dead_letter_one(services, make_settings, tiny_judge, "Oslo is in Norway.")
    second, _ = await _dead_letter_one(services, make_settings, tiny_judge, "Bern is in Swiss.")

    none = await services.backend.post(
        "/internal/admin/dlq/replay", json={"errorCode": "WK-NOTHING-LIKE-IT"}, headers=admin
    )
    assert none.json() == {"matched": 0, "items": []}
    young = await services.backend.post(
        "/internal/admin/dlq/discard", json={"olderThanS": 3600}, headers=admin
    )
    assert young.json()["matched"] == 0  # nothing died an hour ago
    discarded = await services.backend.post(
        "/internal/admin/dlq/discard",
        json={"errorCode": "WK-MODEL-ERROR", "reason": "bad batch"},
        headers=admin,
    )
    body = discarded.json()
    assert body["matched"] == 2 and [i["taskId"] for i in body["items"]] == [first, second]
    assert all(i["discarded"] for i in body["items"])
    for task_id in (first, second):
        row = await task_row(services.database_url, task_id)
        assert (row["status"], row["error_code"]) == ("failed", "OPS-DISCARDED")
    again = await services.backend.post("/internal/admin/dlq/discard", json={}, headers=admin)
    assert again.json() == {"matched": 0, "items": []}
