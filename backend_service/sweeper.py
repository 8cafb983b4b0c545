"""Re-enqueue accepted tasks whose job Redis lost; finish followers whose leader is done.

PostgreSQL is the source of truth for tasks. A job lives in ``stream:ai:jobs`` from
XADD until a worker acknowledges it (XACK+XDEL, after the result receiver stored the
outcome), so a task row that is still ``queued`` long after it was accepted, and owns a
job (it is not a follower), must have its taskId in the stream. If Redis lost the entry
(a crash without fsync, a failover to a lagging replica, FLUSHALL), the sweeper gives
the row a new job_token and enqueues a fresh job for it. The new token makes any zombie
callback of the lost job be refused (403), so only the new job's result counts.

The sweep, every ``BACKEND_SWEEP_INTERVAL_S`` seconds, in at most one backend instance
at a time (a transaction-scoped PostgreSQL advisory lock):

1. PostgreSQL: queued leaders (``joined_task_id IS NULL``, with a token) created and last
   touched more than ``BACKEND_SWEEP_AFTER_S`` ago, oldest first. None: no Redis work.
2. Redis: the taskIds now in the stream (XRANGE in pages); those tasks are fine.
3. Each missing one, in a transaction: compare-and-set its token hash (no-op if the
   task finished or was swept meanwhile), restore its lead of the text
   (``inflight:<textHash>``, which Redis lost with the job) so that new submissions of
   the text join the new job instead of starting a second run, POST the job to
   ai_service, commit. A refused POST rolls back and ends this round; the next interval
   tries again.

It also finishes orphaned followers: queued rows that joined a leader which has been
done or failed for longer than the threshold get the leader's outcome, and in the same
transaction an outbox row for their user's event (``shared.events``), which
result_receiver's relay pushes. Every error is logged and the sweep runs again next
interval. The statements are ``shared.tasks``.
"""

from __future__ import annotations

import logging
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from shared import events, keys, tasks
from shared.errors import SatyaError
from shared.http import InternalClient
from shared.metrics import SWEEPER_REQUEUED
from shared.periodic import Periodic
from shared.tasks import NewTask

from .enqueue import enqueue_job, new_job_token, take_lead

log = logging.getLogger(__name__)

# Arbitrary constant shared by every backend instance of one database.
SWEEP_LOCK_ID = 0x5A7A_5EE9
_XRANGE_PAGE = 1000


@dataclass(slots=True)
class SweepReport:
    """What one sweep did. ``locked_out``: another instance was sweeping; nothing done."""

    locked_out: bool = False
    candidates: int = 0  # old queued leaders looked at
    in_stream: int = 0  # of those, jobs still in the stream (fine)
    requeued: list[str] = field(default_factory=list)
    finished_meanwhile: int = 0  # became final (or were re-tokened) before we got to them
    enqueue_error: str | None = None  # why re-enqueueing stopped early, if it did
    followers_finished: list[str] = field(default_factory=list)


async def _stream_task_ids(redis: aioredis.Redis) -> set[str]:
    """taskIds of every entry now in the job stream (it holds unfinished jobs only)."""
    found: set[str] = set()
    start = "-"
    while True:
        # Any: redis-py types replies as bytes | str; decode_responses makes them str.
        page: Any = await redis.xrange(keys.JOB_STREAM, min=start, max="+", count=_XRANGE_PAGE)
        for entry_id, fields in page:
            task_id = (fields or {}).get("taskId")
            if task_id:
                found.add(str(task_id))
            start = f"({entry_id}"
        if len(page) < _XRANGE_PAGE:
            return found


async def _restore_lead(redis: aioredis.Redis, task: NewTask, ttl_s: int) -> None:
    """Make ``task`` lead its text again, unless another task leads it now.

    Another leader is left alone: it took the lead (SET NX) after Redis lost this one, and
    a task that takes the lead runs its own job, so later submissions join a real job;
    this task's job still finishes it and the followers that joined it before the loss.
    A RedisError rolls the new token back and fails the round; the next one retries.
    """
    if await take_lead(redis, task, ttl_s) == task.task_id:
        # The lead survived (only the job was lost): give it the new job's full lifetime.
        await redis.expire(keys.inflight_text(task.text_hash), ttl_s)


async def _finish_orphans(
    conn: asyncpg.Connection, older_than_s: float, batch: int, report: SweepReport
) -> None:
    # The rows and their users' events commit together; the relay pushes the events.
    async with conn.transaction():
        finished = await tasks.finish_orphans(conn, older_than_s, batch)
        entries = [events.notify_entry(f.task_id, f.user_id, f.event) for f in finished]
        await events.write(conn, entries)
    report.followers_finished = [f.task_id for f in finished]


@dataclass(slots=True, eq=False)
class Sweeper:
    """Runs ``sweep_once`` every ``interval_s`` (with jitter) until stopped."""

    pool: asyncpg.Pool
    redis: aioredis.Redis
    ai_client: InternalClient
    _: KW_ONLY
    callback_url: str
    older_than_s: float
    inflight_ttl_s: int
    batch: int = 500
    _rounds: Periodic = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rounds = Periodic("task-sweeper", self.sweep_once)

    def start(self, interval_s: float) -> None:
        self._rounds.start(interval_s)

    async def stop(self) -> None:
        await self._rounds.stop()

    async def sweep_once(self) -> SweepReport:
        """One sweep (see the module docstring); raises on Redis/PostgreSQL errors."""
        report = SweepReport()
        # The lock lives as long as a transaction held open on a connection of its own:
        # transaction-scoped, so it also holds behind a transaction pooler (pgbouncer)
        # and is gone with the transaction, whatever happens to this process.
        async with self.pool.acquire() as lock, lock.transaction():
            if not await lock.fetchval("SELECT pg_try_advisory_xact_lock($1)", SWEEP_LOCK_ID):
                report.locked_out = True
                return report
            async with self.pool.acquire() as conn:
                await self._requeue_lost(conn, report)
                await _finish_orphans(conn, self.older_than_s, self.batch, report)
        SWEEPER_REQUEUED.inc(len(report.requeued))
        if report.requeued or report.followers_finished or report.enqueue_error:
            log.warning(
                "sweep: %d old queued task(s), %d still in the stream, %d re-enqueued, "
                "%d finished meanwhile, %d orphaned follower(s) finished%s",
                report.candidates, report.in_stream, len(report.requeued),
                report.finished_meanwhile, len(report.followers_finished),
                f"; re-enqueue stopped: {report.enqueue_error}" if report.enqueue_error else "",
            )  # fmt: skip
        return report

    async def _requeue_lost(self, conn: asyncpg.Connection, report: SweepReport) -> None:
        lost = await tasks.lost_candidates(conn, self.older_than_s, self.batch)
        report.candidates = len(lost)
        if not lost:
            return
        present = await _stream_task_ids(self.redis)
        for candidate in lost:
            task = candidate.task
            if task.task_id in present:
                report.in_stream += 1
                continue
            token, token_hash = new_job_token()
            try:
                async with conn.transaction():
                    if await tasks.renew_token(
                        conn, task.task_id, candidate.job_token_hash, token_hash
                    ):
                        # Before the job exists, so no submission in between starts a
                        # second run. The row stays locked and queued until commit, so no
                        # outcome of this task (which releases the lead) can come in
                        # between. If the POST is refused the lead stays: the task is
                        # still a queued leader, so the next round enqueues it and
                        # whoever joined meanwhile gets its outcome.
                        await _restore_lead(self.redis, task, self.inflight_ttl_s)
                        await enqueue_job(self.ai_client, task, token, self.callback_url)
                        report.requeued.append(task.task_id)
                    else:
                        report.finished_meanwhile += 1
            except SatyaError as exc:
                # ai_service down or full: the token change rolled back; retry next round.
                report.enqueue_error = f"{exc.error_code}: {exc.message}"
                return
