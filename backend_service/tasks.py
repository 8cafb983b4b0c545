"""Task rows in ``ai_results`` (PostgreSQL is the source of truth for tasks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.claims import claims_json, stored_claims
from shared.schemas import TextVerdict


@dataclass(frozen=True, slots=True)
class NewTask:
    task_id: str
    user_id: str
    text_hash: str
    summary_hash: str
    payload: str


_COLUMNS = (
    "id, user_id, status, mark, reason, confidence, claims, cached, error_code, "
    "error_message, model, created_at, updated_at, completed_at"
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def task_public(row: asyncpg.Record) -> dict[str, Any]:
    result = None
    if row["status"] == "done":
        result = {
            "mark": row["mark"],
            "reason": row["reason"],
            "confidence": row["confidence"],
            "claims": stored_claims(row["claims"]),
        }
    error = None
    if row["status"] == "failed":
        error = {"errorCode": row["error_code"], "message": row["error_message"]}
    return {
        "taskId": row["id"],
        "status": row["status"],
        "cached": row["cached"],
        "result": result,
        "error": error,
        "model": row["model"],
        "createdAt": _iso(row["created_at"]),
        "updatedAt": _iso(row["updated_at"]),
        "completedAt": _iso(row["completed_at"]),
    }


class TaskRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create_queued(self, task: NewTask, job_token_hash: str) -> None:
        await self._pool.execute(
            "INSERT INTO ai_results (id, user_id, text_hash, summary_hash, payload, status,"
            " job_token_hash) VALUES ($1, $2, $3, $4, $5, 'queued', $6)",
            task.task_id,
            task.user_id,
            task.text_hash,
            task.summary_hash,
            task.payload,
            job_token_hash,
        )

    async def create_cached(self, task: NewTask, verdict: TextVerdict) -> None:
        await self._pool.execute(
            "INSERT INTO ai_results (id, user_id, text_hash, summary_hash, payload, status,"
            " mark, reason, confidence, claims, cached, completed_at)"
            " VALUES ($1, $2, $3, $4, $5, 'done', $6, $7, $8, $9::jsonb, true, now())",
            task.task_id,
            task.user_id,
            task.text_hash,
            task.summary_hash,
            task.payload,
            verdict.mark.value,
            verdict.reason,
            verdict.confidence,
            claims_json(verdict),
        )

    async def join(self, task_id: str, leader_id: str) -> bool:
        """Make ``task_id`` follow the leader's job; False if the leader is no longer queued
        (its outcome is already recorded, so joining could miss it)."""
        row = await self._pool.fetchrow(
            "UPDATE ai_results f SET joined_task_id = l.id, job_token_hash = NULL,"
            " updated_at = now() FROM ai_results l"
            " WHERE f.id = $1 AND f.status = 'queued' AND l.id = $2 AND l.status = 'queued'"
            " RETURNING f.id",
            task_id,
            leader_id,
        )
        return row is not None

    async def mark_failed(self, task_id: str, error_code: str, message: str) -> None:
        await self._pool.execute(
            "UPDATE ai_results SET status = 'failed', error_code = $2, error_message = $3,"
            " updated_at = now(), completed_at = now() WHERE id = $1 AND status = 'queued'",
            task_id,
            error_code,
            message,
        )

    async def get_for_user(self, task_id: str, user_id: str) -> asyncpg.Record | None:
        # Another user's task is indistinguishable from a missing one (404, not 403).
        return await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM ai_results WHERE id = $1 AND user_id = $2",
            task_id,
            user_id,
        )
