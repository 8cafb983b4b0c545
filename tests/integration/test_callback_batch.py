"""result_receiver's batched callback: a JSON array of results, answered item by item."""

from __future__ import annotations

import asyncpg
from ulid import ULID

from tests.fixtures.pipeline import Services, result_body, task_row


async def _jobs_for(services: Services, texts: list[str]) -> list[dict[str, str]]:
    for text in texts:
        assert (await services.submit("user-1", text)).status_code == 202
    jobs = await services.jobs()
    assert len(jobs) == len(texts)
    return jobs


async def test_a_batch_records_every_result(services: Services) -> None:
    jobs = await _jobs_for(services, [f"The river number {i} is long." for i in range(5)])
    failed = {
        "taskId": jobs[4]["taskId"],
        "job_token": jobs[4]["job_token"],
        "status": "failed",
        "errorCode": "WK-INPUT-EMPTY",
        "message": "nothing to check",
    }
    answer = await services.callback([result_body(job) for job in jobs[:4]] + [failed])
    assert answer.status_code == 200
    assert answer.json() == {
        "results": [{"taskId": job["taskId"], "status": 200, "duplicate": False} for job in jobs]
    }
    for job in jobs[:4]:
        assert (await task_row(services.database_url, job["taskId"]))["status"] == "done"
    assert (await task_row(services.database_url, jobs[4]["taskId"]))["status"] == "failed"

    again = await services.callback([result_body(job) for job in jobs[:2]])
    assert [item["duplicate"] for item in again.json()["results"]] == [True, True]


async def test_a_refused_result_does_not_undo_the_others(services: Services) -> None:
    jobs = await _jobs_for(services, [f"The mountain number {i} is high." for i in range(3)])
    body: list[object] = [
        result_body(jobs[0]),
        result_body(jobs[1], job_token="x" * 43),
        result_body(jobs[2], mark="Maybe"),
        result_body(jobs[2], taskId=str(ULID())),
    ]
    answer = await services.callback(body)
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(r["status"], r.get("errorCode")) for r in results] == [
        (200, None),
        (403, "RR-TOKEN-403"),
        (422, "RR-VAL-422"),
        (404, "RR-TASK-404"),
    ]
    assert [r["taskId"] for r in results[:3]] == [job["taskId"] for job in jobs]
    assert (await task_row(services.database_url, jobs[0]["taskId"]))["status"] == "done"
    for job in jobs[1:]:
        assert (await task_row(services.database_url, job["taskId"]))["status"] == "queued"


async def test_batches_that_are_not_batches_are_refused(services: Services) -> None:
    (job,) = await _jobs_for(services, ["The lake is deep."])
    empty = await services.callback([])
    assert (empty.status_code, empty.json()["errorCode"]) == (422, "RR-VAL-422")
    huge = await services.callback([result_body(job)] * 101)
    assert (huge.status_code, huge.json()["errorCode"]) == (422, "RR-VAL-422")
    assert (await task_row(services.database_url, job["taskId"]))["status"] == "queued"
    forged = await services.callback([result_body(job)], secret="wrong-secret")
    assert forged.status_code == 401
    replayed = [await services.callback([result_body(job)], message_id="batch-1") for _ in "ab"]
    assert [r.status_code for r in replayed] == [200, 409]


async def test_a_result_sent_twice_in_one_batch_is_stored_once(services: Services) -> None:
    jobs = await _jobs_for(services, [f"The lake number {i} is deep." for i in range(2)])
    body: list[object] = [result_body(jobs[1]), result_body(jobs[0]), result_body(jobs[1])]
    answer = await services.callback(body)
    assert answer.status_code == 200
    assert [(r["taskId"], r["duplicate"]) for r in answer.json()["results"]] == [
        (jobs[1]["taskId"], False),
        (jobs[0]["taskId"], False),
        (jobs[1]["taskId"], True),
    ]
    # one cache entry and one push, not two of each
    conn = await asyncpg.connect(services.database_url)
    try:
        kinds = await conn.fetch("SELECT kind FROM outbox WHERE task_id = $1", jobs[1]["taskId"])
    finally:
        await conn.close()
    assert sorted(r["kind"] for r in kinds) == sorted({r["kind"] for r in kinds})
    assert len(kinds) == 2


async def test_a_batch_gives_each_verdict_to_its_task_and_its_followers(
    services: Services,
) -> None:
    texts = [f"The glacier number {i} is old." for i in range(3)]
    jobs = await _jobs_for(services, texts)
    # the same texts again, from others: followers of the tasks already queued
    followers = {}
    for i, text in enumerate(texts[:2]):
        answer = await services.submit(f"user-f{i}", text)
        assert answer.status_code == 202
        followers[answer.json()["taskId"]] = jobs[i]["taskId"]
    assert len(await services.jobs()) == 3  # the followers have no job of their own
    already = await services.callback([result_body(jobs[2])])  # a repeat, in the batch below
    assert already.status_code == 200
    marks = ["Correct", "Incorrect", "Correct"]
    body: list[object] = [result_body(j, mark=m) for j, m in zip(jobs, marks, strict=True)]
    answer = await services.callback(body)
    assert answer.status_code == 200
    assert [r["duplicate"] for r in answer.json()["results"]] == [False, False, True]
    for job, mark in zip(jobs, marks, strict=True):
        row = await task_row(services.database_url, job["taskId"])
        assert (row["status"], row["mark"]) == ("done", mark)
    for follower, leader in followers.items():
        row = await task_row(services.database_url, follower)
        leader_mark = marks[[job["taskId"] for job in jobs].index(leader)]
        assert (row["status"], row["mark"]) == ("done", leader_mark), follower
    conn = await asyncpg.connect(services.database_url)
    try:  # each follower's user is told, once
        pushes = await conn.fetch(
            "SELECT task_id FROM outbox WHERE kind = 'notify' AND task_id = ANY($1::text[])",
            list(followers),
        )
    finally:
        await conn.close()
    assert sorted(r["task_id"] for r in pushes) == sorted(followers)
