"""Calls to another service that arrive while one is in flight go together in the next.

Under load every submit made its own internal request to ratelimit_service and to
ai_service, and each request's fixed cost (HTTP, signature, routing, validation) was
most of what those services spent per task. A ``Coalescer`` keeps one batch request in
flight; the calls that arrive meanwhile wait for it to return and then go in one
request. Idle, a call goes out at once (no timer, no added latency); under load the
batches grow with the load. Written here rather than taken from a DataLoader library:
those batch per event-loop tick, which at c=1 adds nothing and at c=64 yields batches
of one or two, and the rule is a dozen lines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# One batch request's answer: a result or the error of each item, in order.
BatchSender = Callable[[list[Item]], Awaitable[Sequence[Result | Exception]]]


class Coalescer(Generic[Item, Result]):
    def __init__(self, send: BatchSender[Item, Result], *, max_batch: int, name: str) -> None:
        self._send = send
        self._max_batch = max_batch
        self._name = name
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def call(self, item: Item) -> Result:
        """Send ``item`` in the next batch and return its result (or raise its error).

        A caller cancelled while its batch is out does not recall the item: as with a
        request of its own already sent, the other service may act on it."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._sender is None or self._sender.done():
            # The sender runs in this caller's context: the batch request's span is a
            # child of the call that started it.
            self._sender = asyncio.create_task(self._send_waiting(), name=self._name)
        return await future

    async def _send_waiting(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._waiting:
                batch = [(i, f) for i, f in self._waiting[: self._max_batch] if not f.done()]
                del self._waiting[: self._max_batch]
                if batch:
                    await self._send_batch(batch)
        finally:  # cancelled (shutdown): nobody may wait forever
            for _, future in [*batch, *self._waiting]:
                if not future.done():
                    future.cancel()

    async def _send_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results: Sequence[Result | Exception] = await self._send([i for i, _ in batch])
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
        """Let the batch in flight, and those waiting, finish (at shutdown)."""
        if self._sender is not None:
            await asyncio.shield(self._sender)
