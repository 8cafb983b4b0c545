"""Recording a worker's verdict: PostgreSQL first (the truth), then cache and push.

The first accepted outcome of a task wins. The ``ai_results`` UPDATE and the outbox rows
for its cache entry and pushes (``outbox.py``) are one transaction, so they happen
together or not at all; a repeat of the same outcome (mark, reason, confidence and
per-claim verdicts) is a DUPLICATE and writes nothing, a different one is logged and
refused (409).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from enum import Enum

import asyncpg

from shared.claims import claims_json, claims_value, stored_claims
from shared.errors import Conflict, Forbidden, NotFound
from shared.schemas import CallbackFailure, CallbackResult

from . import outbox
from .followers import complete_followers

log = logging.getLogger(__name__)


class Outcome(Enum):
    STORED = "stored"  # first delivery: cache and notify (via the outbox)
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


@dataclass(frozen=True, slots=True)
class Accepted:
    task_id: str
    outcome: Outcome
    task: StoredTask
    outbox_ids: list[int]  # rows this acceptance wrote, for the request to relay now


class ResultStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def accept(self, outcome: CallbackResult | CallbackFailure) -> Accepted:
        """Record ``outcome`` for its task and the task's queued followers, with the
        outbox rows for every cache entry and push, all in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            entries: list[outbox.Entry] = []
            if isinstance(outcome, CallbackFailure):
                stored, task = await self.record_failure(conn, outcome)
            else:
                stored, task = await self.record(conn, outcome)
                if stored is Outcome.STORED:
                    entries.append(
                        outbox.cache_entry(
                            outcome.taskId, task.text_hash, task.summary_hash, outcome
                        )
                    )
            if stored is Outcome.STORED:
                event = outbox.outcome_event(outcome.taskId, outcome)
                entries.append(outbox.notify_entry(outcome.taskId, task.user_id, event))
            # On a repeat too: a follower that joined late still gets its outcome.
            entries += await complete_followers(conn, outcome.taskId, outcome)
            ids = await outbox.write(conn, entries)
        return Accepted(outcome.taskId, stored, task, ids)

    async def record(
        self, conn: asyncpg.Connection, result: CallbackResult
    ) -> tuple[Outcome, StoredTask]:
        token_hash = _token_hash(result.job_token)
        # The common case in one statement: a queued task, the right token.
        row = await conn.fetchrow(
            "UPDATE ai_results SET status = 'done', mark = $2, reason = $3, confidence = $4,"
            " model = $5, claims = $7::jsonb, updated_at = now(), completed_at = now()"
            " WHERE id = $1 AND status = 'queued' AND job_token_hash = $6"
            " RETURNING user_id, text_hash, summary_hash",
            result.taskId,
            result.mark.value,
            result.reason,
            result.confidence,
            result.model,
            token_hash,
            claims_json(result),
        )
        if row is None:
            return Outcome.DUPLICATE, await self._explain_refusal(conn, result, token_hash)
        return Outcome.STORED, StoredTask(row["user_id"], row["text_hash"], row["summary_hash"])

    async def _explain_refusal(
        self, conn: asyncpg.Connection, result: CallbackResult, token_hash: str
    ) -> StoredTask:
        """Why the update matched nothing: raise, unless it is the same result again."""
        row = await conn.fetchrow(
            "SELECT user_id, text_hash, summary_hash, status, mark, reason, confidence,"
            " claims, error_code, job_token_hash FROM ai_results WHERE id = $1",
            result.taskId,
        )
        if row is None:
            raise UnknownTask()
        if not row["job_token_hash"] or not hmac.compare_digest(token_hash, row["job_token_hash"]):
            raise WrongJobToken()
        # The same outcome means the same verdict on every claim too; compared as JSON
        # values (key order and number spelling are jsonb's, not the worker's).
        same = (row["mark"], row["reason"], row["confidence"], stored_claims(row["claims"])) == (
            result.mark.value,
            result.reason,
            result.confidence,
            claims_value(result),
        )
        if row["status"] == "done" and same:
            return StoredTask(row["user_id"], row["text_hash"], row["summary_hash"])
        log.warning(
            "conflicting result for task %s refused (stored: %s %s/%s, got: %s/%s)",
            result.taskId,
            row["status"],
            row["mark"] or row["error_code"],
            row["confidence"],
            result.mark.value,
            result.confidence,
        )
        raise ConflictingResult()

    async def record_failure(
        self, conn: asyncpg.Connection, failure: CallbackFailure
    ) -> tuple[Outcome, StoredTask]:
        """Mark a queued task ``failed``; the same failure again is a duplicate."""
        token_hash = _token_hash(failure.job_token)
        row = await conn.fetchrow(
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
        row = await conn.fetchrow(
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
        log.warning(
            "conflicting failure for task %s refused (stored: %s %s, got: %s)",
            failure.taskId,
            row["status"],
            row["error_code"],
            failure.errorCode,
        )
        raise ConflictingFailure()
