"""``/internal/admin/*``: what operators see and do (the gateway publishes them under
``/v1/admin``). The gateway lets only admins through; this service checks the role
again, in the users table, so a forged or stale header grants nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, Header, Query
from fastapi import Path as PathParam
from pydantic import Field
from redis.exceptions import ResponseError

from shared import audit, keys, tasks
from shared.errors import Forbidden, NotFound, store_unavailable_as
from shared.http import USER_ID_HEADER
from shared.responses import JsonResponse
from shared.schemas import Strict
from shared.stream_figures import backlog, entry_age_s

from . import dlq
from .deps import State, StateDep
from .enqueue import enqueue_job, new_job_token

T = TypeVar("T")

admin = APIRouter(prefix="/internal/admin")


class NotAdmin(Forbidden, code="BE-ADMIN-403", message="this needs the admin role"): ...


async def admin_id(
    state: StateDep, user_id: Annotated[str, Header(alias=USER_ID_HEADER, max_length=64)]
) -> str:
    with store_unavailable_as("BE-DEP-503", "database"):
        role = await state.pool.fetchval("SELECT role FROM users WHERE id = $1", user_id)
    if role != "admin":
        raise NotAdmin()
    return user_id


AdminId = Annotated[str, Depends(admin_id)]


# The oldest pending entries listed in the queue view (the rest are counted).
PENDING_SHOWN = 50


async def queue_view(redis: aioredis.Redis) -> dict[str, Any]:
    length = int(await redis.xlen(keys.JOB_STREAM))
    dlq = int(await redis.xlen(keys.JOB_DLQ_STREAM))
    try:
        groups = await redis.xinfo_groups(keys.JOB_STREAM)
    except ResponseError:  # no stream yet
        groups = []
    group = next((g for g in groups if g["name"] == keys.WORKER_GROUP), None)
    view: dict[str, Any] = {
        "streamLength": length,
        "backlog": length,
        "pending": 0,
        "oldestPendingAgeS": 0.0,
        "dlq": dlq,
        "consumers": [],
        "pendingEntries": [],
    }
    if group is None:
        return view
    pending = int(group["pending"])
    view["backlog"] = backlog(length, group)
    view["pending"] = pending
    view["pendingEntries"] = []
    if pending:
        summary = await redis.xpending(keys.JOB_STREAM, keys.WORKER_GROUP)
        view["oldestPendingAgeS"] = round(entry_age_s(summary.get("min")), 3)
        entries = await redis.xpending_range(
            keys.JOB_STREAM, keys.WORKER_GROUP, min="-", max="+", count=PENDING_SHOWN
        )
        view["pendingEntries"] = [
            {
                "entryId": str(e["message_id"]),
                "consumer": str(e["consumer"]),
                "idleMs": int(e["time_since_delivered"]),
                "deliveries": int(e["times_delivered"]),
            }
            for e in entries
        ]
    consumers = await redis.xinfo_consumers(keys.JOB_STREAM, keys.WORKER_GROUP)
    view["consumers"] = [
        {
            "name": c["name"],
            "inFlight": int(c["pending"]),
            "idleMs": int(c["idle"]),
            # Redis 7.2+ says when it last tried to read; older ones only the idle time
            "lastSeenMs": int(c.get("inactive", c["idle"])),
        }
        for c in consumers
    ]
    return view


@admin.get("/queue")
async def queue(state: StateDep, _: AdminId) -> JsonResponse:
    with store_unavailable_as("BE-DEP-503", "queue store"):
        view = await queue_view(state.redis)
        intake = await state.intake.state()
    with store_unavailable_as("BE-DEP-503", "database"):
        view["finishedLastMinute"] = await state.pool.fetchval(
            "SELECT count(*) FROM ai_results WHERE completed_at > now() - interval '1 minute'"
        )
    view["intake"] = intake.public()
    return JsonResponse(view)


class IntakeChange(Strict):
    paused: bool
    reason: str | None = Field(default=None, max_length=500)


async def _audit_pause(
    state: State, what: str, paused: bool, reason: str | None, actor: str,
    before: object, after: object,
) -> None:  # fmt: skip
    """The audit row of pausing or resuming ``what`` (the intake, the workers)."""
    with store_unavailable_as("BE-DEP-503", "database"):
        await audit.record(
            state.pool,
            actor=actor,
            action=f"{what}.pause" if paused else f"{what}.resume",
            target=what,
            before=before,
            after=after,
            reason=reason,
        )


@admin.post("/intake")
async def set_intake(body: IntakeChange, state: StateDep, actor: AdminId) -> JsonResponse:
    with store_unavailable_as("BE-DEP-503", "queue store"):
        before = await state.intake.state()
        after = await state.intake.set(body.paused, body.reason, actor)
    await _audit_pause(
        state, "intake", body.paused, body.reason, actor, before.public(), after.public()
    )
    return JsonResponse(after.public())


@admin.get("/audit")
async def audit_log(
    state: StateDep,
    _: AdminId,
    cursor: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JsonResponse:
    with store_unavailable_as("BE-DEP-503", "database"):
        items = await audit.page(state.pool, cursor, limit)
    next_cursor = items[-1]["id"] if len(items) == limit else None
    return JsonResponse({"items": items, "nextCursor": next_cursor})


# -- dead letters -----------------------------------------------------------------------

EntryId = Annotated[str, PathParam(pattern=r"^\d{1,20}-\d{1,20}$")]


class DeadLetterAction(Strict):
    reason: str | None = Field(default=None, max_length=500)


@admin.get("/dlq")
async def dead_letters(
    state: StateDep,
    _: AdminId,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,20}-\d{1,20}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JsonResponse:
    with store_unavailable_as("BE-DEP-503", "queue store"):
        return JsonResponse(await dlq.page(state.redis, cursor, limit))


@admin.get("/dlq/{entry_id}")
async def dead_letter(entry_id: EntryId, state: StateDep, _: AdminId) -> JsonResponse:
    with store_unavailable_as("BE-DEP-503", "queue store"):
        found = await dlq.one(state.redis, entry_id)
    if found is None:
        raise NotFound("no such dead letter (replayed or discarded?)", code="BE-DLQ-404")
    return JsonResponse(found)


async def _settle(
    state: State, entry_id: str, settle: Callable[[dict[str, str]], Awaitable[T]]
) -> tuple[dict[str, str], T] | None:
    """Take the entry off the dead-letter stream and ``settle`` its task in PostgreSQL
    (its fields and what that returned); None when it was already handled. A failure
    puts the entry back."""
    with store_unavailable_as("BE-DEP-503", "queue store"):
        fields = await dlq.take(state.redis, entry_id)
    if fields is None:
        return None
    try:
        with store_unavailable_as("BE-DEP-503", "database"):
            return fields, await settle(fields)
    except BaseException:
        await dlq.put_back(state.redis, fields)
        raise


async def _replay_one(
    state: State, entry_id: str, actor: str, reason: str | None
) -> dict[str, Any]:
    token, token_hash = new_job_token()
    settled = await _settle(
        state,
        entry_id,
        lambda fields: dlq.requeue(state.pool, entry_id, fields, token_hash, actor, reason),
    )
    if settled is None:
        return {"entryId": entry_id, "replayed": False, "why": "already handled"}
    task = settled[1]
    if task is None:
        return {"entryId": entry_id, "replayed": False, "why": "task has a verdict"}
    with store_unavailable_as("BE-DEP-503", "queue store"):
        await dlq.forget_final_event(state.redis, task.user_id, task.task_id)
    # Refused (busy, ai_service down): the task stays queued with its new token, and the
    # sweeper enqueues it once it counts as lost, as for any lost job.
    await enqueue_job(state.jobs, task, token, state.settings.callback_url)
    return {"entryId": entry_id, "replayed": True, "taskId": task.task_id}


async def _discard_one(
    state: State, entry_id: str, actor: str, reason: str | None
) -> dict[str, Any]:
    settled = await _settle(
        state, entry_id, lambda fields: dlq.discard(state.pool, entry_id, fields, actor, reason)
    )
    if settled is None:
        return {"entryId": entry_id, "discarded": False, "why": "already handled"}
    fields, done = settled
    if done:
        with store_unavailable_as("BE-DEP-503", "queue store"):
            await dlq.forget_final_event(state.redis, fields["userId"], fields["taskId"])
    return {"entryId": entry_id, "discarded": done, "taskId": fields["taskId"]}


@admin.post("/dlq/{entry_id}/replay")
async def replay(
    entry_id: EntryId, body: DeadLetterAction, state: StateDep, actor: AdminId
) -> JsonResponse:
    """Run the job again under a new job_token; the user gets its one new final event."""
    return JsonResponse(await _replay_one(state, entry_id, actor, body.reason))


@admin.delete("/dlq/{entry_id}")
async def discard(
    entry_id: EntryId,
    state: StateDep,
    actor: AdminId,
    reason: Annotated[str | None, Query(max_length=500)] = None,
) -> JsonResponse:
    """Give up on the job: the task fails as OPS-DISCARDED and its user is told."""
    return JsonResponse(await _discard_one(state, entry_id, actor, reason))


class DeadLetterFilter(Strict):
    """Which dead letters a bulk action takes: all of them when no field is given."""

    errorCode: str | None = Field(default=None, max_length=64)
    olderThanS: float | None = Field(default=None, ge=0)
    newerThanS: float | None = Field(default=None, ge=0)
    limit: int = Field(default=100, ge=1, le=1000)
    reason: str | None = Field(default=None, max_length=500)


async def _bulk(
    state: State,
    body: DeadLetterFilter,
    act: Callable[[State, str, str, str | None], Awaitable[dict[str, Any]]],
    actor: str,
) -> JsonResponse:
    """Apply ``act`` to each matching entry, oldest first; each is idempotent on its own,
    so a bulk action repeated (or racing another) does every entry once."""
    with store_unavailable_as("BE-DEP-503", "queue store"):
        matching = await dlq.matching(
            state.redis, body.errorCode, body.olderThanS, body.newerThanS, body.limit
        )
    items = [await act(state, entry_id, actor, body.reason) for entry_id in matching]
    return JsonResponse({"matched": len(matching), "items": items})


@admin.post("/dlq/replay")
async def replay_many(body: DeadLetterFilter, state: StateDep, actor: AdminId) -> JsonResponse:
    return await _bulk(state, body, _replay_one, actor)


@admin.post("/dlq/discard")
async def discard_many(body: DeadLetterFilter, state: StateDep, actor: AdminId) -> JsonResponse:
    return await _bulk(state, body, _discard_one, actor)


# -- tasks ------------------------------------------------------------------------------

TASK_ID = r"^[0-9A-Za-z]{1,64}$"


@admin.get("/tasks")
async def find_tasks(
    state: StateDep,
    _: AdminId,
    status: Annotated[Literal["queued", "done", "failed"] | None, Query()] = None,
    user: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query()] = None,
    cursor: Annotated[str | None, Query(pattern=TASK_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> JsonResponse:
    with store_unavailable_as("BE-DEP-503", "database"):
        items = await tasks.find(
            state.pool, status=status, user_id=user, since=since, before_id=cursor, limit=limit
        )
    next_cursor = items[-1]["taskId"] if len(items) == limit else None
    return JsonResponse({"items": items, "nextCursor": next_cursor})


@admin.post("/tasks/{task_id}/retry")
async def retry_task(
    task_id: Annotated[str, PathParam(pattern=TASK_ID)],
    body: DeadLetterAction,
    state: StateDep,
    actor: AdminId,
) -> JsonResponse:
    """Run a failed task again under a new job_token (stage ``replayed``); audited."""
    token, token_hash = new_job_token()
    with store_unavailable_as("BE-DEP-503", "database"):
        async with state.pool.acquire() as conn, conn.transaction():
            task = await tasks.requeue_replayed(conn, task_id, token_hash, None, failed_only=True)
            if task is not None:
                await audit.record(
                    conn,
                    actor=actor,
                    action="task.retry",
                    target=f"task:{task_id}",
                    before={"status": "failed"},
                    after={"status": "queued"},
                    reason=body.reason,
                )
    if task is None:
        return JsonResponse({"taskId": task_id, "retried": False, "why": "not a failed task"})
    with store_unavailable_as("BE-DEP-503", "queue store"):
        await dlq.forget_final_event(state.redis, task.user_id, task.task_id)
    await enqueue_job(state.jobs, task, token, state.settings.callback_url)
    return JsonResponse({"taskId": task_id, "retried": True})


# -- workers ----------------------------------------------------------------------------


class WorkersChange(Strict):
    paused: bool
    reason: str | None = Field(default=None, max_length=500)


@admin.post("/workers")
async def set_workers(body: WorkersChange, state: StateDep, actor: AdminId) -> JsonResponse:
    """Stop every worker from reading new jobs (they finish what they hold), or let them
    read again; audited."""
    at = datetime.now(UTC).isoformat(timespec="seconds")
    with store_unavailable_as("BE-DEP-503", "queue store"):
        before = await state.redis.hget(keys.WORKERS, "paused") == "1"
        await state.redis.hset(
            keys.WORKERS, mapping={"paused": "1" if body.paused else "0", "by": actor, "at": at}
        )
    await _audit_pause(
        state,
        "workers",
        body.paused,
        body.reason,
        actor,
        {"paused": before},
        {"paused": body.paused},
    )
    return JsonResponse({"paused": body.paused, "by": actor, "at": at})
