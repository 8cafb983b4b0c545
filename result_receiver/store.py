"""Recording a worker's verdict: PostgreSQL first (the truth), then cache and push."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

import asyncpg

from shared.errors import Conflict, Forbidden, NotFound
from shared.schemas import CallbackResult


class Outcome(Enum):
    STORED = "stored"  # first delivery: cache and notify now
    DUPLICATE = "duplicate"  # same result again: nothing changes


@dataclass(frozen=True, slots=True)
class StoredTask:
    user_id: str
    text_hash: str
    summary_hash: str


class UnknownTask(NotFound):
    code = "RR-TASK-404"
    default_message = "no such task"


class WrongJobToken(Forbidden):
    code = "RR-TOKEN-403"
    default_message = "job_token does not match the task"


class ConflictingResult(Conflict):
    code = "RR-CONF-409"
    default_message = "the task already has a different result"


class ResultStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, result: CallbackResult) -> tuple[Outcome, StoredTask]:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT user_id, text_hash, summary_hash, status, mark, reason, confidence,"
                " job_token_hash FROM ai_results WHERE id = $1 FOR UPDATE",
                result.taskId,
            )
            if row is None:
                raise UnknownTask()
            given = hashlib.sha256(result.job_token.encode()).hexdigest()
            if not row["job_token_hash"] or not hmac.compare_digest(given, row["job_token_hash"]):
                raise WrongJobToken()
            task = StoredTask(row["user_id"], row["text_hash"], row["summary_hash"])
            if row["status"] != "queued":
                same = (row["mark"], row["reason"], row["confidence"]) == (
                    result.mark.value,
                    result.reason,
                    result.confidence,
                )
                if row["status"] == "done" and same:
                    return Outcome.DUPLICATE, task
                raise ConflictingResult()
            await conn.execute(
                "UPDATE ai_results SET status = 'done', mark = $2, reason = $3, confidence = $4,"
                " model = $5, updated_at = now(), completed_at = now() WHERE id = $1",
                result.taskId,
                result.mark.value,
                result.reason,
                result.confidence,
                result.model,
            )
            return Outcome.STORED, task
