"""SQL and row readers shared by the statements of ``shared.tasks``."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import asyncpg

from .rows import Finished, NewTask, StoredTask

Db: TypeAlias = asyncpg.Pool | asyncpg.Connection


def _stage(stage: str, *pairs: str, at: str = "now()") -> str:
    """SQL for a one-stage jsonb array, to append to ``stages`` in the statement that
    moves the task on: ``pairs`` are further ``'key', <sql value>`` arguments."""
    extra = "".join(f", {pair}" for pair in pairs)
    return f"jsonb_build_array(jsonb_build_object('stage', '{stage}', 'at', {at}{extra}))"


_ACCEPTED = _stage("accepted")
_DONE = _stage("done")
_FAILED = _stage("failed", "'errorCode', $2::text")
_CACHED = _stage("done", "'cached', true")
_JOINED = _stage("joined", "'leader', l.id")


_STORED_TASK = "user_id, text_hash, summary_hash"


def _stored_task(row: asyncpg.Record) -> StoredTask:
    return StoredTask(row["user_id"], row["text_hash"], row["summary_hash"])


def _new_task(row: asyncpg.Record) -> NewTask:
    return NewTask(
        task_id=row["id"],
        user_id=row["user_id"],
        text_hash=row["text_hash"].strip(),
        summary_hash=row["summary_hash"].strip(),
        payload=row["payload"],
    )


# The task (if queued under the token) and its queued followers take the outcome in one
# statement; ``$1`` task id, ``$2`` token hash, the outcome's columns after. A refused
# outcome's caller rolls the followers back with its transaction.
_FINISH = """
WITH leader AS (
  UPDATE ai_results SET {columns}, updated_at = now(), completed_at = now(),
    stages = stages || {stage}
  WHERE id = $1 AND status = 'queued' AND job_token_hash = $2
  RETURNING id, user_id, text_hash, summary_hash
), followers AS (
  UPDATE ai_results SET {columns}, updated_at = now(), completed_at = now(),
    stages = stages || {stage}
  WHERE joined_task_id = $1 AND status = 'queued'
  RETURNING id, user_id
)
SELECT true AS leads, id, user_id, text_hash, summary_hash FROM leader
UNION ALL
SELECT false, id, user_id, NULL, NULL FROM followers
ORDER BY leads DESC, id
"""


def _finished(rows: list[asyncpg.Record]) -> Finished:
    task = _stored_task(rows[0]) if rows and rows[0]["leads"] else None
    followers = [(row["id"], row["user_id"]) for row in rows if not row["leads"]]
    return Finished(task, followers)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
