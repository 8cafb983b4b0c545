"""Task stages from submit to push, and the workers' progress reports (``/ai-progress``):
recorded on the task and its followers, pushed to their users, ignored once stale."""

from __future__ import annotations

from typing import Any

import orjson

from shared import keys
from tests.fixtures.pipeline import Services, result_body, task_row


def _report(job: dict[str, str], **overrides: object) -> dict[str, object]:
    return {
        "taskId": job["taskId"],
        "job_token": job["job_token"],
        "stage": "started",
        "attempt": 1,
        "workerId": "worker-a",
        **overrides,
    }


async def _stages(services: Services, task_id: str) -> list[dict[str, Any]]:
    row = await task_row(services.database_url, task_id)
    stages: list[dict[str, Any]] = orjson.loads(row["stages"])
    return stages


async def _events(services: Services, user: str) -> list[dict[str, Any]]:
    entries = await services.redis.xrange(keys.user_events(user))
    return [orjson.loads(fields["event"]) for _, fields in entries or [] if fields]


async def test_progress_and_outcome_reach_the_leader_and_its_followers(
    services: Services,
) -> None:
    text = "Venus is the hottest planet in the solar system."
    leader = (await services.submit("user-lead", text)).json()["taskId"]
    follower = (await services.submit("user-follow", text)).json()["taskId"]
    [job] = await services.jobs()
    assert job["taskId"] == leader

    answer = await services.callback([_report(job)], path="/ai-progress")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"results": [{"taskId": leader, "status": 200, "recorded": True}]}
    retried = _report(job, stage="retried", attempt=1, reason="WK-MODEL-500")
    assert (await services.callback(retried, path="/ai-progress")).json() == {"recorded": True}
    assert (await services.callback(result_body(job))).status_code == 200

    lead_stages = await _stages(services, leader)
    assert [s["stage"] for s in lead_stages] == [
        "accepted", "queued", "started", "retried", "done", "notified",
    ]  # fmt: skip
    assert lead_stages[2] | {"at": None} == {
        "stage": "started", "at": None, "worker": "worker-a", "attempt": 1,
    }  # fmt: skip
    assert lead_stages[3]["reason"] == "WK-MODEL-500"
    assert lead_stages[-1]["live"] is False  # nobody connected: kept for replay
    follow_stages = await _stages(services, follower)
    assert [s["stage"] for s in follow_stages] == [
        "accepted", "joined", "started", "retried", "done", "notified",
    ]  # fmt: skip
    assert follow_stages[1]["leader"] == leader

    for user, task in (("user-lead", leader), ("user-follow", follower)):
        kinds = [(e["type"], e.get("stage")) for e in await _events(services, user)]
        assert kinds == [("progress", "started"), ("progress", "retried"), ("result", None)]
        assert all(e["taskId"] == task for e in await _events(services, user))


async def test_stale_and_bad_reports_change_nothing(services: Services) -> None:
    task = (await services.submit("user-stale", "Mars has two moons.")).json()["taskId"]
    [job] = await services.jobs()
    wrong_token = _report(job, job_token="x" * 32)
    assert (await services.callback(wrong_token, path="/ai-progress")).json() == {"recorded": False}
    unknown = _report(job, taskId="01NOSUCHTASK")
    assert (await services.callback(unknown, path="/ai-progress")).json() == {"recorded": False}
    assert (await services.callback(result_body(job))).status_code == 200
    late = await services.callback(_report(job), path="/ai-progress")
    assert late.json() == {"recorded": False}  # finished: a late report is ignored
    assert [s["stage"] for s in await _stages(services, task)] == [
        "accepted", "queued", "done", "notified",
    ]  # fmt: skip

    malformed = await services.callback({**_report(job), "stage": "sleeping"}, path="/ai-progress")
    assert malformed.status_code == 422 and malformed.json()["errorCode"] == "RR-VAL-422"
    unsigned = await services.receiver.post("/ai-progress", json=_report(job))
    assert unsigned.status_code == 401
