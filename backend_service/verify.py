"""The submit path: hash, cache, task row, enqueue (spec, "Backend Service")."""

from __future__ import annotations

import logging
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from ulid import ULID

from shared.errors import SatyaError, store_unavailable_as
from shared.hashing import summary_hash, text_hash
from shared.metrics import CACHE_LOOKUPS, TASKS
from shared.result_cache import ResultCache
from shared.schemas import TextVerdict
from shared.tasks import NewTask

from .enqueue import JobSender, enqueue_job, new_job_token, take_lead
from .intake import Intake, IntakePaused
from .queued_stages import QueuedStages
from .tasks import TaskRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Submitted:
    task_id: str
    cached: TextVerdict | None  # a cache hit's verdict, with its per-claim verdicts


@dataclass(frozen=True, slots=True, eq=False)
class Verifier:
    tasks: TaskRepository
    cache: ResultCache
    jobs: JobSender
    callback_url: str
    queued_stages: QueuedStages
    _: KW_ONLY
    redis: aioredis.Redis
    intake: Intake | None = None
    inflight_ttl_s: int = 3600

    async def submit(self, user_id: str, text: str) -> Submitted:
        task = NewTask(
            task_id=str(ULID()),
            user_id=user_id,
            text_hash=text_hash(text),
            summary_hash=summary_hash(text),
            payload=text,
        )
        with store_unavailable_as("BE-DEP-503", "cache"):
            hit = await self.cache.lookup(task.text_hash, task.summary_hash)
        CACHE_LOOKUPS.labels("miss" if hit is None else "hit").inc()
        with store_unavailable_as("BE-DEP-503", "database"):
            if hit is not None:
                await self.tasks.create_cached(task, hit)
                TASKS.labels("cached").inc()
                return Submitted(task.task_id, hit)
        if self.intake is not None:
            try:
                await self.intake.ensure_open()  # paused: cache hits only
            except IntakePaused:
                TASKS.labels("refused").inc()
                raise
        with store_unavailable_as("BE-DEP-503", "database"):
            job_token, token_hash = new_job_token()
            await self.tasks.create_queued(task, token_hash)
        if await self._join_running_job(task):
            TASKS.labels("joined").inc()
        else:
            await self._enqueue(task, job_token)
            TASKS.labels("accepted").inc()
        return Submitted(task.task_id, None)

    async def _join_running_job(self, task: NewTask) -> bool:
        """Join the job already verifying this text, if any (one model run per text).

        The row is written first so a follower never points at a missing leader; the
        lead is taken with one ``SET NX GET``. When in doubt (Redis unreachable, the
        leader just finished) the task runs its own job: a duplicate run, never a lost one.
        """
        try:
            leader = await take_lead(self.redis, task, self.inflight_ttl_s)
        except RedisError:
            return False
        if leader is None or leader == task.task_id:
            return False
        # On failure the row stays queued with its own token; the sweeper enqueues it later.
        with store_unavailable_as("BE-DEP-503", "database"):
            return await self.tasks.join(task.task_id, leader)

    async def _enqueue(self, task: NewTask, job_token: str) -> None:
        at = datetime.now(UTC)
        try:
            await enqueue_job(self.jobs, task, job_token, self.callback_url)
        except SatyaError as exc:
            # The row must not stay 'queued' for a job that never reached the stream.
            await self.tasks.mark_failed(task.task_id, exc.error_code, exc.message)
            TASKS.labels("refused").inc()
            raise
        self.queued_stages.note(task.task_id, at)
