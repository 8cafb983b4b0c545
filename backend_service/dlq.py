"""Dead letters: list, show, replay and discard the jobs workers gave up on.

A worker moves a job it gave up on to ``stream:ai:jobs:dlq`` with its error and attempt
history (``worker/lua/dead_letter.lua``) after failing the task through the callback.
Taking an entry out of the DLQ is one MULTI (read + XDEL), so of two operators acting on
the same entry at once exactly one gets it; the other is told it was already handled.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import orjson
import redis.asyncio as aioredis

from shared import audit, events, keys, tasks
from shared.events import FailedEvent
from shared.stream_figures import entry_ms
from shared.tasks import NewTask

# Job fields an operator may see: never the job_token.
_HIDDEN = frozenset({"job_token"})
_SUMMARY = ("taskId", "userId", "errorCode", "lastError", "deliveries", "failureCallback")
DISCARDED = "OPS-DISCARDED"


def _died_at(entry_id: str) -> str:
    ms = entry_ms(entry_id)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def _attempts(fields: dict[str, str]) -> list[Any]:
    try:
        value = orjson.loads(fields.get("attempts", "[]"))
    except orjson.JSONDecodeError:
        return []
    return value if isinstance(value, list) else []


def _text(fields: Any) -> dict[str, str]:
    """Stream fields as text (the clients decode; typed as bytes or text)."""
    return {str(k): str(v) for k, v in (fields or {}).items()}


def summary(entry_id: str, fields: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {"entryId": entry_id, "diedAt": _died_at(entry_id)}
    item.update({name: fields.get(name) for name in _SUMMARY})
    item["deliveries"] = int(fields.get("deliveries") or 0)
    item["attempts"] = _attempts(fields)
    return item


def detail(entry_id: str, fields: dict[str, str]) -> dict[str, Any]:
    job = {k: v for k, v in fields.items() if k not in _HIDDEN and k not in _SUMMARY}
    job.pop("attempts", None)
    return {**summary(entry_id, fields), "job": job}


async def page(redis: aioredis.Redis, cursor: str | None, limit: int) -> dict[str, Any]:
    """Newest first; ``cursor``: the last entryId of the previous page."""
    top = f"({cursor}" if cursor else "+"
    entries = await redis.xrevrange(keys.JOB_DLQ_STREAM, top, "-", count=limit)
    items = [summary(str(entry_id), _text(fields)) for entry_id, fields in entries or []]
    next_cursor = items[-1]["entryId"] if len(items) == limit else None
    return {"items": items, "nextCursor": next_cursor}


async def matching(
    redis: aioredis.Redis,
    error_code: str | None,
    older_than_s: float | None,
    newer_than_s: float | None,
    limit: int,
) -> list[str]:
    """Ids of dead letters with ``error_code`` that died more than ``older_than_s`` and
    less than ``newer_than_s`` seconds ago, oldest first, at most ``limit``."""
    now_ms = time.time() * 1000
    start = "-" if newer_than_s is None else str(int(now_ms - newer_than_s * 1000))
    end = "+" if older_than_s is None else str(int(now_ms - older_than_s * 1000))
    found: list[str] = []
    while len(found) < limit:
        entries = await redis.xrange(keys.JOB_DLQ_STREAM, start, end, count=200)
        if not entries:
            break
        for entry_id, fields in entries:
            if error_code is None or _text(fields).get("errorCode") == error_code:
                found.append(str(entry_id))
        last = entries[-1][0]
        start = "(" + (last.decode() if isinstance(last, bytes) else str(last))
    return found[:limit]


async def one(redis: aioredis.Redis, entry_id: str) -> dict[str, Any] | None:
    entries = await redis.xrange(keys.JOB_DLQ_STREAM, entry_id, entry_id)
    return detail(entry_id, _text(entries[0][1])) if entries else None


async def take(redis: aioredis.Redis, entry_id: str) -> dict[str, str] | None:
    """Remove the entry and return its fields; None when it is gone (handled already)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xrange(keys.JOB_DLQ_STREAM, entry_id, entry_id)
        pipe.xdel(keys.JOB_DLQ_STREAM, entry_id)
        found, deleted = await pipe.execute()
    return _text(found[0][1]) if found and deleted else None


async def put_back(redis: aioredis.Redis, fields: dict[str, str]) -> None:
    """Return a taken entry (its replay could not start); it gets a new id."""
    await redis.xadd(keys.JOB_DLQ_STREAM, fields)  # type: ignore[arg-type]


async def forget_final_event(redis: aioredis.Redis, user_id: str, task_id: str) -> None:
    """The user's event log keeps one final event per task; the task's next outcome must
    reach the user too."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hdel(keys.user_event_tasks(user_id), task_id)
        pipe.zrem(keys.user_event_task_ages(user_id), task_id)
        await pipe.execute()


async def _audit(
    conn: asyncpg.Connection, action: str, entry_id: str, fields: dict[str, str],
    after: dict[str, Any], actor: str, reason: str | None,
) -> None:  # fmt: skip
    """The audit row of an operator's action on one dead letter."""
    await audit.record(
        conn,
        actor=actor,
        action=f"dlq.{action}",
        target=f"dlq:{entry_id}",
        before=summary(entry_id, fields),
        after=after,
        reason=reason,
    )


async def requeue(
    pool: asyncpg.Pool, entry_id: str, fields: dict[str, str], token_hash: str, actor: str,
    reason: str | None,
) -> NewTask | None:  # fmt: skip
    """The task back to ``queued`` with a new token (stage ``replayed``), audited; None
    when the task is done meanwhile (nothing to replay)."""
    async with pool.acquire() as conn, conn.transaction():
        task = await tasks.requeue_replayed(conn, fields["taskId"], token_hash, entry_id)
        if task is None:
            return None
        after = {"taskId": task.task_id, "status": "queued"}
        await _audit(conn, "replay", entry_id, fields, after, actor, reason)
    return task


async def discard(
    pool: asyncpg.Pool, entry_id: str, fields: dict[str, str], actor: str, reason: str | None
) -> bool:
    """Fail the task as OPS-DISCARDED and tell its user (through the outbox), audited;
    False when the task had finished with a verdict meanwhile."""
    message = "An operator discarded this task after it failed" + (f": {reason}" if reason else ".")
    async with pool.acquire() as conn, conn.transaction():
        told = await tasks.discard(conn, fields["taskId"], DISCARDED, message)
        if told is None:
            return False
        event = FailedEvent(taskId=fields["taskId"], errorCode=DISCARDED, message=message)
        await events.write(conn, [events.notify_entry(fields["taskId"], told, event)])
        after = {"taskId": fields["taskId"], "status": "failed", "errorCode": DISCARDED}
        await _audit(conn, "discard", entry_id, fields, after, actor, reason)
    return True
