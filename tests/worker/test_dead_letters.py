"""Dead letters through real parts: a real worker (with a model that fails) sends a job
to the DLQ; an operator lists it, replays it once the fault is gone (two replays at once
make one), and the user gets exactly one new final event; a discarded one fails its task
as OPS-DISCARDED and the user is told."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest

from shared import keys
from shared.http import USER_ID_HEADER
from tests.fixtures.pipeline import Services, insert_user, task_row
from worker.config import WorkerSettings
from worker.model import Judge

from .helpers import eventually, running
from .test_failures import ScriptedJudge


async def _work_until(
    services: Services, settings: WorkerSettings, judge: Judge, task_id: str, status: str
) -> None:
    """Run a worker with ``settings`` and ``judge`` until the task has ``status``."""
    async with running(settings, judge):

        async def reached() -> bool:
            return bool((await task_row(services.database_url, task_id))["status"] == status)

        await eventually(reached)


async def _events(services: Services, user: str) -> list[dict[str, Any]]:
    entries = await services.redis.xrange(keys.user_events(user))
    return [orjson.loads(fields["event"]) for _, fields in entries or [] if fields]


DeadLetter = Callable[[str], Awaitable[tuple[str, str]]]
Finish = Callable[[str], Awaitable[None]]


class Admin:
    """An operator calling the backend's admin routes (``/internal/admin/PATH``)."""

    def __init__(self, backend: httpx.AsyncClient, user_id: str) -> None:
        self.user_id = user_id
        self._backend = backend
        self._headers = {USER_ID_HEADER: user_id}

    async def get(self, path: str, **params: str) -> httpx.Response:
        url = f"/internal/admin/{path}"
        return await self._backend.get(url, params=params, headers=self._headers)

    async def post(self, path: str, **body: Any) -> httpx.Response:
        url = f"/internal/admin/{path}"
        return await self._backend.post(url, json=body, headers=self._headers)

    async def delete(self, path: str, **params: str) -> httpx.Response:
        url = f"/internal/admin/{path}"
        return await self._backend.delete(url, params=params, headers=self._headers)


@pytest.fixture
async def admin(services: Services) -> Admin:
    return Admin(services.backend, await insert_user(services.database_url, "admin"))


@pytest.fixture
def dead_letter(
    services: Services, make_settings: Callable[..., WorkerSettings], tiny_judge: Judge
) -> DeadLetter:
    """Submit a text as user "u-dlq" and let a failing worker dead-letter it: (task id,
    dead letter's entry id)."""

    async def one(text: str) -> tuple[str, str]:
        task_id = (await services.submit("u-dlq", text)).json()["taskId"]
        failing = ScriptedJudge(tiny_judge, None, RuntimeError("CUDA error: device-side assert"))
        settings = make_settings(max_attempts=2, retry_backoff_s=0.02)
        await _work_until(services, settings, failing, task_id, "failed")
        entries = await services.redis.xrange(keys.JOB_DLQ_STREAM)
        entry_id = next(
            str(i) for i, fields in entries or [] if (fields or {}).get("taskId") == task_id
        )
        return task_id, entry_id

    return one


@pytest.fixture
def finish(
    services: Services, make_settings: Callable[..., WorkerSettings], tiny_judge: Judge
) -> Finish:
    """Run a worker that works until the task is done."""

    async def until_done(task_id: str) -> None:
        await _work_until(services, make_settings(), tiny_judge, task_id, "done")

    return until_done


async def test_replay_after_the_fault_is_fixed_gives_one_result(
    services: Services, admin: Admin, dead_letter: DeadLetter, finish: Finish
) -> None:
    task_id, entry_id = await dead_letter("The Nile is the longest river in Africa.")

    listed = (await admin.get("dlq")).json()
    [item] = [i for i in listed["items"] if i["entryId"] == entry_id]
    assert item["taskId"] == task_id and item["errorCode"] == "WK-MODEL-ERROR"
    assert item["deliveries"] == 2 and [a["attempt"] for a in item["attempts"]] == [1, 2]
    shown = (await admin.get(f"dlq/{entry_id}")).json()
    assert shown["job"]["payload"] == "The Nile is the longest river in Africa."
    assert "job_token" not in shown["job"] and "job_token" not in str(shown)

    # two operators at once: one replay
    answers = await asyncio.gather(
        *(admin.post(f"dlq/{entry_id}/replay", reason="fixed") for _ in range(2))
    )
    replays = [a.json() for a in answers]
    assert sorted(r["replayed"] for r in replays) == [False, True], replays
    assert (await task_row(services.database_url, task_id))["status"] == "queued"
    missing = await admin.get(f"dlq/{entry_id}")
    assert missing.status_code == 404

    await finish(task_id)
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
    again = (await admin.post(f"dlq/{entry_id}/replay")).json()
    assert again == {"entryId": entry_id, "replayed": False, "why": "already handled"}


async def test_a_discard_fails_the_task_and_tells_the_user(
    services: Services, admin: Admin, dead_letter: DeadLetter
) -> None:
    task_id, entry_id = await dead_letter("Lake Baikal is the deepest lake.")
    answer = await admin.delete(f"dlq/{entry_id}", reason="bad input")
    assert answer.json() == {"entryId": entry_id, "discarded": True, "taskId": task_id}
    row = await task_row(services.database_url, task_id)
    assert (row["status"], row["error_code"]) == ("failed", "OPS-DISCARDED")

    async def told() -> bool:
        return any(e.get("errorCode") == "OPS-DISCARDED" for e in await _events(services, "u-dlq"))

    await eventually(told)  # through the outbox relay
    audit = (await admin.get("audit")).json()
    discard = next(e for e in audit["items"] if e["action"] == "dlq.discard")
    assert discard["actor"] == admin.user_id and discard["target"] == f"dlq:{entry_id}"
    assert discard["reason"] == "bad input" and discard["before"]["taskId"] == task_id


async def test_dead_letters_replayed_and_discarded_by_filter(
    services: Services, admin: Admin, dead_letter: DeadLetter
) -> None:
    first, _ = await dead_letter("Oslo is in Norway.")
    second, _ = await dead_letter("Bern is in Swiss.")

    none = await admin.post("dlq/replay", errorCode="WK-NOTHING-LIKE-IT")
    assert none.json() == {"matched": 0, "items": []}
    young = await admin.post("dlq/discard", olderThanS=3600)
    assert young.json()["matched"] == 0  # nothing died an hour ago
    discarded = await admin.post("dlq/discard", errorCode="WK-MODEL-ERROR", reason="bad batch")
    body = discarded.json()
    assert body["matched"] == 2 and [i["taskId"] for i in body["items"]] == [first, second]
    assert all(i["discarded"] for i in body["items"])
    for task_id in (first, second):
        row = await task_row(services.database_url, task_id)
        assert (row["status"], row["error_code"]) == ("failed", "OPS-DISCARDED")
    assert (await admin.post("dlq/discard")).json() == {"matched": 0, "items": []}


async def test_a_failed_task_found_and_retried_gets_its_verdict(
    services: Services, admin: Admin, dead_letter: DeadLetter, finish: Finish
) -> None:
    task_id, _ = await dead_letter("Mercury is the closest planet to the Sun.")
    found = await admin.get("tasks", status="failed", user="u-dlq")
    assert task_id in [t["taskId"] for t in found.json()["items"]]
    assert all(t["status"] == "failed" for t in found.json()["items"])
    retried = await admin.post(f"tasks/{task_id}/retry", reason="model fixed")
    assert retried.json() == {"taskId": task_id, "retried": True}
    await finish(task_id)
    again = (await admin.post(f"tasks/{task_id}/retry")).json()
    assert again == {"taskId": task_id, "retried": False, "why": "not a failed task"}
