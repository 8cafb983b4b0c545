"""Tasks' ``queued`` stages, written a batch at a time.

Every accepted text used to pay an UPDATE of its own (a PostgreSQL round trip and a
commit) for the stage that says its job reached the stream. The stage is a record, not
a state: the job is on the stream whatever becomes of it (see ``Verifier._enqueue``), so
the submit does not wait for it. Stages noted while one statement runs go together in
the next: one commit for many tasks under load, and no delay when idle (a write starts
as soon as the one before ends). Written here rather than with a batching library: the
rule is five lines and has to keep the pool's own back-pressure (one write in flight).
A crash loses the stages of at most one batch, as a failed UPDATE lost one before.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import asyncpg

from shared import tasks

log = logging.getLogger(__name__)

MAX_BATCH = 1000


class QueuedStages:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._waiting: list[tuple[str, datetime]] = []
        self._writer: asyncio.Task[None] | None = None

    def note(self, task_id: str, at: datetime) -> None:
        """Record that ``task_id``'s job is on the stream since ``at`` (soon, not now)."""
        self._waiting.append((task_id, at))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="queued-stages")

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                await tasks.mark_queued(self._pool, batch)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                # The jobs are on the stream and their tasks will finish; only the stage
                # is lost.
                log.warning("queued stage of %d task(s) not recorded (%s)", len(batch), exc)

    async def aclose(self) -> None:
        """Write what is noted (at shutdown, before the pool closes)."""
        if self._writer is not None:
            await self._writer
