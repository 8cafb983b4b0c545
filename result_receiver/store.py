"""Recording a worker's verdict: PostgreSQL first (the truth), then cache and push."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

import asyncpg

from shared.errors import Conflict, Forbidden, NotFound
from shared.schemas import CallbackFailure, CallbackResult


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


class ConflictingFailure(Conflict):
    code = "RR-CONF-409"
    default_message = "the task already has a result or a different failure"


_TASK_FIELDS = "user_id, text_hash, summary_hash"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ResultStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, result: CallbackResult) -> tuple[Outcome, StoredTask]:
        token_hash = hashlib.sha256(result.job_token.encode()).hexdigest()
        # The common case in one statement: a queued task, the right token.
        row = await self._pool.fetchrow(
            "UPDATE ai_results SET status = 'done', mark = $2, reason = $3, confidence = $4,"
            " model = $5, updated_at = now(), completed_at = now()"
            " WHERE id = $1 AND status = 'queued' AND job_token_hash = $6"
            " RETURNING user_id, text_hash, summary_hash",
            result.taskId,
            result.mark.value,
            result.reason,
            result.confidence,
            result.model,
            token_hash,
        )
        if row is not None:
            return Outcome.STORED, StoredTask(row["user_id"], row["text_hash"], row["summary_hash"])
        return Outcome.DUPLICATE, await self._explain_refusal(result, token_hash)

    async def _explain_refusal(self, result: CallbackResult, token_hash: str) -> StoredTask:
        """Why the update matched nothing: raise, unless it is the same result again."""
        row = await self._pool.fetchrow(
            "SELECT user_id, text_hash, summary_hash, status, mark, reason, confidence,"
            " job_token_hash FROM ai_results WHERE id = $1",
            result.taskId,
        )
        if row is None:
            raise UnknownTask()
        if not row["job_token_hash"] or not hmac.compare_digest(token_hash, row["job_token_hash"]):
            raise WrongJobToken()
        same = (row["mark"], row["reason"], row["confidence"]) == (
            result.mark.value,
            result.reason,
            result.confidence,
        )
        if row["status"] == "done" and same:
            return StoredTask(row["user_id"], row["text_hash"], row["summary_hash"])
        raise ConflictingResult()

    async def record_failure(self, failure: CallbackFailure) -> tuple[Outcome, StoredTask]:
        """Mark a queued task ``failed``; the same failure again is a duplicate."""
        token_hash = _token_hash(failure.job_token)
        row = await self._pool.fetchrow(
            "UPDATE ai_results SET status = 'failed', error_code = $2, error_message = $3,"
            " updated_at = now(), completed_at = now()"
            " WHERE id = $1 AND status = 'queued' AND job_token_hash = $4"
            f" RETURNING {_TASK_FIELDS}",
            failure.taskId,
            failure.errorCode,
            failure.message,
            token_hash,
        )
        if row is not None:
            return Outcome.STORED, StoredTask(row["user_id"], row["text_hash"], row["summary_hash"])
        row = await self._pool.fetchrow(
            f"SELECT {_TASK_FIELDS}, status, error_code, job_token_hash"
            " FROM ai_results WHERE id = $1",
            failure.taskId,
        )
        if row is None:
            raise UnknownTask()
        if not row["job_token_hash"] or not hmac.compare_digest(token_hash, row["job_token_hash"]):
            raise WrongJobToken()
        # Another worker (or a retried callback) reporting the same failure: nothing new.
        if row["status"] == "failed" and row["error_code"] == failure.errorCode:
            return Outcome.DUPLICATE, StoredTask(
                row["user_id"], row["text_hash"], row["summary_hash"]
            )
        raise ConflictingFailure()
