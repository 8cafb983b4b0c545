"""The backend's submit and read paths: new tasks, their ``queued`` stage, joins,
and what users read back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from .. import webhooks
from ..claims import claims_json, stored_claims
from ..schemas import TaskPublic, TextVerdict
from ._sql import _ACCEPTED, _CACHED, _FAILED, _JOINED, Db, _iso, _stage
from .rows import NewTask

_MARK_QUEUED_ONE = (
    f"UPDATE ai_results SET stages = stages || {_stage('queued', at='$2::timestamptz')}"
    " WHERE id = $1"
)
_MARK_QUEUED_MANY = (
    f"UPDATE ai_results a SET stages = a.stages || {_stage('queued', at='q.at')}"
    " FROM unnest($1::text[], $2::timestamptz[]) AS q(id, at) WHERE a.id = q.id"
)


async def insert_queued(db: Db, task: NewTask, job_token_hash: str) -> None:
    await db.execute(
        "INSERT INTO ai_results (id, user_id, text_hash, summary_hash, payload, status,"
        f" job_token_hash, stages) VALUES ($1, $2, $3, $4, $5, 'queued', $6, {_ACCEPTED})",
        task.task_id,
        task.user_id,
        task.text_hash,
        task.summary_hash,
        task.payload,
        job_token_hash,
    )


# A cache hit is a final outcome too: its user's webhooks get it, in the same statement.
_INSERT_CACHED = f"""
WITH task AS (
  INSERT INTO ai_results (id, user_id, text_hash, summary_hash, payload, status, mark, reason,
    confidence, claims, method, cached, completed_at, stages)
  VALUES ($1, $2, $3, $4, $5, 'done', $6, $7, $8, $9::jsonb, $10, true, now(),
    {_ACCEPTED} || {_CACHED})
  RETURNING id
)
INSERT INTO webhook_deliveries (webhook_id, event_type, task_id, payload)
SELECT w.id, 'task.completed', task.id, $11::jsonb FROM webhooks w, task
WHERE w.user_id = $2 AND w.disabled_at IS NULL AND 'task.completed' = ANY(w.events)
"""


async def insert_cached(db: Db, task: NewTask, verdict: TextVerdict) -> None:
    event = {"type": "result", "taskId": task.task_id, "cached": True}
    event |= verdict.model_dump(mode="json")
    delivered = webhooks.payload_for(event)
    assert delivered is not None  # a result event always has a webhook body
    await db.execute(
        _INSERT_CACHED,
        task.task_id,
        task.user_id,
        task.text_hash,
        task.summary_hash,
        task.payload,
        verdict.mark.value,
        verdict.reason,
        verdict.confidence,
        claims_json(verdict),
        verdict.method,
        orjson.dumps(delivered[1]).decode(),
    )


async def mark_queued(db: Db, queued: Sequence[tuple[str, datetime]]) -> None:
    """Each task's job is on the stream since its ``at`` (taken before the enqueue, so
    the stage sorts before whatever a fast worker reported meanwhile); one statement.
    One task goes by its id: a join with ``unnest`` costs PostgreSQL a third more for
    one row, and half as much per row for sixteen."""
    if len(queued) == 1:
        ((task_id, at),) = queued
        await db.execute(_MARK_QUEUED_ONE, task_id, at)
        return
    await db.execute(
        _MARK_QUEUED_MANY, [task_id for task_id, _ in queued], [at for _, at in queued]
    )


async def join(db: Db, task_id: str, leader_id: str) -> bool:
    """Make ``task_id`` follow the leader's job; False if the leader is no longer queued
    (its outcome is already recorded, so joining could miss it)."""
    row = await db.fetchrow(
        "UPDATE ai_results f SET joined_task_id = l.id, job_token_hash = NULL,"
        f" updated_at = now(), stages = f.stages || {_JOINED}"
        " FROM ai_results l"
        " WHERE f.id = $1 AND f.status = 'queued' AND l.id = $2 AND l.status = 'queued'"
        " RETURNING f.id",
        task_id,
        leader_id,
    )
    return row is not None


async def fail_queued(db: Db, task_id: str, error_code: str, message: str) -> None:
    """Fail a queued task whose job never reached the stream (no token to check)."""
    await db.execute(
        "UPDATE ai_results SET status = 'failed', error_code = $2, error_message = $3,"
        f" updated_at = now(), completed_at = now(), stages = stages || {_FAILED}"
        " WHERE id = $1 AND status = 'queued'",
        task_id,
        error_code,
        message,
    )


_PUBLIC_COLUMNS = (
    "id, user_id, status, mark, reason, confidence, claims, method, cached, error_code, "
    "error_message, model, created_at, updated_at, completed_at, stages, payload"
)


async def get_for_user(db: Db, task_id: str, user_id: str) -> TaskPublic | None:
    # Another user's task is indistinguishable from a missing one (404, not 403).
    row = await db.fetchrow(
        f"SELECT {_PUBLIC_COLUMNS} FROM ai_results WHERE id = $1 AND user_id = $2",
        task_id,
        user_id,
    )
    return None if row is None else _task_public(row)


async def list_for_user(
    db: Db, user_id: str, *, status: str | None, before_id: str | None, limit: int
) -> tuple[list[TaskPublic], str | None]:
    """A page of the user's tasks, newest first (ULID ids sort by creation), and the
    cursor of the next page (the page's last id; None on the last page)."""
    rows = await db.fetch(
        f"SELECT {_PUBLIC_COLUMNS} FROM ai_results WHERE user_id = $1"
        " AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR id < $3)"
        " ORDER BY id DESC LIMIT $4",
        user_id,
        status,
        before_id,
        limit + 1,
    )
    page = [_task_public(row) for row in rows[:limit]]
    return page, page[-1].taskId if len(rows) > limit else None


def _task_public(row: asyncpg.Record) -> TaskPublic:
    result = None
    if row["status"] == "done":
        result = {
            "mark": row["mark"],
            "reason": row["reason"],
            "confidence": row["confidence"],
            "claims": stored_claims(row["claims"]),
            "method": row["method"],
        }
    error = None
    if row["status"] == "failed":
        error = {"errorCode": row["error_code"], "message": row["error_message"]}
    return TaskPublic.model_validate(
        {
            "taskId": row["id"],
            "text": row["payload"],
            "status": row["status"],
            "cached": row["cached"],
            "result": result,
            "error": error,
            "model": row["model"],
            "createdAt": _iso(row["created_at"]),
            "updatedAt": _iso(row["updated_at"]),
            "completedAt": _iso(row["completed_at"]),
            "stages": _stages(row["stages"]),
        }
    )


def _stages(value: Any) -> list[dict[str, Any]]:
    """In time order (a stage's time comes from whoever recorded it; appends may land
    out of order: a fast worker can report ``started`` before ``queued`` is written)."""
    stages = orjson.loads(value) if isinstance(value, str | bytes) else (value or [])
    return sorted(stages, key=lambda stage: datetime.fromisoformat(stage["at"]))
