"""``DELETE /v1/tasks/{id}``: the owner cancels a task that has not finished.

The task fails as ``TASK-CANCELLED`` and loses its job token, so whatever its job
yields later is refused; its owner is told once (through the outbox, in the same
transaction). A worker that has not started the job skips it (``cancelled:<taskId>``).
Tasks of other users that joined its job are not cancelled with it: the oldest of them
takes the job over and the rest follow that one.
"""

from __future__ import annotations

import logging

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from shared import events, keys, tasks
from shared.errors import Conflict, NotFound, SatyaError
from shared.events import FailedEvent
from shared.schemas import TaskPublic

from .enqueue import JobSender, enqueue_job, new_job_token

log = logging.getLogger(__name__)

CANCELLED = "TASK-CANCELLED"
MESSAGE = "cancelled by its owner"
# As long as a job can wait in the stream before a worker reads it.
SKIP_MARK_TTL_S = 24 * 3600


class NoSuchTask(NotFound, code="BE-TASK-404", message="no such task"): ...


class AlreadyFinished(Conflict, code="BE-TASK-409", message="the task has already finished"): ...


async def cancel_task(
    pool: asyncpg.Pool,
    redis: aioredis.Redis,
    jobs: JobSender,
    callback_url: str,
    task_id: str,
    user_id: str,
) -> TaskPublic:
    """The task as it is after cancelling (cancelling twice answers the same)."""
    token, token_hash = new_job_token()
    async with pool.acquire() as conn, conn.transaction():
        cancelled = await tasks.cancel(conn, task_id, user_id, CANCELLED, MESSAGE)
        heir = None
        if cancelled is not None:
            event = FailedEvent(taskId=task_id, errorCode=CANCELLED, message=MESSAGE)
            await events.write(conn, [events.notify_entry(task_id, user_id, event)])
            led, _ = cancelled
            heir = await tasks.hand_on_lead(conn, task_id, token_hash) if led else None
        task = await tasks.get_for_user(conn, task_id, user_id)
    if task is None:
        raise NoSuchTask()
    if cancelled is None:
        if task.error is not None and task.error.errorCode == CANCELLED:
            return task
        raise AlreadyFinished()
    await _tell_workers(redis, task_id)
    if heir is not None:
        await _hand_over(redis, jobs, callback_url, task_id, heir, token)
    return task


async def _tell_workers(redis: aioredis.Redis, task_id: str) -> None:
    try:
        await redis.set(keys.task_cancelled(task_id), b"1", ex=SKIP_MARK_TTL_S)
    except RedisError as exc:
        # The task is cancelled all the same: a worker runs the job and its result is
        # refused. Only the model time is lost.
        log.warning("task %s: could not tell workers it is cancelled (%s)", task_id, exc)


async def _hand_over(
    redis: aioredis.Redis,
    jobs: JobSender,
    callback_url: str,
    cancelled_id: str,
    heir: tasks.NewTask,
    token: str,
) -> None:
    """The heir leads the text from now on and gets a job of its own. Failing that it
    is a queued leader whose job is missing: the sweeper enqueues it."""
    lead = keys.inflight_text(heir.text_hash)
    try:
        if await redis.get(lead) == cancelled_id:
            await redis.set(lead, heir.task_id, xx=True, keepttl=True)
        await enqueue_job(jobs, heir, token, callback_url)
    except (RedisError, SatyaError) as exc:
        log.warning("task %s: its job waits for the sweeper (%s)", heir.task_id, exc)
