"""Worker against the real result_receiver app (PostgreSQL + Redis, over HTTP)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import asyncpg
from pydantic import SecretStr

from result_receiver.app import create_app
from result_receiver.config import ReceiverSettings
from shared.schemas import Job
from tests.utils.servers import running as serving
from tests.utils.settings import CALLBACK_SECRET, common
from worker.config import WorkerSettings
from worker.model import Judge

from .helpers import dlq_entries, enqueue, eventually, make_job, pending_count, running

TEXTS = ["I think pineapple pizza is the best food", "The Earth orbits the Sun.", "  "]


async def _insert_tasks(database_url: str, jobs: list[Job], token_of: Callable[[Job], str]) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        for job in jobs:
            await conn.execute(
                "INSERT INTO ai_results (id, user_id, text_hash, summary_hash, payload,"
                " job_token_hash) VALUES ($1, $2, $3, $4, $5, $6)",
                job.taskId,
                job.userId,
                job.textHash,
                job.summaryHash,
                job.payload,
                hashlib.sha256(token_of(job).encode()).hexdigest(),
            )
    finally:
        await conn.close()


async def _statuses(database_url: str) -> dict[str, tuple[str, str | None]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT id, status, mark FROM ai_results")
        return {r["id"]: (r["status"], r["mark"]) for r in rows}
    finally:
        await conn.close()


async def test_results_reach_the_database_and_entries_are_acked(
    make_settings: Callable[..., WorkerSettings],
    tiny_judge: Judge,
    redis_url: str,
    database_url: str,
) -> None:
    receiver = ReceiverSettings(
        **common(redis_url, database_url),
        callback_secret=SecretStr(CALLBACK_SECRET),
        run_migrations=False,
    )
    async with serving(create_app(receiver)) as base:
        url = f"{base}/ai-callback"
        good = [make_job(t, url) for t in TEXTS]
        forged = make_job("The moon landing was faked in a studio.", url)
        await _insert_tasks(database_url, good, lambda j: j.job_token)
        # The stored token differs from the one in the job: the receiver refuses it.
        await _insert_tasks(database_url, [forged], lambda j: "another-token-0123456789")
        settings = make_settings(max_attempts=2, retry_backoff_s=0.02)
        await enqueue(settings, [*good, forged])
        async with running(settings, tiny_judge) as worker:

            async def settled() -> bool:
                rows = await _statuses(database_url)
                done = all(rows[j.taskId][0] != "queued" for j in good)
                dead = bool(await dlq_entries(settings))
                return done and dead and worker.in_flight == 0 and not await pending_count(settings)

            await eventually(settled)
    rows = await _statuses(database_url)
    judged = good[:2]
    expected = {
        j.taskId: ("done", v.mark.value)
        for j, v in zip(judged, tiny_judge.judge(TEXTS[:2]), strict=True)
    }
    assert {j.taskId: rows[j.taskId] for j in judged} == expected
    assert rows[good[2].taskId] == ("failed", None)  # blank text: WK-INPUT-EMPTY
    # Refused (403) on every attempt, and so was its failure: it waits in the DLQ.
    assert rows[forged.taskId] == ("queued", None)
    (dead,) = await dlq_entries(settings)
    assert (dead["taskId"], dead["failureCallback"]) == (forged.taskId, "rejected")
