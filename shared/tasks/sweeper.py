"""The backend's sweeper: lost leaders re-tokened, joined or settled from the cache,
orphaned followers finished."""

from __future__ import annotations

import asyncpg

from ..claims import claims_json, stored_claims
from ..events import FailedEvent, ResultEvent, TaskEvent
from ..schemas import TextVerdict
from ._sql import _CACHED, _DONE, _FINISH, _JOINED, Db, _finished, _new_task, _stage
from .rows import Finished, FinishedTask, LostTask

_LOST_CANDIDATES = """
SELECT id, user_id, text_hash, summary_hash, payload, job_token_hash FROM ai_results
WHERE status = 'queued' AND joined_task_id IS NULL AND job_token_hash IS NOT NULL
  AND created_at < now() - make_interval(secs => $1)
  AND updated_at < now() - make_interval(secs => $1)
ORDER BY created_at LIMIT $2
"""

_NEW_TOKEN = f"""
UPDATE ai_results SET job_token_hash = $3, updated_at = now(),
  stages = stages || {_stage("queued", "'requeued', true")}
WHERE id = $1 AND status = 'queued' AND joined_task_id IS NULL AND job_token_hash = $2
RETURNING id
"""

_FINISH_ORPHANS = f"""
WITH orphans AS (
  SELECT f.id FROM ai_results f JOIN ai_results l ON l.id = f.joined_task_id
  WHERE f.status = 'queued' AND l.status IN ('done', 'failed')
    AND coalesce(l.completed_at, l.updated_at) < now() - make_interval(secs => $1)
  ORDER BY f.created_at LIMIT $2
  FOR UPDATE OF f SKIP LOCKED
)
UPDATE ai_results f SET status = l.status, mark = l.mark, reason = l.reason,
  confidence = l.confidence, claims = l.claims, method = l.method, error_code = l.error_code,
  error_message = l.error_message, model = l.model, updated_at = now(), completed_at = now(),
  stages = f.stages || CASE WHEN l.status = 'done' THEN {_DONE}
    ELSE {_stage("failed", "'errorCode', l.error_code")} END
FROM orphans o, ai_results l
WHERE f.id = o.id AND l.id = f.joined_task_id AND f.status = 'queued'
RETURNING f.id, f.user_id, f.status, f.mark, f.reason, f.confidence, f.claims, f.method,
  f.error_code, f.error_message
"""


async def lost_candidates(db: Db, older_than_s: float, batch: int) -> list[LostTask]:
    """Queued leaders created and last touched more than ``older_than_s`` ago, oldest
    first."""
    rows = await db.fetch(_LOST_CANDIDATES, float(older_than_s), batch)
    return [
        LostTask(
            _new_task(row),
            row["job_token_hash"],
        )
        for row in rows
    ]


_LOCK_LOST = """
SELECT true FROM ai_results
WHERE id = $1 AND status = 'queued' AND joined_task_id IS NULL AND job_token_hash = $2
FOR UPDATE
"""

# The lost leader and the queued followers it had follow the job now verifying its text.
_JOIN_LOST = f"""
WITH l AS (SELECT id FROM ai_results WHERE id = $2 AND status = 'queued')
UPDATE ai_results f SET joined_task_id = l.id, job_token_hash = NULL, updated_at = now(),
  stages = f.stages || {_JOINED}
FROM l WHERE f.status = 'queued' AND (f.id = $1 OR f.joined_task_id = $1)
RETURNING f.id
"""


async def lock_lost(db: Db, task_id: str, token_hash: str) -> bool:
    """Lock a lost leader's row until the caller's transaction ends; False if it
    finished, joined a job or was re-tokened meanwhile."""
    return bool(await db.fetchval(_LOCK_LOST, task_id, token_hash))


async def join_lost(db: Db, task_id: str, leader_id: str) -> bool:
    """Make a lost leader and its queued followers follow ``leader_id``'s job; False if
    that leader is no longer queued (its outcome is recorded: joining would miss it)."""
    return bool(await db.fetch(_JOIN_LOST, task_id, leader_id))


async def renew_token(db: Db, task_id: str, old_hash: str, new_hash: str) -> bool:
    """Compare-and-set a queued leader's token hash; False if it finished or was
    re-tokened meanwhile. Locks the row until the caller's transaction ends."""
    return bool(await db.fetchval(_NEW_TOKEN, task_id, old_hash, new_hash))


async def finish_orphans(db: Db, older_than_s: float, batch: int) -> list[FinishedTask]:
    """Give queued followers the outcome of a leader final for over ``older_than_s``."""
    rows = await db.fetch(_FINISH_ORPHANS, float(older_than_s), batch)
    return [FinishedTask(row["id"], row["user_id"], _final_event(row)) for row in rows]


def _final_event(row: asyncpg.Record) -> TaskEvent:
    if row["status"] == "done":
        return ResultEvent(
            taskId=row["id"],
            mark=row["mark"],
            reason=row["reason"],
            confidence=row["confidence"],
            claims=stored_claims(row["claims"]),
            method=row["method"],
        )
    return FailedEvent(taskId=row["id"], errorCode=row["error_code"], message=row["error_message"])


# A lost leader whose text has a cached verdict takes it, as a cache hit does, in the
# statement a worker's outcome is recorded with (``_FINISH``).
_FINISH_CACHED = _FINISH.format(
    columns="status = 'done', mark = $3, reason = $4, confidence = $5, claims = $6::jsonb,"
    " method = $7, cached = true",
    stage=_CACHED,
)


async def finish_cached(db: Db, task_id: str, token_hash: str, verdict: TextVerdict) -> Finished:
    """Give a queued leader (under ``token_hash``) and its queued followers the cached
    ``verdict`` of their text (inside the caller's transaction)."""
    rows = await db.fetch(
        _FINISH_CACHED,
        task_id,
        token_hash,
        verdict.mark.value,
        verdict.reason,
        verdict.confidence,
        claims_json(verdict),
        verdict.method,
    )
    return _finished(rows)
