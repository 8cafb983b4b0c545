"""Progress reports: tell result_receiver when a job starts or will be retried, so the
task records the stage and its user sees it move (jobs run minutes on a GPU).

Best effort and off the job's path: reports go out on tasks of their own, through the
callback sender's batching and retries, to ``/ai-progress`` next to the callback URL;
a lost report costs a stage, never a result.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Literal

from redis.exceptions import RedisError

from shared.schemas import CallbackProgress

from .callback import CallbackSender
from .queue import JobQueue
from .types import Item

log = logging.getLogger(__name__)

CALLBACK_PATH = "/ai-callback"
PROGRESS_PATH = "/ai-progress"

Stage = Literal["started", "retried"]


def progress_url(callback_url: str) -> str | None:
    """``…/ai-callback`` -> ``…/ai-progress``; None for another callback URL (then the
    receiver is not ours and nobody listens)."""
    if not callback_url.endswith(CALLBACK_PATH):
        return None
    return callback_url[: -len(CALLBACK_PATH)] + PROGRESS_PATH


class ProgressReporter:
    def __init__(
        self, sender: CallbackSender, queue: JobQueue, worker_id: str, after_s: float = 1.0
    ) -> None:
        self._sender = sender
        self._queue = queue
        self._worker_id = worker_id[:128]
        self._after_s = after_s
        self._reports: set[asyncio.Task[None]] = set()

    def started(self, items: list[Item]) -> asyncio.TimerHandle:
        """The model is about to run these (attempt = the entry's delivery count): they
        are reported once they have run ``after_s``. Cancel the handle when the batch
        ends: sooner, nothing is sent; later, it changes nothing."""
        return asyncio.get_running_loop().call_later(
            self._after_s, lambda: self._spawn(self._started(items))
        )

    def retried(self, item: Item, attempt: int, reason: str) -> None:
        """Attempt ``attempt`` failed with ``reason`` and the job will run again."""
        self._spawn(self._send(item, "retried", attempt, reason))

    async def close(self) -> None:
        for report in self._reports:
            report.cancel()
        await asyncio.gather(*self._reports, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)
        return task

    async def _started(self, items: list[Item]) -> None:
        try:
            counts = await self._queue.delivery_counts([item.entry_id for item in items])
        except RedisError as exc:
            log.info("no progress reports for %d jobs (%s)", len(items), exc)
            return
        await asyncio.gather(
            *(self._send(item, "started", max(1, counts.get(item.entry_id, 1))) for item in items)
        )

    async def _send(
        self, item: Item, stage: Stage, attempt: int, reason: str | None = None
    ) -> None:
        url = progress_url(item.job.callback_url)
        if url is None:
            return
        report = CallbackProgress(
            taskId=item.job.taskId,
            job_token=item.job.job_token,
            stage=stage,
            attempt=attempt,
            workerId=self._worker_id,
            reason=reason,
        )
        try:
            await self._sender.send(url, report)
        except Exception as exc:  # best effort: a report never fails a job
            log.info("progress report for task %s not sent (%s)", item.job.taskId, exc)
