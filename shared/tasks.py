"""Every statement on ``ai_results``, the task rows (PostgreSQL is the source of truth).

A task is ``queued`` until its first accepted outcome makes it ``done`` or ``failed``.
A queued task either leads a job (it holds the job_token's hash) or follows the leader
whose job verifies the same text (``joined_task_id``) and takes its outcome.

The backend inserts tasks, joins them to leaders and reads them back; the sweeper
re-tokens lost jobs and finishes orphaned followers; result_receiver records outcomes.
``db`` is a pool or, inside a caller's transaction, its connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg
import orjson

from . import webhooks
from .claims import claims_json, stored_claims
from .events import FailedEvent, ResultEvent, TaskEvent
from .schemas import CallbackFailure, CallbackResult, TaskPublic, TextVerdict

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
_MARK_QUEUED_ONE = (
    f"UPDATE ai_results SET stages = stages || {_stage('queued', at='$2::timestamptz')}"
    " WHERE id = $1"
)
_MARK_QUEUED_MANY = (
    f"UPDATE ai_results a SET stages = a.stages || {_stage('queued', at='q.at')}"
    " FROM unnest($1::text[], $2::timestamptz[]) AS q(id, at) WHERE a.id = q.id"
)


@dataclass(frozen=True, slots=True)
class NewTask:
    task_id: str
    user_id: str
    text_hash: str
    summary_hash: str
    payload: str


@dataclass(frozen=True, slots=True)
class StoredTask:
    """What result_receiver needs of a task to cache and push its outcome."""

    user_id: str
    text_hash: str
    summary_hash: str


@dataclass(frozen=True, slots=True)
class TaskState:
    """A task's stored outcome and token, to tell a repeated callback from a bad one."""

    task: StoredTask
    status: str
    mark: str | None
    reason: str | None
    confidence: int | None
    claims: list[dict[str, Any]]
    method: str | None
    error_code: str | None
    job_token_hash: str | None


@dataclass(frozen=True, slots=True)
class LostTask:
    """An old queued leader: its job may be gone from the stream."""

    task: NewTask
    job_token_hash: str


@dataclass(frozen=True, slots=True)
class FinishedTask:
    """A task the sweeper just finished, with the event its user is owed."""

    task_id: str
    user_id: str
    event: TaskEvent


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a user's tasks got (benchmarks wait on it)."""

    finished: int
    failed: int
    last_completed: datetime | None


# --- the backend's submit and read paths ---


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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


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


# --- the backend's sweeper ---

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


def _new_task(row: asyncpg.Record) -> NewTask:
    return NewTask(
        task_id=row["id"],
        user_id=row["user_id"],
        text_hash=row["text_hash"].strip(),
        summary_hash=row["summary_hash"].strip(),
        payload=row["payload"],
    )


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


# --- result_receiver ---

_STORED_TASK = "user_id, text_hash, summary_hash"


def _stored_task(row: asyncpg.Record) -> StoredTask:
    return StoredTask(row["user_id"], row["text_hash"], row["summary_hash"])


@dataclass(frozen=True, slots=True)
class Finished:
    """What recording an outcome changed: the task itself (None when its row was not
    queued under that token: a repeat or a refusal) and its queued followers, which
    took the same outcome, as (id, user_id) ordered by id."""

    task: StoredTask | None
    followers: list[tuple[str, str]]


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
_FINISH_DONE = _FINISH.format(
    columns="status = 'done', mark = $3, reason = $4, confidence = $5, model = $6,"
    " claims = $7::jsonb, method = $8",
    stage=_DONE,
)
_FINISH_FAILED = _FINISH.format(
    columns="status = 'failed', error_code = $3, error_message = $4",
    stage=_stage("failed", "'errorCode', $3::text"),
)


# The backend's sweeper: a lost leader whose text has a cached verdict takes it, as a
# cache hit does, in the statement a worker's outcome is recorded with (above).
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


def _finished(rows: list[asyncpg.Record]) -> Finished:
    task = _stored_task(rows[0]) if rows and rows[0]["leads"] else None
    followers = [(row["id"], row["user_id"]) for row in rows if not row["leads"]]
    return Finished(task, followers)


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
