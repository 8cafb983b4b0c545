"""Progress reports from workers: a task stage, and a ``progress`` push to its users.

Best effort by design: a report about a task that already finished, or carrying an
old job_token (the sweeper re-queued the job meanwhile), is ignored and answered
``recorded: false``; only a well-formed, signed report is accepted at all.
"""

from __future__ import annotations

import hashlib
from typing import Any

import asyncpg

from shared import events, tasks
from shared.events import ProgressEvent
from shared.schemas import CallbackProgress


def _stage(report: CallbackProgress) -> dict[str, Any]:
    stage: dict[str, Any] = {
        "stage": report.stage,
        "worker": report.workerId,
        "attempt": report.attempt,
    }
    if report.reason is not None:
        stage["reason"] = report.reason
    return stage


async def record(pool: asyncpg.Pool, report: CallbackProgress) -> list[events.Written] | None:
    """Append the stage to the task (and its followers) and write their pushes to the
    outbox, in one transaction; the outbox rows, or None when it was ignored."""
    token_hash = hashlib.sha256(report.job_token.encode()).hexdigest()
    async with pool.acquire() as conn, conn.transaction():
        told = await tasks.record_progress(conn, report.taskId, token_hash, _stage(report))
        if told is None:
            return None
        entries = [
            events.notify_entry(
                task_id,
                user_id,
                ProgressEvent(taskId=task_id, stage=report.stage, attempt=report.attempt),
            )
            for task_id, user_id in told
        ]
        return await events.write(conn, entries)
