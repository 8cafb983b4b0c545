"""Enqueueing jobs on ``stream:ai:jobs``.

The stream is never trimmed: an entry leaves only when a worker has acknowledged it.
Instead, new jobs are refused (backpressure) while the backlog — entries not yet
delivered to any worker plus entries delivered but not acknowledged — is over a limit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from shared import keys, tracing
from shared.schemas import Job
from shared.stream_figures import backlog


class JobQueue:
    def __init__(self, client: aioredis.Redis, *, backlog_cache_s: float = 0.25) -> None:
        self._client = client
        # Reading the backlog costs a round trip; a quarter-second-old figure is plenty
        # for a limit in the thousands and keeps the submit path at one Redis call.
        self._backlog_cache_s = backlog_cache_s
        self._backlog = 0
        self._backlog_read_at = float("-inf")

    async def enqueue(self, job: Job) -> str:
        [entry_id] = await self.enqueue_many([(job, tracing.current_traceparent())])
        if isinstance(entry_id, Exception):
            raise entry_id
        return entry_id

    async def enqueue_many(self, jobs: Sequence[tuple[Job, str | None]]) -> list[str | Exception]:
        """Add each (job, the traceparent of the work that asked for it) in one round
        trip; in order, each one's stream entry id, or the error that kept it off the
        stream (the others are on it). Raises RedisError when none was added."""
        async with self._client.pipeline(transaction=False) as pipe:
            for job, traceparent in jobs:
                fields = {name: str(value) for name, value in job.model_dump().items()}
                if traceparent:
                    fields[tracing.TRACEPARENT] = traceparent  # next to the spec's fields
                pipe.xadd(keys.JOB_STREAM, fields)  # type: ignore[arg-type]
            replies = await pipe.execute(raise_on_error=False)
        self._backlog += len(jobs)
        if replies and all(isinstance(reply, Exception) for reply in replies):
            raise replies[0]
        return [reply if isinstance(reply, Exception) else str(reply) for reply in replies]

    async def backlog(self) -> int:
        now = time.monotonic()
        if now - self._backlog_read_at >= self._backlog_cache_s:
            self._backlog = await self._read_backlog()
            self._backlog_read_at = now
        return self._backlog

    async def _read_backlog(self) -> int:
        try:
            groups = await self._client.xinfo_groups(keys.JOB_STREAM)
        except ResponseError:  # no stream yet
            return 0
        group = next((g for g in groups if g["name"] == keys.WORKER_GROUP), None)
        knows_lag = group is not None and group.get("lag") is not None
        length = 0 if knows_lag else int(await self._client.xlen(keys.JOB_STREAM))
        return backlog(length, group)
