"""result_receiver's statements: outcomes recorded on a task and its followers,
progress stages, the ``notified`` stage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from ..claims import claims_json, stored_claims
from ..schemas import CallbackFailure, CallbackResult
from ._sql import _DONE, _FINISH, _STORED_TASK, Db, _finished, _stage, _stored_task
from .rows import Finished, TaskState

_FINISH_DONE = _FINISH.format(
    columns="status = 'done', mark = $3, reason = $4, confidence = $5, model = $6,"
    " claims = $7::jsonb, method = $8",
    stage=_DONE,
)
_DONE_COLUMNS = (
    "status = 'done', mark = o.mark, reason = o.reason, confidence = o.confidence,"
    " model = o.model, claims = o.claims, method = o.method, updated_at = now(),"
    " completed_at = now()"
)
_FINISH_FAILED = _FINISH.format(
    columns="status = 'failed', error_code = $3, error_message = $4",
    stage=_stage("failed", "'errorCode', $3::text"),
)


# A worker's batch of verdicts (taskIds all different) in one statement: each task, if
# queued under its token, and each one's queued followers, as ``_FINISH_DONE`` does for
# one. The arrays come in taskId order: rows are locked in the order any other batch
# locks them in.
_FINISH_DONE_MANY = f"""
WITH o AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[],
    $6::text[], $7::jsonb[], $8::text[])
    AS o(id, token, mark, reason, confidence, model, claims, method)
), leader AS (
  UPDATE ai_results r SET {_DONE_COLUMNS}, stages = r.stages || {_DONE}
  FROM o WHERE r.id = o.id AND r.status = 'queued' AND r.job_token_hash = o.token
  RETURNING r.id, r.user_id, r.text_hash, r.summary_hash
), followers AS (
  UPDATE ai_results f SET {_DONE_COLUMNS}, stages = f.stages || {_DONE}
  FROM o WHERE f.joined_task_id = o.id AND f.status = 'queued'
  RETURNING f.id, f.user_id, f.joined_task_id
)
SELECT true AS leads, id, user_id, text_hash, summary_hash, id AS leader FROM leader
UNION ALL
SELECT false, id, user_id, NULL, NULL, joined_task_id FROM followers
ORDER BY leads DESC, id
"""


async def finish_results(
    db: Db, results: Sequence[CallbackResult], token_hashes: Sequence[str]
) -> list[Finished]:
    """``finish`` of each verdict (their taskIds all different), in one statement."""
    order = sorted(range(len(results)), key=lambda i: results[i].taskId)
    rows = await db.fetch(
        _FINISH_DONE_MANY,
        [results[i].taskId for i in order],
        [token_hashes[i] for i in order],
        [results[i].mark.value for i in order],
        [results[i].reason for i in order],
        [results[i].confidence for i in order],
        [results[i].model for i in order],
        [claims_json(results[i]) for i in order],
        [results[i].method for i in order],
    )
    by_leader: dict[str, list[asyncpg.Record]] = {}
    for row in rows:  # leaders first, then followers, each in id order
        by_leader.setdefault(row["leader"], []).append(row)
    return [_finished(by_leader.get(result.taskId, [])) for result in results]


async def finish(db: Db, outcome: CallbackResult | CallbackFailure, token_hash: str) -> Finished:
    """Record a worker's ``outcome`` on its task, if queued under ``token_hash``, and on
    the task's queued followers (inside the caller's transaction)."""
    if isinstance(outcome, CallbackFailure):
        rows = await db.fetch(
            _FINISH_FAILED, outcome.taskId, token_hash, outcome.errorCode, outcome.message
        )
    else:
        rows = await db.fetch(
            _FINISH_DONE,
            outcome.taskId,
            token_hash,
            outcome.mark.value,
            outcome.reason,
            outcome.confidence,
            outcome.model,
            claims_json(outcome),
            outcome.method,
        )
    return _finished(rows)


async def get_state(db: Db, task_id: str) -> TaskState | None:
    row = await db.fetchrow(
        f"SELECT {_STORED_TASK}, status, mark, reason, confidence, claims, method,"
        " error_code, job_token_hash FROM ai_results WHERE id = $1",
        task_id,
    )
    if row is None:
        return None
    return TaskState(
        task=_stored_task(row),
        status=row["status"],
        mark=row["mark"],
        reason=row["reason"],
        confidence=row["confidence"],
        claims=stored_claims(row["claims"]),
        method=row["method"],
        error_code=row["error_code"],
        job_token_hash=row["job_token_hash"],
    )


_PROGRESS = """
WITH leader AS (
  SELECT id FROM ai_results WHERE id = $1 AND status = 'queued' AND job_token_hash = $2
)
UPDATE ai_results SET updated_at = now(),
  stages = stages || jsonb_build_array($3::jsonb || jsonb_build_object('at', now()))
WHERE status = 'queued'
  AND (id IN (SELECT id FROM leader) OR joined_task_id IN (SELECT id FROM leader))
RETURNING id, user_id
"""


async def record_progress(
    db: Db, task_id: str, token_hash: str, stage: dict[str, Any]
) -> list[tuple[str, str]] | None:
    """Append ``stage`` (``{"stage": "started", ...}``) to a queued leader whose token
    matches and to its queued followers; return their (id, user_id). None when the
    leader matched nothing (unknown, finished, or another token)."""
    rows = await db.fetch(_PROGRESS, task_id, token_hash, orjson.dumps(stage).decode())
    if not any(row["id"] == task_id for row in rows):
        return None
    return [(row["id"], row["user_id"]) for row in rows]


def notified_sql(first: int) -> str:
    """The UPDATE giving tasks their ``notified`` stage, from two arrays (task ids,
    ``True`` when pushed to at least one socket now, ``False`` when only logged for
    replay) in ``$first`` and ``$first+1``: once per outcome (a replayed task is
    notified of its new one too). The outbox relay runs it with its own UPDATE."""
    ids, live = f"${first}", f"${first + 1}"
    return f"""
UPDATE ai_results r SET stages = r.stages || jsonb_build_array(
  jsonb_build_object('stage', 'notified', 'at', now(), 'live', n.live))
FROM unnest({ids}::text[], {live}::bool[]) AS n(id, live)
WHERE r.id = n.id
  AND jsonb_array_length(jsonb_path_query_array(r.stages, '$[*] ? (@.stage == "notified")'))
    < jsonb_array_length(jsonb_path_query_array(
        r.stages, '$[*] ? (@.stage == "done" || @.stage == "failed")'))
"""
