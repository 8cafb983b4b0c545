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
3. Each missing one, in a transaction that locks its row (skipped if the task finished
   or was swept meanwhile), without a second model run for its text where one can be
   avoided (the promise that one claim is never paid for twice):
   - its text has a cached verdict (another task of the same text finished meanwhile,
     typically the one its user submitted again when the backend died under the first
     request): the task and its followers take that verdict, as a cache hit does;
   - another task now leads its text (``inflight:<textHash>``): the task and its
     followers join that task's job;
   - else it gets a new token, leads its text again (the lead was lost with the job)
     so that new submissions join the new job, and its job is POSTed to ai_service.
   Commit. A refused POST rolls back and ends this round; the next interval tries again.

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
from shared.metrics import SWEEPER_REQUEUED, SWEEPER_SETTLED
from shared.periodic import Periodic
from shared.result_cache import ResultCache
from shared.schemas import TextVerdict
from shared.tasks import LostTask

from .enqueue import JobSender, enqueue_job, new_job_token, take_lead

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
    from_cache: list[str] = field(default_factory=list)  # took their text's cached verdict
    joined: list[str] = field(default_factory=list)  # followed the job now verifying their text
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
    jobs: JobSender
    cache: ResultCache
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
        SWEEPER_SETTLED.labels("cache").inc(len(report.from_cache))
        SWEEPER_SETTLED.labels("joined").inc(len(report.joined))
        if report.candidates > report.in_stream or report.followers_finished:
            log.warning(
                "sweep: %d old queued task(s), %d still in the stream, %d re-enqueued, "
                "%d finished from the cache, %d joined a running job, %d finished meanwhile, "
                "%d orphaned follower(s) finished%s",
                report.candidates, report.in_stream, len(report.requeued),
                len(report.from_cache), len(report.joined), report.finished_meanwhile,
                len(report.followers_finished),
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
            if candidate.task.task_id in present:
                report.in_stream += 1
                continue
            try:
                async with conn.transaction():
                    await self._recover(conn, candidate, report)
            except SatyaError as exc:
                # ai_service down or full: the token change rolled back; retry next round.
                report.enqueue_error = f"{exc.error_code}: {exc.message}"
                return

    async def _recover(
        self, conn: asyncpg.Connection, candidate: LostTask, report: SweepReport
    ) -> None:
        """One lost leader, inside the caller's transaction (see the module docstring)."""
        task = candidate.task
        # Locked and queued until commit: no outcome of this task (which releases the
        # lead) can come in between.
        if not await tasks.lock_lost(conn, task.task_id, candidate.job_token_hash):
            report.finished_meanwhile += 1
            return
        # A RedisError from here on rolls back and fails the round; the next one retries.
        verdict = await self.cache.lookup(task.text_hash, task.summary_hash)
        if verdict is None:
            # Taken before any new job exists, so no submission in between starts a
            # second run. If the POST below is refused the lead stays: the task is still
            # a queued leader, so the next round enqueues it and whoever joined meanwhile
            # gets its outcome.
            holder = await take_lead(self.redis, task, self.inflight_ttl_s)
            if holder == task.task_id:
                # Only the job was lost: the lead lasts as long as the new job may.
                await self.redis.expire(keys.inflight_text(task.text_hash), self.inflight_ttl_s)
            elif holder is not None:
                if await tasks.join_lost(conn, task.task_id, holder):
                    report.joined.append(task.task_id)
                    return
                # That leader has just finished: its verdict is likely cached by now.
                verdict = await self.cache.lookup(task.text_hash, task.summary_hash)
        if verdict is not None:
            await self._finish_cached(conn, candidate, verdict)
            report.from_cache.append(task.task_id)
            return
        token, token_hash = new_job_token()
        await tasks.renew_token(conn, task.task_id, candidate.job_token_hash, token_hash)
        await enqueue_job(self.jobs, task, token, self.callback_url)
        report.requeued.append(task.task_id)

    async def _finish_cached(
        self, conn: asyncpg.Connection, candidate: LostTask, verdict: TextVerdict
    ) -> None:
        """The task and its followers take ``verdict``; their users' events commit with
        them (result_receiver's relay pushes them)."""
        finished = await tasks.finish_cached(
            conn, candidate.task.task_id, candidate.job_token_hash, verdict
        )
        owners = [(candidate.task.task_id, candidate.task.user_id), *finished.followers]
        entries = [
            events.notify_entry(task_id, user, events.result_event(task_id, verdict, cached=True))
            for task_id, user in owners
        ]
        await events.write(conn, entries)
