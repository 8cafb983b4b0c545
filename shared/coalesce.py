"""Calls to another service that arrive while one is in flight go together in the next.

Under load every submit made its own internal request to ratelimit_service and to
ai_service, and each request's fixed cost (HTTP, signature, routing, validation) was
most of what those services spent per task. A ``Coalescer`` sends the calls that arrive
while a batch request is out together, when it returns. Idle, a call goes out at once
(no timer, no added latency); under load the batches grow with the load. A full batch
goes out at once too, whatever is in flight, so an upstream that hangs keeps each call
waiting at most about two of its timeouts (the batch ahead, then its own), never in a
line of batches. Written here rather than taken from a DataLoader library: those batch
per event-loop tick, which at c=64 yields batches of one or two.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from prometheus_client import Histogram

from .metrics import INTERNAL_BATCH_SIZE

Item = TypeVar("Item")
Result = TypeVar("Result")

# One batch request's answer: a result or the error of each item, in order.
BatchSender = Callable[[list[Item]], Awaitable[Sequence[Result | Exception]]]
_Batch = list[tuple[Item, "asyncio.Future[Result]"]]


class Coalescer(Generic[Item, Result]):
    def __init__(
        self,
        send: BatchSender[Item, Result],
        *,
        max_batch: int,
        name: str,
        timed_as: tuple[str, str] | None = None,
    ) -> None:
        """``timed_as``: (this service, the upstream) labels of the batch-size metric."""
        self._send = send
        self._max_batch = max_batch
        self._name = name
        self._sizes: Histogram | None = INTERNAL_BATCH_SIZE.labels(*timed_as) if timed_as else None
        self._waiting: _Batch[Item, Result] = []
        self._in_flight: set[asyncio.Task[None]] = set()

    async def call(self, item: Item) -> Result:
        """Send ``item`` in the next batch and return its result (or raise its error).

        A caller cancelled while its batch is out does not recall the item: as with a
        request of its own already sent, the other service may act on it."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if not self._in_flight or len(self._waiting) >= self._max_batch:
            self._send_next()
        return await future

    def _send_next(self) -> None:
        batch = [(item, f) for item, f in self._waiting[: self._max_batch] if not f.done()]
        del self._waiting[: self._max_batch]
        if batch:
            if self._sizes is not None:
                self._sizes.observe(len(batch))
            # In the context of the call that starts it: the batch request's span is a
            # child of that call's.
            task = asyncio.create_task(self._send_batch(batch), name=self._name)
            self._in_flight.add(task)
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if self._waiting:
            self._send_next()

    async def _send_batch(self, batch: _Batch[Item, Result]) -> None:
        try:
            results: Sequence[Result | Exception] = await self._send([i for i, _ in batch])
        except asyncio.CancelledError:  # shutdown: nobody may wait forever
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # the whole request failed: so did each of its items
            results = [exc] * len(batch)
        if len(results) != len(batch):
            mismatch = RuntimeError(f"{self._name}: {len(results)} answers to {len(batch)}")
            results = [mismatch] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller was cancelled
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def aclose(self) -> None:
        """Let the batches in flight, and those waiting, finish (at shutdown)."""
        while self._in_flight:
            await asyncio.wait(list(self._in_flight))
