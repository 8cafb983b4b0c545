"""Is this worker healthy? Read by the metrics thread (``/readyz`` on its metrics port).

A stuck worker must not look healthy: its loop beats every second and its lease keeper
reports each renewal; readiness fails when either goes quiet for too long, or before the
worker has joined its group.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from shared.metrics import WORKER_BATCH_SIZE, WORKER_QUEUE_WAIT
from shared.stream_figures import entry_ms

from .types import Item

BEAT_S = 1.0
# The loop may block this long (a slow Redis call, a GC pause) before it counts as stalled.
LOOP_STALL_S = 10.0


class WorkerHealth:
    """Written by the event loop, read by the metrics thread (plain float stores)."""

    def __init__(self, lease_s: float) -> None:
        self._lease_s = lease_s
        self._joined = False
        self._loop_beat: float | None = None
        self._lease_kept: float | None = None

    def joined(self) -> None:
        self._joined = True
        self._lease_kept = time.monotonic()

    def lease_kept(self) -> None:
        self._lease_kept = time.monotonic()

    async def beat(self) -> None:
        """The loop's heartbeat: runs for the worker's lifetime."""
        while True:
            self._loop_beat = time.monotonic()
            await asyncio.sleep(BEAT_S)

    def readiness(self) -> tuple[bool, str]:
        now = time.monotonic()
        if not self._joined or self._loop_beat is None:
            return False, "loading the model or joining the group"
        if (stalled := now - self._loop_beat) > LOOP_STALL_S:
            return False, f"event loop stalled for {stalled:.0f}s"
        if self._lease_kept is not None and (quiet := now - self._lease_kept) > self._lease_s:
            return False, f"no lease upkeep for {quiet:.0f}s (lease {self._lease_s:g}s)"
        return True, ""


def observe_batch_start(items: Iterable[Item]) -> None:
    """Batch size, and each job's wait from enqueue (its stream id's millisecond time)
    to this start."""
    now_ms = time.time() * 1000
    count = 0
    for item in items:
        count += 1
        WORKER_QUEUE_WAIT.observe(max(0.0, now_ms - entry_ms(item.entry_id)) / 1000)
    WORKER_BATCH_SIZE.observe(count)
