"""Enqueueing jobs on ``stream:ai:jobs``. The stream is never trimmed: an entry leaves
only when a worker has acknowledged it."""

from __future__ import annotations

import redis.asyncio as aioredis

from shared import keys
from shared.schemas import Job


class JobQueue:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client

    async def enqueue(self, job: Job) -> str:
        fields = {name: str(value) for name, value in job.model_dump().items()}
        entry_id = await self._client.xadd(keys.JOB_STREAM, fields)  # type: ignore[arg-type]
        return str(entry_id)
