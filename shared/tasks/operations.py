"""Operators' statements: replaying dead-lettered tasks, cancelling, discarding,
finding tasks, a user's progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._sql import _FAILED, Db, _iso, _new_task, _stage
from .rows import NewTask, Progress

_REPLAYED = """
UPDATE ai_results SET status = 'queued', mark = NULL, reason = NULL, confidence = NULL,
  claims = NULL, method = NULL, error_code = NULL, error_message = NULL, model = NULL,
  completed_at = NULL, joined_task_id = NULL, job_token_hash = $2, updated_at = now(),
  stages = stages || jsonb_build_array(
    jsonb_build_object('stage', 'replayed', 'at', now(), 'entryId', $3::text))
WHERE id = $1 AND status = ANY($4::text[])
RETURNING id, user_id, text_hash, summary_hash, payload
"""


async def requeue_replayed(
    db: Db, task_id: str, token_hash: str, entry_id: str | None, *, failed_only: bool = False
) -> NewTask | None:
    """A dead-lettered (or failed) task back to ``queued`` under a new job token (stage
    ``replayed``); None when it has a verdict (nothing to replay), does not exist or,
    with ``failed_only``, has not failed."""
    statuses = ["failed"] if failed_only else ["failed", "queued"]
    row = await db.fetchrow(_REPLAYED, task_id, token_hash, entry_id, statuses)
    if row is None:
        return None
    return _new_task(row)


_CANCEL = f"""
UPDATE ai_results SET status = 'failed', error_code = $3, error_message = $4,
  job_token_hash = NULL, updated_at = now(), completed_at = now(),
  stages = stages || {_stage("failed", "'errorCode', $3::text")}
WHERE id = $1 AND user_id = $2 AND status = 'queued'
RETURNING joined_task_id, text_hash
"""

# The oldest queued follower of a cancelled leader takes its place (its own job, under
# the token hash $2); the other followers follow it instead.
_HAND_ON_LEAD = f"""
WITH heir AS (
  SELECT id FROM ai_results WHERE joined_task_id = $1 AND status = 'queued'
  ORDER BY id LIMIT 1 FOR UPDATE
), promoted AS (
  UPDATE ai_results SET joined_task_id = NULL, job_token_hash = $2, updated_at = now(),
    stages = stages || {_stage("queued", "'requeued', true")}
  WHERE id = (SELECT id FROM heir)
  RETURNING id, user_id, text_hash, summary_hash, payload
), moved AS (
  UPDATE ai_results SET joined_task_id = (SELECT id FROM heir), updated_at = now()
  WHERE joined_task_id = $1 AND status = 'queued' AND id <> (SELECT id FROM heir)
)
SELECT * FROM promoted
"""


async def cancel(
    db: Db, task_id: str, user_id: str, error_code: str, message: str
) -> tuple[bool, str] | None:
    """Fail the user's unfinished task as cancelled (no token: its job's outcome is
    refused); (whether it led a job, its text hash), or None when it is not queued."""
    row = await db.fetchrow(_CANCEL, task_id, user_id, error_code, message)
    if row is None:
        return None
    return row["joined_task_id"] is None, row["text_hash"].strip()


async def hand_on_lead(db: Db, leader_id: str, token_hash: str) -> NewTask | None:
    """Make the oldest queued follower of ``leader_id`` a leader under ``token_hash``
    (the caller enqueues its job); None when no follower is waiting."""
    row = await db.fetchrow(_HAND_ON_LEAD, leader_id, token_hash)
    if row is None:
        return None
    return _new_task(row)


async def discard(db: Db, task_id: str, error_code: str, message: str) -> str | None:
    """Fail a dead-lettered task for good; its user id, or None when it has a verdict."""
    row = await db.fetchrow(
        "UPDATE ai_results SET status = 'failed', error_code = $2, error_message = $3,"
        f" updated_at = now(), completed_at = now(), stages = stages || {_FAILED}"
        " WHERE id = $1 AND status IN ('failed', 'queued') RETURNING user_id",
        task_id,
        error_code,
        message,
    )
    return None if row is None else str(row["user_id"])


async def find(
    db: Db,
    *,
    status: str | None,
    user_id: str | None,
    since: datetime | None,
    before_id: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Tasks for operators, newest first (ids are ULIDs: they sort by creation);
    ``before_id`` is the cursor (the last id of the previous page)."""
    rows = await db.fetch(
        "SELECT id, user_id, status, error_code, cached, created_at, completed_at"
        " FROM ai_results WHERE ($1::text IS NULL OR status = $1)"
        " AND ($2::text IS NULL OR user_id = $2)"
        " AND ($3::timestamptz IS NULL OR created_at >= $3)"
        " AND ($4::text IS NULL OR id < $4) ORDER BY id DESC LIMIT $5",
        status,
        user_id,
        since,
        before_id,
        limit,
    )
    return [
        {
            "taskId": row["id"],
            "userId": row["user_id"],
            "status": row["status"],
            "errorCode": row["error_code"],
            "cached": row["cached"],
            "createdAt": _iso(row["created_at"]),
            "completedAt": _iso(row["completed_at"]),
        }
        for row in rows
    ]


async def progress_of_user(db: Db, user_id: str) -> Progress:
    row = await db.fetchrow(
        "SELECT count(*) FILTER (WHERE status <> 'queued') AS finished,"
        " count(*) FILTER (WHERE status = 'failed') AS failed,"
        " max(completed_at) AS last FROM ai_results WHERE user_id = $1",
        user_id,
    )
    assert row is not None  # an aggregate always answers one row
    return Progress(int(row["finished"]), int(row["failed"]), row["last"])
